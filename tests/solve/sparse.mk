# sparse-solver part of tests/solve (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/solve/mpi_test_sparse
TESTS += tests/solve/mpi_test_sparse
tests_solve_mpi_test_sparse_SOURCES = tests/solve/mpi_test_sparse.c
tests_solve_mpi_test_sparse_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_solve_mpi_test_sparse_LDADD = $(NH_TEST_LDADD)
