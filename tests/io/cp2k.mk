# cp2k part of tests/io (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/io/mpi_test_cp2k
TESTS += tests/io/mpi_test_cp2k
tests_io_mpi_test_cp2k_SOURCES = tests/io/mpi_test_cp2k.c
tests_io_mpi_test_cp2k_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_io_mpi_test_cp2k_LDADD = $(NH_TEST_LDADD)
# CP2K reference runs (tools/cp2k/fixtures.sh)
EXTRA_DIST += tests/data/cp2k/README.md \
  tests/data/cp2k/graphene/graphene-csr.tar.xz \
  tests/data/cp2k/graphene/graphene.bs \
  tests/data/cp2k/graphene/graphene.inp \
  tests/data/cp2k/graphene/graphene.out \
  tests/data/cp2k/h2o/h2o-csr.tar.xz \
  tests/data/cp2k/h2o/h2o.inp \
  tests/data/cp2k/h2o/h2o.out \
  tests/data/cp2k/hbn/hbn-csr.tar.xz \
  tests/data/cp2k/hbn/hbn.bs \
  tests/data/cp2k/hbn/hbn.inp \
  tests/data/cp2k/hbn/hbn.out \
  tests/data/cp2k/si2-guess/si2-guess-csr.tar.xz \
  tests/data/cp2k/si2-guess/si2-guess.inp \
  tests/data/cp2k/si2-guess/si2-guess.out \
  tests/data/cp2k/si2/si2-csr.tar.xz \
  tests/data/cp2k/si2/si2.bs \
  tests/data/cp2k/si2/si2.inp \
  tests/data/cp2k/si2/si2.out \
  tests/data/cp2k/si8/si8-csr.tar.xz \
  tests/data/cp2k/si8/si8.bs \
  tests/data/cp2k/si8/si8.inp \
  tests/data/cp2k/si8/si8.out
