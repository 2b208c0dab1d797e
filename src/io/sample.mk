# sample part of src/io (automake fragment, included by Makefile.am)
libnextham_a_SOURCES += src/io/sample.c src/io/sample_write.c \
  src/io/sample_info.c src/io/h5util.c
nextham_include_HEADERS += include/nextham/sample.h
noinst_HEADERS += src/io/sampleimpl.h src/io/h5util.h
