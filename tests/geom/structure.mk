# structure part of tests/geom (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/geom/test_structure
TESTS += tests/geom/test_structure
tests_geom_test_structure_SOURCES = tests/geom/test_structure.c
tests_geom_test_structure_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_geom_test_structure_LDADD = $(NH_TEST_LDADD)
