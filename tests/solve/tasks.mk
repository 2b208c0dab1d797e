# Bands/DOS tasks part (automake fragment, included by Makefile.am): the
# k-point, spectrum, band-output and supercell sources, and their tests.
libnextham_a_SOURCES += src/solve/kpoints.c src/solve/spectrum.c \
  src/solve/bandsio.c src/mat/supercell.c
nextham_include_HEADERS += include/nextham/kpoints.h \
  include/nextham/spectrum.h include/nextham/supercell.h \
  include/nextham/bandsio.h

# The plot script: installed beside the data, found in the source tree
# before installation (src/solve/bandsio.c looks in both).
dist_pkgdata_SCRIPTS += tools/plot_bands.py
src/solve/nh_plotpath.h: Makefile
	$(AM_V_GEN)$(MKDIR_P) src/solve && \
	printf '#define NH_PKGDATADIR "%s"\n#define NH_SRCDIR "%s"\n' \
	  '$(pkgdatadir)' '$(abs_top_srcdir)' > $@
src/solve/bandsio.$(OBJEXT): src/solve/nh_plotpath.h
CLEANFILES += src/solve/nh_plotpath.h

check_PROGRAMS += tests/solve/test_kpoints tests/solve/test_spectrum \
  tests/solve/mpi_test_supercell
TESTS += tests/solve/test_kpoints tests/solve/test_spectrum \
  tests/solve/mpi_test_supercell
tests_solve_test_kpoints_SOURCES = tests/solve/test_kpoints.c
tests_solve_test_kpoints_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_solve_test_kpoints_LDADD = $(NH_TEST_LDADD)
tests_solve_test_spectrum_SOURCES = tests/solve/test_spectrum.c
tests_solve_test_spectrum_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_solve_test_spectrum_LDADD = $(NH_TEST_LDADD)
tests_solve_mpi_test_supercell_SOURCES = tests/solve/mpi_test_supercell.c \
  tests/solve/denseref.h
tests_solve_mpi_test_supercell_CPPFLAGS = $(NH_TEST_CPPFLAGS)
tests_solve_mpi_test_supercell_LDADD = $(NH_TEST_LDADD)

TESTS += tests/app/test_bands.sh
EXTRA_DIST += tests/app/test_bands.sh
