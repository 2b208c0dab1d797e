# toml part of src/io (automake fragment, included by Makefile.am)
libnextham_a_SOURCES += src/io/toml_tree.c src/io/toml_parse.c \
  src/io/toml_get.c src/io/toml_json.c
nextham_include_HEADERS += include/nextham/toml.h
noinst_HEADERS += src/io/tomlimpl.h
