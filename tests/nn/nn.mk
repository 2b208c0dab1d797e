# nn part of tests/nn (automake fragment, included by Makefile.am). The
# irreps test is serial math, so it runs once (no mpi_ prefix).
check_PROGRAMS += tests/nn/test_irreps
TESTS += tests/nn/test_irreps
tests_nn_test_irreps_SOURCES = tests/nn/test_irreps.c
tests_nn_test_irreps_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_nn_test_irreps_LDADD = $(NH_TEST_LDADD)
