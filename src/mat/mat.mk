# mat part of src/mat (automake fragment, included by Makefile.am)
libnextham_a_SOURCES += src/mat/mat.c src/mat/assemble.c src/mat/ops.c
nextham_include_HEADERS += include/nextham/mat.h
noinst_HEADERS += src/mat/matimpl.h
