# geom part of src/geom (automake fragment, included by Makefile.am):
# neighbour lists, domain decomposition (RCB), ghosts and halo exchange.
libnextham_a_SOURCES += src/geom/neighbor.c src/geom/decomp.c \
  src/geom/halo.c src/geom/domain.c
nextham_include_HEADERS += include/nextham/neighbor.h include/nextham/domain.h
noinst_HEADERS += src/geom/geomimpl.h src/geom/domainimpl.h
