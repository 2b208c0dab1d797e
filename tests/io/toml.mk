# toml part of tests/io (automake fragment, included by Makefile.am)
check_PROGRAMS += tests/io/test_toml tests/io/test_toml_conformance
TESTS += tests/io/test_toml tests/io/test_toml_conformance
tests_io_test_toml_SOURCES = tests/io/test_toml.c
tests_io_test_toml_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_io_test_toml_LDADD = $(NH_TEST_LDADD)
tests_io_test_toml_conformance_SOURCES = tests/io/test_toml_conformance.c
tests_io_test_toml_conformance_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_io_test_toml_conformance_LDADD = $(NH_TEST_LDADD)
EXTRA_DIST += tests/data/toml tools/fuzz/fuzz_toml.c tools/fuzz/run-fuzz-toml.sh
