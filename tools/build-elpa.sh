#!/bin/sh
# Build recipe: ELPA 2022.11.001 with SIMD (SSE/AVX/AVX2/AVX-512) kernels,
# MPI, Debian's ScaLAPACK/LAPACK/BLAS, no GPU, no OpenMP, installed to PREFIX.
#
#   sh tools/build-elpa.sh PREFIX [WORKDIR]
#
# Debian's libelpa19 is built with --disable-sse ... --disable-avx512 (generic
# kernels only) so that the package runs on any x86-64; the SIMD kernels are
# what makes ELPA 2-stage beat pzhegvx (benchmarks/README.md, "Dense
# eigen-solvers"). Then configure nextham with the ELPA_CFLAGS/ELPA_LIBS lines
# this script prints at the end (README.md, "Cluster build").
#
# Environment:
#   ELPA_ARCH_FLAGS  compiler flags for the target CPU (default -march=native:
#                    build on the machine, or the node type, that runs it)
#   JOBS             make -j (default 1; ELPA's Fortran module dependencies
#                    have broken parallel builds in some releases, Debian
#                    builds with -j1)
#   ELPA_TARBALL     use this local tarball instead of downloading
set -eu

prefix=${1:?usage: sh tools/build-elpa.sh PREFIX [WORKDIR]}
work=${2:-${TMPDIR:-/tmp}/elpa-build}
version=2022.11.001
# SHA-256 of the release tarball as recorded in Debian's signed source package
# (elpa_2022.11.001-2+deb12u1.dsc, orig.tar.gz not repacked: no +dfsg suffix).
sha256=35e397d7c0af95bb43bc7bef7fff29425c1da400fa0cd86ae8d3bd2ff2f9d999
urls="https://elpa.mpcdf.mpg.de/software/tarball-archive/Releases/$version/elpa-$version.tar.gz
http://deb.debian.org/debian/pool/main/e/elpa/elpa_$version.orig.tar.gz"
arch=${ELPA_ARCH_FLAGS:--march=native}
jobs=${JOBS:-1}

mkdir -p "$work"
cd "$work"
tarball=$work/elpa-$version.tar.gz
if [ -n "${ELPA_TARBALL:-}" ]; then
  cp "$ELPA_TARBALL" "$tarball"
elif [ ! -s "$tarball" ]; then
  for u in $urls; do
    echo "build-elpa: downloading $u"
    curl -sSfL --retry 2 -o "$tarball.part" "$u" && mv "$tarball.part" "$tarball" && break
  done
fi
[ -s "$tarball" ] || { echo "build-elpa: could not download ELPA $version" >&2; exit 1; }
echo "$sha256  $tarball" | sha256sum -c - ||
  { echo "build-elpa: checksum mismatch for $tarball" >&2; exit 1; }

rm -rf "elpa-$version" build
tar xzf "$tarball"
mkdir build
cd build

# The AVX-512 and AVX2 kernels are C intrinsics compiled with CFLAGS: the
# architecture flags must enable them, or configure silently drops them.
# gfortran >= 10 needs -fallow-argument-mismatch for ELPA's MPI calls.
# Static libraries are skipped (halves the build time).
"../elpa-$version/configure" --prefix="$prefix" \
  CC=mpicc FC=mpif90 CXX=mpicxx \
  CFLAGS="-O3 $arch" FCFLAGS="-O3 $arch -fallow-argument-mismatch" \
  SCALAPACK_LDFLAGS="-lscalapack-openmpi -llapack -lblas" SCALAPACK_FCFLAGS="" \
  --with-mpi=yes --disable-openmp --disable-static \
  --disable-nvidia-gpu --disable-amd-gpu --disable-intel-gpu-sycl \
  --enable-sse --enable-sse-assembly --enable-avx --enable-avx2 --enable-avx512 \
  --disable-c-tests --disable-silent-rules

# configure must have kept the kernels this recipe is for.
for k in AVX2 AVX512; do
  grep -q "define WITH_COMPLEX_${k}_BLOCK1_KERNEL 1" config.h ||
    { echo "build-elpa: configure dropped the $k kernels (ELPA_ARCH_FLAGS='$arch')" >&2; exit 1; }
done

# `make all` would also link ELPA's ~1,300 test programs (noinst): build and
# install only the library, its headers, pkg-config file and
# elpa2_print_kernels.
make -j"$jobs" libelpa.la elpa2_print_kernels
make install-libLTLIBRARIES install-binPROGRAMS install-pkgconfigDATA \
  install-nobase_elpa_includeHEADERS install-nobase_nodist_elpa_includeHEADERS

# Same soname as Debian's libelpa.so.19: nextham must find this one first,
# hence the rpath in ELPA_LIBS.
inc=$(ls -d "$prefix"/include/elpa-*)
echo "build-elpa: installed in $prefix. Kernels:"
"$prefix/bin/elpa2_print_kernels" 2>/dev/null | sed -n '/complex/,$p' || true
cat <<EOF
build-elpa: configure nextham with
  ELPA_CFLAGS="-I$inc" ELPA_LIBS="-L$prefix/lib -Wl,-rpath,$prefix/lib -lelpa"
EOF
