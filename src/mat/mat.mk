# mat part of src/mat (automake fragment, included by Makefile.am)
