# basis part of src/basis (automake fragment, included by Makefile.am)
libnextham_a_SOURCES += src/basis/basis.c src/basis/cp2kfile.c
nextham_include_HEADERS += include/nextham/basis.h
noinst_HEADERS += src/basis/cp2kfile.h
