# grid part of src/grid: the real-space grid integration of H0 (automake
# fragment, included by Makefile.am).
libnextham_a_SOURCES += src/grid/grid.c src/grid/batch.c src/grid/density.c \
  src/grid/xc.c src/grid/vmat.c src/grid/atomic.c
nextham_include_HEADERS += include/nextham/grid.h
noinst_HEADERS += src/grid/gridimpl.h
