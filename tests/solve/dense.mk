# dense part of tests/solve (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/solve/mpi_test_dense
TESTS += tests/solve/mpi_test_dense
tests_solve_mpi_test_dense_SOURCES = tests/solve/mpi_test_dense.c
tests_solve_mpi_test_dense_CPPFLAGS = $(NH_TEST_CPPFLAGS) -I$(top_srcdir)/src/solve
tests_solve_mpi_test_dense_LDADD = $(NH_TEST_LDADD)
