// SPDX-License-Identifier: GPL-2.0
/* IR helpers: bf_ifpat_match() and bf_ir_rule_str() on hand-made rules. */
#include <arpa/inet.h>
#include <string.h>

#include "unit.h"
#include "bpfilter/ir.h"

static void ifpat(struct bf_ifpat *p, const char *name, int mask_len)
{
	memset(p, 0, sizeof(*p));
	strncpy(p->name, name, sizeof(p->name) - 1);
	memset(p->mask, 0xff, mask_len);
}

static bool match(const struct bf_ifpat *p, const char *dev)
{
	char name[16] = { 0 };

	strncpy(name, dev, sizeof(name) - 1);
	return bf_ifpat_match(p, name);
}

START_TEST(test_ifpat_exact)
{
	struct bf_ifpat p;

	ifpat(&p, "eth0", 5);	/* -i eth0: the NUL is part of the match */
	ck_assert(match(&p, "eth0"));
	ck_assert(!match(&p, "eth01"));
	ck_assert(!match(&p, "eth"));
	ck_assert(!match(&p, ""));
}
END_TEST

START_TEST(test_ifpat_wildcard)
{
	struct bf_ifpat p;

	ifpat(&p, "eth+", 3);	/* -i eth+ */
	ck_assert(match(&p, "eth"));
	ck_assert(match(&p, "eth0"));
	ck_assert(match(&p, "eth12345"));
	ck_assert(!match(&p, "et"));
	ck_assert(!match(&p, "veth0"));
	ifpat(&p, "+", 0);	/* -i +: anything, even no device */
	ck_assert(match(&p, ""));
	ck_assert(match(&p, "lo"));
}
END_TEST

START_TEST(test_ifpat_odd_mask)
{
	struct bf_ifpat p;

	ifpat(&p, "aXc", 0);
	p.mask[0] = 0xff;
	p.mask[2] = 0xff;	/* middle byte ignored */
	ck_assert(match(&p, "abc"));
	ck_assert(match(&p, "aZcdef"));
	ck_assert(!match(&p, "abd"));
}
END_TEST

START_TEST(test_rule_str_all_fields)
{
	struct bf_pred preds[8];
	struct bf_chain chains[2] = { { .name = "INPUT", .hook = 1 }, { .name = "foo", .hook = BF_HOOK_NONE } };
	struct bf_ifpat pats[1];
	struct bf_rule r = { .index = 7, .num = 3, .preds = preds, .n_preds = 8,
			     .verdict = BF_V_GOTO, .target = 1 };
	struct bf_ir ir = { .chains = chains, .n_chains = 2, .ifpats = pats, .n_ifpats = 1 };
	char buf[512], small[16];
	int n;

	memset(preds, 0, sizeof(preds));
	ifpat(&pats[0], "lo", 3);
	preds[0] = (struct bf_pred){ .field = BF_F_DADDR4, .value = inet_addr("10.0.0.1"),
				     .mask = inet_addr("255.255.255.255") };
	preds[1] = (struct bf_pred){ .field = BF_F_OIF, .inv = true, .value = 0 };
	preds[2] = (struct bf_pred){ .field = BF_F_FRAG };
	preds[3] = (struct bf_pred){ .field = BF_F_FRAG, .inv = true };
	preds[4] = (struct bf_pred){ .field = BF_F_L4HDR, .value = 47, .lo = 4 };
	preds[5] = (struct bf_pred){ .field = BF_F_TCPOPT, .value = 8 };
	preds[6] = (struct bf_pred){ .field = BF_F_ICMP, .value = 0xff, .inv = true };
	preds[7] = (struct bf_pred){ .field = BF_F_COMMENT, .text = "x y" };
	n = bf_ir_rule_str(&ir, &chains[0], &r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "INPUT#3 [7] daddr 10.0.0.1/255.255.255.255 !oif lo frag !frag l4(47,4) tcpopt 8 !icmp any comment \"x y\" -> GOTO foo");
	ck_assert_int_eq(n, (int)strlen(buf));
	/* Truncation: snprintf semantics. */
	ck_assert_int_eq(bf_ir_rule_str(&ir, &chains[0], &r, small, sizeof(small)), n);
	ck_assert_str_eq(small, "INPUT#3 [7] dad");
	r.verdict = BF_V_NEXT;
	r.n_preds = 0;
	bf_ir_rule_str(&ir, &chains[0], &r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "INPUT#3 [7] -> NEXT");
	r.verdict = BF_V_JUMP;
	bf_ir_rule_str(&ir, &chains[0], &r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "INPUT#3 [7] -> JUMP foo");
}
END_TEST

START_TEST(test_ir_free_null)
{
	bf_ir_free(NULL);
}
END_TEST

static Suite *ir_text_suite(void)
{
	Suite *s = suite_create("ir_text");
	TCase *tc = tcase_create("ir");

	tcase_add_test(tc, test_ifpat_exact);
	tcase_add_test(tc, test_ifpat_wildcard);
	tcase_add_test(tc, test_ifpat_odd_mask);
	tcase_add_test(tc, test_rule_str_all_fields);
	tcase_add_test(tc, test_ir_free_null);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(ir_text_suite);
