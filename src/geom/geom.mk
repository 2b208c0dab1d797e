# geom part of src/geom (automake fragment, included by Makefile.am)
