# structio part of src/io (automake fragment, included by Makefile.am):
# structure readers and writers (POSCAR, extended XYZ, CP2K input).
libnextham_a_SOURCES += src/io/structio.c src/io/poscar.c src/io/xyz.c \
  src/io/cp2k_input.c
noinst_HEADERS += src/io/structioimpl.h
