# grid part of tests/grid (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/grid/mpi_test_grid
TESTS += tests/grid/mpi_test_grid
tests_grid_mpi_test_grid_SOURCES = tests/grid/mpi_test_grid.c
tests_grid_mpi_test_grid_CPPFLAGS = $(NH_TEST_CPPFLAGS) -I$(top_srcdir)/src/grid
tests_grid_mpi_test_grid_LDADD = $(NH_TEST_LDADD)
# benchmark and convergence runs for docs/grid.md (built, not run)
check_PROGRAMS += tests/grid/bench_grid
tests_grid_bench_grid_SOURCES = tests/grid/bench_grid.c
tests_grid_bench_grid_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_grid_bench_grid_LDADD = $(NH_TEST_LDADD)
