# cp2k part of src/io (automake fragment, included by Makefile.am):
# CP2K .out and CSR readers, import into block-sparse matrices, convert.
libnextham_a_SOURCES += src/io/cp2k_out.c src/io/cp2k_csr.c \
  src/io/cp2k_import.c src/io/cp2k_convert.c
nextham_include_HEADERS += include/nextham/cp2k.h
EXTRA_DIST += tools/cp2k/make-reference.py tools/cp2k/fixtures.sh \
  tools/cp2k/check-bands.py \
  tools/cp2k/template.inp tools/cp2k/structures/si2.cell \
  tools/cp2k/structures/graphene.cell tools/cp2k/structures/si8.cell \
  tools/cp2k/structures/hbn.cell tools/cp2k/structures/h2o.cell
