# integrals part of tests/integrals (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/integrals/test_integrals
TESTS += tests/integrals/test_integrals
tests_integrals_test_integrals_SOURCES = tests/integrals/test_integrals.c
tests_integrals_test_integrals_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_integrals_test_integrals_LDADD = $(NH_TEST_LDADD)
EXTRA_DIST += tests/integrals/data/README.md tests/integrals/data/nhsi.inp \
  tests/integrals/data/nhsi-ao.txt.xz tests/integrals/data/nhsi-tight.inp \
  tests/integrals/data/nhsi-tight-ao.txt.xz
