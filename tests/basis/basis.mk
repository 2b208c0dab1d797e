# basis part of tests/basis (automake fragment, included by Makefile.am)
