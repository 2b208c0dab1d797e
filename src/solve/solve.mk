# solve module (automake fragment, included by Makefile.am). Shared by the
# dense part (first block) and the sparse part (second block).
# dense part: options, dispatch, bands, Bloch sums, ELPA / ScaLAPACK
libnextham_a_SOURCES += src/solve/solve.c src/solve/bloch_dense.c \
  src/solve/dense.c
nextham_include_HEADERS += include/nextham/solve.h
noinst_HEADERS += src/solve/denseimpl.h src/solve/scalapack.h
# sparse part: SLEPc path
libnextham_a_SOURCES += src/solve/bloch_petsc.c src/solve/sparse.c
noinst_HEADERS += src/solve/sparse.h src/solve/sparseimpl.h
