// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failure on every path: the n-th allocation of the xt
 * front-end fails, for n = 0, 1, ... until the call succeeds. Each failure
 * must be -ENOMEM with a message and leave nothing allocated (ASan's leak
 * check runs at the end of the unit tests).
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "test_xt_util.h"
#include "xt/xt4.h"

#define XTA_MAX_STEPS	100000

static const char *const xta_fixtures[] = {
	"chains", "nested", "misc", "deep7", "ip6_chains", "ip6_matches",
};

static bool xta_v6(const char *name)
{
	return !strncmp(name, "ip6_", 4);
}

static int xta_translate(const char *name, struct ipt_replace *r, size_t len,
			 struct bf_ir **ir, struct bf_err *err)
{
	if (xta_v6(name))
		return bf_xt6_translate((struct ip6t_replace *)r, len, ir, err);
	return bf_xt4_translate(r, len, ir, err);
}

START_TEST(test_translate_alloc_failures)
{
	const char *name = xta_fixtures[_i];
	int k, ret = -ENOMEM, fails = 0;

	for (k = 0; k < XTA_MAX_STEPS && ret == -ENOMEM; k++) {
		struct bf_err err = { 0 };
		struct ipt_replace *r;
		struct bf_ir *ir = NULL;
		size_t len;

		r = xtu_load(name, &len);
		xt4_alloc_budget = k;
		ret = xta_translate(name, r, len, &ir, &err);
		xt4_alloc_budget = -1;
		if (ret == -ENOMEM) {
			ck_assert_ptr_null(ir);
			ck_assert_msg(err.msg[0], "%s: step %d: -ENOMEM without a message", name, k);
			fails++;
		}
		bf_ir_free(ir);
		free(r);
	}
	/* deep7 is refused for its depth once memory suffices. */
	ck_assert_int_eq(ret, strcmp(name, "deep7") ? 0 : -E2BIG);
	ck_assert_int_gt(fails, 3);
}
END_TEST

START_TEST(test_from_ir_alloc_failures)
{
	static const char *const names[] = { "nested", "ip6_chains" };
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	const char *name = names[_i];
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir;
	int k, ret = -ENOMEM, fails = 0;
	size_t len;

	r = xtu_load(name, &len);
	ck_assert_int_eq(xta_translate(name, r, len, &ir, &err), 0);
	for (k = 0; k < XTA_MAX_STEPS && ret == -ENOMEM; k++) {
		void *blob = NULL;

		xt4_alloc_budget = k;
		ret = xta_v6(name) ? bf_xt6_from_ir(ir, &blob, &size, &n, he, uf) :
				     bf_xt4_from_ir(ir, &blob, &size, &n, he, uf);
		xt4_alloc_budget = -1;
		if (ret == -ENOMEM) {
			fails++;
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert(!memcmp(blob, r->entries, size));
		free(blob);
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_gt(fails, 2);
	bf_ir_free(ir);
	free(r);
}
END_TEST

START_TEST(test_initial_alloc_failures)
{
	struct ipt_replace *r = NULL;
	int k, ret = -ENOMEM;
	size_t len;

	for (k = 0; k < XTA_MAX_STEPS && ret == -ENOMEM; k++) {
		xt4_alloc_budget = k;
		ret = bf_xt4_initial_filter(&r, &len);
		xt4_alloc_budget = -1;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(len, sizeof(*r) + 632);
	free(r);
}
END_TEST

START_TEST(test_initial6_alloc_failures)
{
	struct ip6t_replace *r = NULL;
	int k, ret = -ENOMEM;
	size_t len;

	for (k = 0; k < XTA_MAX_STEPS && ret == -ENOMEM; k++) {
		xt4_alloc_budget = k;
		ret = bf_xt6_initial_filter(&r, &len);
		xt4_alloc_budget = -1;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(len, sizeof(*r) + 856);
	free(r);
}
END_TEST

static Suite *xt_alloc_suite(void)
{
	Suite *s = suite_create("xt_alloc");
	TCase *tc = tcase_create("alloc");

	tcase_add_loop_test(tc, test_translate_alloc_failures, 0,
			    sizeof(xta_fixtures) / sizeof(xta_fixtures[0]));
	tcase_add_loop_test(tc, test_from_ir_alloc_failures, 0, 2);
	tcase_add_test(tc, test_initial_alloc_failures);
	tcase_add_test(tc, test_initial6_alloc_failures);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_alloc_suite);
