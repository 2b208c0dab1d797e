# h0 part: GTH pseudopotentials and the neutral pseudo-atom (automake
# fragment, included by Makefile.am). gthpot.c lives with the basis module
# whose file reader it shares.
libnextham_a_SOURCES += src/basis/gthpot.c src/h0/atom.c src/h0/radial.c
nextham_include_HEADERS += include/nextham/gth.h include/nextham/atom.h
noinst_HEADERS += src/h0/radial.h
# h0 assembly: analytic parts over the neighbour graph and task "h0"
libnextham_a_SOURCES += src/h0/assemble.c src/h0/task_h0.c
nextham_include_HEADERS += include/nextham/h0.h
