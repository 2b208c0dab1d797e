# geom part of src/geom (automake fragment, included by Makefile.am):
# neighbour lists, domain decomposition (RCB), ghosts and halo exchange.
libnextham_a_SOURCES += src/geom/neighbor.c
nextham_include_HEADERS += include/nextham/neighbor.h include/nextham/domain.h
noinst_HEADERS += src/geom/geomimpl.h
