# integrals part of src/integrals (automake fragment, included by Makefile.am)
libnextham_a_SOURCES += src/integrals/os1d.c src/integrals/cart2sph.c \
  src/integrals/norm.c src/integrals/shellpair.c src/integrals/screen.c \
  src/integrals/gth.c
nextham_include_HEADERS += include/nextham/integrals.h
noinst_HEADERS += src/integrals/intimpl.h
