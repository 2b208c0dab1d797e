# sample part of tests/io (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/io/mpi_test_sample
TESTS += tests/io/mpi_test_sample
tests_io_mpi_test_sample_SOURCES = tests/io/mpi_test_sample.c
tests_io_mpi_test_sample_CPPFLAGS = $(NH_TEST_CPPFLAGS) -I$(top_srcdir)/src/io
tests_io_mpi_test_sample_LDADD = $(NH_TEST_LDADD)
