/* Checked allocation and peak-memory measurement. */
#include "nextham/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nh_err nh_malloc(size_t size, void *ptr) {
  void *p = malloc(size ? size : 1);
  NH_CHECK(p, NH_ERR_MEM, "cannot allocate %zu bytes", size);
  *(void **)ptr = p;
  return NH_OK;
}

nh_err nh_calloc(size_t n, size_t size, void *ptr) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  NH_CHECK(p, NH_ERR_MEM, "cannot allocate %zu x %zu bytes", n, size);
  *(void **)ptr = p;
  return NH_OK;
}

nh_err nh_realloc(size_t size, void *ptr) {
  void *p = realloc(*(void **)ptr, size ? size : 1);
  NH_CHECK(p, NH_ERR_MEM, "cannot grow an allocation to %zu bytes", size);
  *(void **)ptr = p;
  return NH_OK;
}

void nh_free(void *ptr) {
  free(*(void **)ptr);
  *(void **)ptr = NULL;
}

size_t nh_mem_peak(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kb = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtoull(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return kb * 1024;
}
