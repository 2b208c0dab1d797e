# structio part of tests/io (automake fragment, included by Makefile.am)
