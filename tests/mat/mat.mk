# mat part of tests/mat (automake fragment, included by Makefile.am)
