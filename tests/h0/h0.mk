# h0 part of tests/h0 (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/h0/test_gth tests/h0/test_atom
TESTS += tests/h0/test_gth tests/h0/test_atom
tests_h0_test_gth_SOURCES = tests/h0/test_gth.c
tests_h0_test_gth_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_h0_test_gth_LDADD = $(NH_TEST_LDADD)
tests_h0_test_atom_SOURCES = tests/h0/test_atom.c
tests_h0_test_atom_CPPFLAGS = $(NH_TEST_CPPFLAGS) -I$(top_srcdir)/src/h0
tests_h0_test_atom_LDADD = $(NH_TEST_LDADD)
# h0 assembly part of tests/h0
check_PROGRAMS += tests/h0/mpi_test_h0_analytic
TESTS += tests/h0/mpi_test_h0_analytic
tests_h0_mpi_test_h0_analytic_SOURCES = tests/h0/mpi_test_h0_analytic.c
tests_h0_mpi_test_h0_analytic_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_h0_mpi_test_h0_analytic_LDADD = $(NH_TEST_LDADD)
# accuracy of H0 against CP2K (guess and converged H, bands)
check_PROGRAMS += tests/h0/mpi_test_h0_accuracy
TESTS += tests/h0/mpi_test_h0_accuracy
tests_h0_mpi_test_h0_accuracy_SOURCES = tests/h0/mpi_test_h0_accuracy.c
tests_h0_mpi_test_h0_accuracy_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_h0_mpi_test_h0_accuracy_LDADD = $(NH_TEST_LDADD)
# rotation covariance of the whole H0 (analytic and grid parts)
check_PROGRAMS += tests/h0/mpi_test_h0_rotation
TESTS += tests/h0/mpi_test_h0_rotation
tests_h0_mpi_test_h0_rotation_SOURCES = tests/h0/mpi_test_h0_rotation.c
tests_h0_mpi_test_h0_rotation_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_h0_mpi_test_h0_rotation_LDADD = $(NH_TEST_LDADD)
