# solve module (automake fragment, included by Makefile.am). Shared by the
# dense part and the sparse part.
# sparse part: SLEPc path
libnextham_a_SOURCES += src/solve/bloch_petsc.c src/solve/sparse.c
noinst_HEADERS += src/solve/sparse.h src/solve/sparseimpl.h
