# nn part of tests/nn (automake fragment, included by Makefile.am). The
# irreps test is serial math, so it runs once (no mpi_ prefix).
check_PROGRAMS += tests/nn/test_irreps
TESTS += tests/nn/test_irreps
tests_nn_test_irreps_SOURCES = tests/nn/test_irreps.c
tests_nn_test_irreps_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_nn_test_irreps_LDADD = $(NH_TEST_LDADD)
# The network layers: finite-difference gradients, equivariance,
# permutations (serial, runs once).
check_PROGRAMS += tests/nn/test_layers
TESTS += tests/nn/test_layers
tests_nn_test_layers_SOURCES = tests/nn/test_layers.c
tests_nn_test_layers_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_nn_test_layers_LDADD = $(NH_TEST_LDADD)
# The model: whole-model finite differences, O(3)/translation/permutation/
# periodic-image equivariance, rank independence, model files (1-3 ranks).
check_PROGRAMS += tests/nn/mpi_test_model
TESTS += tests/nn/mpi_test_model
tests_nn_mpi_test_model_SOURCES = tests/nn/mpi_test_model.c
tests_nn_mpi_test_model_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_nn_mpi_test_model_LDADD = $(NH_TEST_LDADD)
# Task predict end to end on the Si2 fixture (1, 2, 3 ranks inside).
TESTS += tests/nn/test_predict.sh
EXTRA_DIST += tests/nn/test_predict.sh
