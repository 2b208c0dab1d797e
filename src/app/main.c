/* nextham entry point (placeholder until the app module lands). */
#include "nextham/core.h"
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Finalize();
  (void)argv;
  return 0;
}
