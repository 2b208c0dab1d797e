# geom part of tests/geom (automake fragment, included by Makefile.am):
# neighbour lists against brute force; domain, ghosts, halo exchange and the
# distributed neighbour list with 1, 2 and 3 ranks.
check_PROGRAMS += tests/geom/test_neighbor tests/geom/mpi_test_domain
TESTS += tests/geom/test_neighbor tests/geom/mpi_test_domain
tests_geom_test_neighbor_SOURCES = tests/geom/test_neighbor.c
tests_geom_test_neighbor_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_geom_test_neighbor_LDADD = $(NH_TEST_LDADD)
tests_geom_mpi_test_domain_SOURCES = tests/geom/mpi_test_domain.c
tests_geom_mpi_test_domain_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_geom_mpi_test_domain_LDADD = $(NH_TEST_LDADD)
