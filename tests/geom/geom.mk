# geom part of tests/geom (automake fragment, included by Makefile.am)
