// SPDX-License-Identifier: GPL-2.0
/*
 * Program generation: golden dumps of representative hand-built IR
 * (tests/unit/golden/NAME.txt, compared byte for byte; regenerate with
 * BF_GOLDEN_UPDATE=1 make unit and review the diff), structure checks and
 * generation errors. No BPF syscalls: runs unprivileged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>

#include "unit.h"
#include "bpfilter/codegen.h"
#include "test_gen_ir.h"

struct dumpbuf {
	char *s;
	size_t len;
};

static void dump_out(void *ctx, const char *line)
{
	struct dumpbuf *b = ctx;
	size_t n = strlen(line);

	b->s = realloc(b->s, b->len + n + 2);
	ck_assert_ptr_nonnull(b->s);
	memcpy(b->s + b->len, line, n);
	b->s[b->len + n] = '\n';
	b->len += n + 1;
	b->s[b->len] = '\0';
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc(n + 1);
	if (s && fread(s, 1, n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	if (s) {
		s[n] = '\0';
		*len = n;
	}
	return s;
}

/* The first differing line, for the failure message. */
static void first_diff(const char *a, const char *b, char *out, size_t len)
{
	int line = 1;
	const char *la = a, *lb = b;

	while (*a && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	snprintf(out, len, "line %d: got \"%.*s\" want \"%.*s\"", line,
		 (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
}

static void check_golden(const struct bf_ir *ir, enum bf_hook hook,
			 int force, uint32_t piece, const char *name)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = hook,
				 .force_hook = force, .piece_rules = piece };
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };
	struct dumpbuf b = { 0 };
	char path[256], diff[512];
	size_t len = 0;
	char *want;
	uint32_t i;

	ck_assert_msg(!bf_gen(ir, &o, &prog, &err), "bf_gen: %s", err.msg);
	/* structure: funcs and marks sorted, funcs[0] at 0 */
	ck_assert_uint_eq(prog->funcs[0].insn, 0);
	ck_assert_str_eq(prog->funcs[0].name, "bpfilter_main");
	for (i = 1; i < prog->n_funcs; i++)
		ck_assert_uint_gt(prog->funcs[i].insn, prog->funcs[i - 1].insn);
	for (i = 1; i < prog->n_marks; i++)
		ck_assert_uint_ge(prog->marks[i].insn, prog->marks[i - 1].insn);
	bf_prog_dump(prog, dump_out, &b);
	snprintf(path, sizeof(path), "golden/%s.txt", name);
	if (getenv("BF_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs(b.s, f);
		fclose(f);
	}
	want = read_file(path, &len);
	ck_assert_msg(want, "%s missing (BF_GOLDEN_UPDATE=1 creates it)", path);
	if (strcmp(want, b.s)) {
		first_diff(b.s, want, diff, sizeof(diff));
		ck_abort_msg("%s differs: %s", path, diff);
	}
	free(want);
	free(b.s);
	bf_prog_free(prog);
}

/* A table with every predicate field, user chains, jump, goto, RETURN. */
static struct bf_ir *gen_table(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in, fwd, out, u, v;
	uint32_t eth = tb_ifpat(ir, "eth+"), lo = tb_ifpat(ir, "lo");
	struct bf_rule *r;

	in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_ACCEPT, true);
	fwd = tb_chain(ir, "FORWARD", NF_INET_FORWARD, BF_V_DROP, true);
	out = tb_chain(ir, "OUTPUT", NF_INET_LOCAL_OUT, BF_V_ACCEPT, true);
	u = tb_chain(ir, "web", BF_HOOK_NONE, BF_V_RETURN, true);
	v = tb_chain(ir, "tail", BF_HOOK_NONE, BF_V_DROP, false);

	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_pred(r, BF_F_SADDR4, false, inet_addr("10.0.0.0"), inet_addr("255.0.0.0"), 0, 0, 0);
	tb_pred(r, BF_F_IIF, true, lo, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_JUMP, u);
	tb_pred(r, BF_F_PROTO, false, 6, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 6, 0, 20, 0, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_DPORT, false, 0, 0, 80, 80, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 17, 0, 8, 0, 0);
	tb_pred(r, BF_F_SPORT, true, 0, 0, 1024, 65535, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);
	tb_pred(r, BF_F_FRAG, false, 0, 0, 0, 0, 0);
	r = tb_rule(ir, fwd, BF_V_GOTO, v);
	tb_pred(r, BF_F_IIF, false, eth, 0, 0, 0, 0);
	tb_pred(r, BF_F_OIF, false, eth, 0, 0, 0, 0);
	r = tb_rule(ir, fwd, BF_V_RETURN, 0);
	tb_pred(r, BF_F_DADDR4, true, inet_addr("192.168.0.1"), 0xffffffff, 0, 0, 0);
	r = tb_rule(ir, out, BF_V_DROP, 0);
	tb_pred(r, BF_F_PROTO, false, 1, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 1, 0, 4, 0, 0);
	tb_pred(r, BF_F_ICMP, false, 8, 0, 0, 255, 0);
	r = tb_rule(ir, u, BF_V_DROP, 0);
	tb_pred(r, BF_F_PROTO, false, 6, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 6, 0, 20, 0, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_TCPFLAGS, false, 0x02, 0x12, 0, 0, 0);
	tb_pred(r, BF_F_TCPOPT, true, 2, 0, 0, 0, 0);
	r = tb_rule(ir, u, BF_V_RETURN, 0);
	tb_pred(r, BF_F_COMMENT, false, 0, 0, 0, 0, 0)->text = strdup("web return");
	r = tb_rule(ir, v, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_SADDR4, false, inet_addr("172.16.0.0"), inet_addr("255.240.0.0"), 0, 0, 0);
	tb_finish(ir);
	return ir;
}

