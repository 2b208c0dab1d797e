# basis part of src/basis (automake fragment, included by Makefile.am)
