# mat part of tests/mat (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/mat/mpi_test_mat
TESTS += tests/mat/mpi_test_mat
tests_mat_mpi_test_mat_SOURCES = tests/mat/mpi_test_mat.c
tests_mat_mpi_test_mat_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_mat_mpi_test_mat_LDADD = $(NH_TEST_LDADD)
