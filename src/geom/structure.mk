# structure part of src/geom (automake fragment, included by Makefile.am):
# the structure object, element table, lattice helpers, validation.
libnextham_a_SOURCES += src/geom/structure.c src/geom/validate.c
nextham_include_HEADERS += include/nextham/structure.h
