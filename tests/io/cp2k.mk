# cp2k part of tests/io (automake fragment, included by Makefile.am)
