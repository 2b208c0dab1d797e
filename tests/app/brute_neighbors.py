"""Average number of neighbours within a cutoff in a POSCAR (Direct) file,
by brute force over all image shifts in -2..2: the independent reference of
test_cli.sh. Usage: brute_neighbors.py FILE CUTOFF_ANGSTROM"""
import itertools
import math
import sys

lines = [l.split() for l in open(sys.argv[1])]
rcut = float(sys.argv[2])
scale = float(lines[1][0])
lat = [[scale * float(x) for x in lines[i]] for i in (2, 3, 4)]
natoms = sum(int(x) for x in lines[6])
frac = [[float(x) for x in l[:3]] for l in lines[8:8 + natoms]]
cart = [[sum(s[k] * lat[k][d] for k in range(3)) for d in range(3)] for s in frac]
count = 0
for i in range(natoms):
    for j in range(natoms):
        for m in itertools.product(range(-2, 3), repeat=3):
            if i == j and m == (0, 0, 0):
                continue
            d = [cart[j][x] + sum(m[k] * lat[k][x] for k in range(3)) - cart[i][x]
                 for x in range(3)]
            if math.sqrt(sum(v * v for v in d)) < rcut:
                count += 1
print("%.2f" % (count / natoms))
