# structio part of tests/io (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/io/test_structio
TESTS += tests/io/test_structio
tests_io_test_structio_SOURCES = tests/io/test_structio.c
tests_io_test_structio_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_io_test_structio_LDADD = $(NH_TEST_LDADD)
EXTRA_DIST += tests/data/structures