START_TEST(golden_xdp)
{
	struct bf_ir *ir = gen_table();

	check_golden(ir, BF_HOOK_XDP, -1, 0, "xdp");
	tb_free(ir);
}
END_TEST

START_TEST(golden_tc)
{
	struct bf_ir *ir = gen_table();

	check_golden(ir, BF_HOOK_TC_INGRESS, -1, 0, "tc_ingress");
	check_golden(ir, BF_HOOK_TC_EGRESS, -1, 0, "tc_egress");
	tb_free(ir);
}
END_TEST

START_TEST(golden_forced_split)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	uint32_t i;

	for (i = 0; i < 5; i++) {
		struct bf_rule *r = tb_rule(ir, in, i == 2 ? BF_V_RETURN : BF_V_ACCEPT, 0);

		tb_pred(r, BF_F_DADDR4, false, htonl(0x0a000001 + i), 0xffffffff, 0, 0, 0);
	}
	tb_finish(ir);
	check_golden(ir, BF_HOOK_XDP, NF_INET_LOCAL_IN, 2, "forced_split");
	tb_free(ir);
}
END_TEST

/* IPv6: every IPv6 predicate and the shared ones, user chain and jump. */
static struct bf_ir *gen_table6(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in, fwd, out, u;
	uint32_t eth = tb_ifpat(ir, "eth+");
	struct bf_rule *r;
	struct bf_pred *p;

	ir->family = AF_INET6;
	in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_ACCEPT, true);
	fwd = tb_chain(ir, "FORWARD", NF_INET_FORWARD, BF_V_DROP, true);
	out = tb_chain(ir, "OUTPUT", NF_INET_LOCAL_OUT, BF_V_ACCEPT, true);
	u = tb_chain(ir, "web", BF_HOOK_NONE, BF_V_RETURN, true);

	r = tb_rule(ir, in, BF_V_DROP, 0);
	p = tb_pred(r, BF_F_SADDR6, false, 0, 0, 0, 0, 0);
	inet_pton(AF_INET6, "fd00::", p->a6);
	memset(p->b6, 0xff, 6);			/* /48 */
	tb_pred(r, BF_F_IIF, true, eth, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_JUMP, u);
	tb_pred(r, BF_F_PROTO6, false, 6, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 6, 0, 20, 0, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_DPORT, false, 0, 0, 80, 80, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_PROTO6, false, 58, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 58, 0, 2, 0, 0);
	tb_pred(r, BF_F_ICMP6, true, 128, 0, 0, 255, 0);
	r = tb_rule(ir, fwd, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0);
	p = tb_pred(r, BF_F_DRANGE6, false, 0, 0, 0, 0, 0);
	inet_pton(AF_INET6, "2001:db8::1", p->a6);
	inet_pton(AF_INET6, "2001:db8::ff", p->b6);
	tb_pred(r, BF_F_TTL, false, 5, 0, 0, 0, 2);
	tb_pred(r, BF_F_LENGTH, false, 0, 0, 40, 1280, 0);
	r = tb_rule(ir, out, BF_V_DROP, 0);
	p = tb_pred(r, BF_F_DADDR6, true, 0, 0, 0, 0, 0);
	inet_pton(AF_INET6, "::1", p->a6);
	memset(p->b6, 0xff, 16);
	tb_pred(r, BF_F_PROTO6, true, 17, 0, 0, 0, 0);
	r = tb_rule(ir, u, BF_V_DROP, 0);
	tb_pred(r, BF_F_PROTO6, false, 6, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, 6, 0, 20, 0, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_TCPFLAGS, false, 0x02, 0x12, 0, 0, 0);
	tb_pred(r, BF_F_TCPOPT, true, 2, 0, 0, 0, 0);
	tb_finish(ir);
	return ir;
}

