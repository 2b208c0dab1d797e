# basis part of tests/basis (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/basis/test_basis
TESTS += tests/basis/test_basis
tests_basis_test_basis_SOURCES = tests/basis/test_basis.c
tests_basis_test_basis_CPPFLAGS = $(NH_TEST_CPPFLAGS) -I$(top_srcdir)/src/basis
tests_basis_test_basis_LDADD = $(NH_TEST_LDADD)
