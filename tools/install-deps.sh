#!/bin/sh
# Installs the Debian 12 packages nextham needs to build, test and make
# reference data (run as root). Does nothing when all are present.
set -e
PKGS="build-essential gfortran autoconf automake libtool pkg-config
openmpi-bin libopenmpi-dev libopenblas-dev liblapack-dev
libscalapack-openmpi-dev libelpa-dev libpetsc-complex-dev libslepc-complex-dev
libhdf5-openmpi-dev hdf5-tools libxc-dev libcmocka-dev libsymspg-dev
python3-numpy python3-h5py python3-matplotlib gnuplot-nox xz-utils
cp2k cp2k-data"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