START_TEST(golden_ipv6)
{
	struct bf_ir *ir = gen_table6();

	check_golden(ir, BF_HOOK_XDP, -1, 0, "xdp6");
	check_golden(ir, BF_HOOK_TC_EGRESS, -1, 0, "tc_egress6");
	check_golden(ir, BF_HOOK_TC_INGRESS, NF_INET_FORWARD, 0, "tc_forced_fwd6");
	tb_free(ir);
}
END_TEST

/* A predicate of the other family, or an unknown family, is refused. */
START_TEST(gen_family_errors)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = -1 };
	static const enum bf_field v4only[] = {
		BF_F_SADDR4, BF_F_DADDR4, BF_F_PROTO, BF_F_FRAG, BF_F_ICMP,
		BF_F_SRANGE4, BF_F_DRANGE4,
	};
	static const enum bf_field v6only[] = {
		BF_F_SADDR6, BF_F_DADDR6, BF_F_PROTO6, BF_F_ICMP6,
		BF_F_SRANGE6, BF_F_DRANGE6,
	};
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	struct bf_rule *r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };
	size_t i;

	tb_pred(r, BF_F_COMMENT, false, 0, 0, 0, 0, 0);
	tb_finish(ir);
	for (i = 0; i < sizeof(v6only) / sizeof(v6only[0]); i++) {
		r->preds[0].field = v6only[i];
		ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
		ck_assert_ptr_null(prog);
	}
	ir->family = AF_INET6;
	for (i = 0; i < sizeof(v4only) / sizeof(v4only[0]); i++) {
		r->preds[0].field = v4only[i];
		ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
		ck_assert_ptr_null(prog);
	}
	r->preds[0].field = BF_F_COMMENT;
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), 0);
	ck_assert_int_eq(prog->family, AF_INET6);
	bf_prog_free(prog);
	prog = NULL;
	ir->family = 7;
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EAFNOSUPPORT);
	ck_assert_ptr_null(prog);
	tb_free(ir);
}
END_TEST

START_TEST(no_chain_for_hook)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_TC_EGRESS,
				 .force_hook = -1 };
	struct bf_ir *ir = tb_new();
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };

	tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	tb_finish(ir);
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), 0);
	/* no OUTPUT chain: r0 = TC_ACT_OK; exit */
	ck_assert_uint_eq(prog->n_insns, 2);
	ck_assert_uint_eq(prog->n_funcs, 1);
	bf_prog_free(prog);
	tb_free(ir);
}
END_TEST

START_TEST(gen_errors)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = -1 };
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_IIF, false, 3, 0, 0, 0, 0);	/* no such pattern */
	tb_finish(ir);
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "chain INPUT rule 1"));
	ck_assert_ptr_null(prog);
	r->preds[0].field = BF_F_PROTO;
	r->verdict = BF_V_JUMP;
	r->target = 7;					/* no such chain */
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
	ck_assert_ptr_null(prog);
	o.sz = 4;
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
	o.sz = sizeof(o);
	o.force_hook = 9;
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), -EINVAL);
	tb_free(ir);
}
END_TEST

START_TEST(split_pieces)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = -1 };
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };
	uint32_t i;

	for (i = 0; i < 600; i++)
		tb_pred(tb_rule(ir, in, BF_V_ACCEPT, 0), BF_F_SADDR4, false,
			htonl(i), 0xffffffff, 0, 0, 0);
	tb_finish(ir);
	ck_assert_int_eq(bf_gen(ir, &o, &prog, &err), 0);
	/* main, bpfilter_count, the chain, 3 pieces of 256 */
	ck_assert_uint_eq(prog->n_funcs, 6);
	ck_assert_str_eq(prog->funcs[5].name, "bpfilter_c0_p2");
	/* one rule mark per rule */
	for (i = 0; i < prog->n_marks; i++)
		if (!strncmp(prog->marks[i].text, "INPUT#600", 9))
			break;
	ck_assert_uint_lt(i, prog->n_marks);
	bf_prog_free(prog);
	tb_free(ir);
}
END_TEST

static Suite *gen_suite(void)
{
	Suite *s = suite_create("codegen_gen");
	TCase *tc = tcase_create("gen");

	tcase_add_test(tc, golden_xdp);
	tcase_add_test(tc, golden_tc);
	tcase_add_test(tc, golden_forced_split);
	tcase_add_test(tc, no_chain_for_hook);
	tcase_add_test(tc, gen_errors);
	tcase_add_test(tc, split_pieces);
	tcase_add_test(tc, golden_ipv6);
	tcase_add_test(tc, gen_family_errors);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(gen_suite);
