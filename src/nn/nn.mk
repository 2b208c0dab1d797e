# nn part of src/nn (automake fragment, included by Makefile.am): the irreps
# toolkit (real spherical harmonics, CG, Wigner D, block <-> irreps, padding).
libnextham_a_SOURCES += src/nn/irreps_sph.c src/nn/irreps_cg.c \
  src/nn/irreps_wigner.c src/nn/irreps_block.c src/nn/irreps_pairs.c
nextham_include_HEADERS += include/nextham/irreps.h
