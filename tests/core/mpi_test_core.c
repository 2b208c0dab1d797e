/* Tests of the core module: error traceback, collective agreement, timers. */
#include <string.h>

#include "nhtest.h"

static nh_err inner(int x) {
  NH_CHECK(x > 0, NH_ERR_INPUT, "x must be positive, got %d", x);
  return NH_OK;
}
static nh_err outer(int x) {
  NH_CALL(inner(x));
  return NH_OK;
}

static void test_error_traceback(void **state) {
  (void)state;
  assert_nh_ok(outer(1));
  assert_nh_fails(outer(-3), NH_ERR_INPUT, "x must be positive, got -3");
  assert_string_equal(nh_error_name(NH_ERR_FILE), "file error");
}

/* An error raised while unwinding must not hide the first one. */
static void test_error_first_wins(void **state) {
  (void)state;
  nh_error_set(NH_ERR_FILE, "a.c", 1, "f", "first");
  nh_err e = nh_error_set(NH_ERR_MEM, "b.c", 2, "g", "second");
  assert_int_equal(e, NH_ERR_FILE);
  assert_string_equal(nh_error_message(), "first");
  nh_error_clear();
  assert_string_equal(nh_error_message(), "");
}

/* Only the last rank fails; every rank must see the same code and message. */
static void test_agree(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  assert_int_equal(nh_ctx_agree(ctx, NH_OK), NH_OK);
  nh_err mine = NH_OK;
  if (ctx->rank == ctx->size - 1)
    mine = nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "bad key 'x' on rank %d", ctx->rank);
  nh_err all = nh_ctx_agree(ctx, mine);
  assert_int_equal(all, NH_ERR_INPUT);
  char expect[64];
  snprintf(expect, sizeof expect, "bad key 'x' on rank %d", ctx->size - 1);
  assert_string_equal(nh_error_message(), expect);
  nh_error_clear();
}

static void test_timer_and_memory(void **state) {
  (void)state;
  nh_timer_start("spin");
  double t0 = nh_wtime(), x = 0;
  while (nh_wtime() - t0 < 0.01) x += 1;
  nh_timer_stop("spin");
  assert_true(nh_timer_get("spin") >= 0.01);
  assert_true(nh_timer_get("spin") < 1.0);
  assert_true(nh_mem_peak() > 1024 * 1024);
  double *p = NULL;
  assert_nh_ok(nh_malloc(0, &p)); /* zero size is a valid allocation */
  nh_free(&p);
  assert_null(p);
  assert_nh_fails(nh_malloc((size_t)1 << 62, &p), NH_ERR_MEM, "cannot allocate");
}

/* The map must agree with a direct table through growth and overwrites. */
static void test_hmap(void **state) {
  (void)state;
  nh_hmap h;
  assert_nh_ok(nh_hmap_init(&h, 0));
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    int img[3] = {i % 7 - 3, -(i % 5), i % 3};
    uint64_t k1, k2;
    nh_hmap_block_key(i, (i * 7919) % n, img, &k1, &k2);
    assert_nh_ok(nh_hmap_put(&h, k1, k2, i));
  }
  assert_int_equal(h.count, n);
  for (int i = 0; i < n; i++) {
    int img[3] = {i % 7 - 3, -(i % 5), i % 3}, other[3] = {img[0], img[1], img[2] + 1};
    uint64_t k1, k2;
    nh_hmap_block_key(i, (i * 7919) % n, img, &k1, &k2);
    assert_int_equal(nh_hmap_get(&h, k1, k2), i);
    nh_hmap_block_key(i, (i * 7919) % n, other, &k1, &k2);
    if (other[2] == 3) assert_int_equal(nh_hmap_get(&h, k1, k2), -1);
  }
  assert_nh_ok(nh_hmap_put(&h, 5, 6, 42));
  assert_nh_ok(nh_hmap_put(&h, 5, 6, 43));
  assert_int_equal(nh_hmap_get(&h, 5, 6), 43);
  assert_int_equal(h.count, n + 1);
  nh_hmap_free(&h);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_traceback),
    cmocka_unit_test(test_error_first_wins),
    cmocka_unit_test(test_agree),
    cmocka_unit_test(test_timer_and_memory),
    cmocka_unit_test(test_hmap),
};
NH_TEST_MAIN(tests)
