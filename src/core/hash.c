/* Open-addressing hash map with 128-bit keys (see core.h). The load factor
 * is kept below 1/2 so that probes stay short. */
#include "nextham/core.h"

static uint64_t mix(uint64_t a, uint64_t b) {
  /* splitmix64-style finaliser of a combination of both words */
  uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static nh_err alloc_table(nh_hmap *h, size_t cap) {
  h->cap = cap;
  h->count = 0;
  NH_CALL(nh_malloc(cap * sizeof *h->slot, &h->slot));
  for (size_t s = 0; s < cap; s++) h->slot[s].val = -1;
  return NH_OK;
}

nh_err nh_hmap_init(nh_hmap *h, size_t expected) {
  size_t cap = 16;
  while (cap < 2 * expected + 2) cap *= 2;
  h->slot = NULL;
  NH_CALL(alloc_table(h, cap));
  return NH_OK;
}

void nh_hmap_free(nh_hmap *h) {
  nh_free(&h->slot);
  h->cap = h->count = 0;
}

static size_t find(const nh_hmap *h, uint64_t k1, uint64_t k2) {
  size_t s = mix(k1, k2) & (h->cap - 1);
  while (h->slot[s].val >= 0 && (h->slot[s].k1 != k1 || h->slot[s].k2 != k2))
    s = (s + 1) & (h->cap - 1);
  return s;
}

static nh_err grow(nh_hmap *h) {
  nh_hmap old = *h;
  NH_CALL(alloc_table(h, 2 * old.cap));
  for (size_t s = 0; s < old.cap; s++)
    if (old.slot[s].val >= 0)
      NH_CALL(nh_hmap_put(h, old.slot[s].k1, old.slot[s].k2, old.slot[s].val));
  nh_hmap_free(&old);
  return NH_OK;
}

nh_err nh_hmap_put(nh_hmap *h, uint64_t k1, uint64_t k2, int64_t val) {
  NH_CHECK(val >= 0, NH_ERR_ARG, "hash map values must be >= 0, got %lld",
           (long long)val);
  if (2 * (h->count + 1) > h->cap) NH_CALL(grow(h));
  nh_hmap_slot *e = &h->slot[find(h, k1, k2)];
  if (e->val < 0) {
    e->k1 = k1;
    e->k2 = k2;
    h->count++;
  }
  e->val = val;
  return NH_OK;
}

int64_t nh_hmap_get(const nh_hmap *h, uint64_t k1, uint64_t k2) {
  if (!h->cap) return -1;
  return h->slot[find(h, k1, k2)].val;
}
