# toml part of src/io (automake fragment, included by Makefile.am)
