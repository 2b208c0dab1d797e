# nn part of src/nn (automake fragment, included by Makefile.am): the irreps
# toolkit (real spherical harmonics, CG, Wigner D, block <-> irreps, padding).
libnextham_a_SOURCES += src/nn/irreps_sph.c src/nn/irreps_cg.c \
  src/nn/irreps_wigner.c src/nn/irreps_block.c src/nn/irreps_pairs.c
nextham_include_HEADERS += include/nextham/irreps.h
# The network layers (forward and backward side by side, docs/nn.md).
libnextham_a_SOURCES += src/nn/nnimpl.h src/nn/layers_linear.c \
  src/nn/layers_norm.c src/nn/layers_radial.c src/nn/layers_so2.c \
  src/nn/layers_attn.c src/nn/layers_tracegrad.c src/nn/layers_heads.c
nextham_include_HEADERS += include/nextham/nn.h
# The model: hyper-parameters, flat parameters, forward/backward over a
# graph, input features, model file, distributed inference (docs/model.md).
libnextham_a_SOURCES += src/nn/model.c src/nn/features.c src/nn/model_io.c \
  src/nn/infer.c
nextham_include_HEADERS += include/nextham/model.h
