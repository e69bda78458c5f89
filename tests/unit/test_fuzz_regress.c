// SPDX-License-Identifier: GPL-2.0
/*
 * Regressions for bugs the libFuzzer harnesses of tests/fuzz/ found. Each
 * test names the harness; the crashing inputs themselves are replayed by
 * `tests/fuzz/run.sh --smoke` from tests/fuzz/corpus/<harness>/regress-*.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_limit.h>

#include "unit.h"
#include "test_xt_util.h"
#include "test_gen_ir.h"

/* chains.bin: the ssh chain's trailing unconditional RETURN. */
#define FR_SSH_RETURN	15

static struct ipt_replace *fr_rebuild_af(int af, const struct ipt_replace *orig,
					 const struct bf_ir *ir, size_t *lenp)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ipt_replace *r;
	void *blob;

	ck_assert_int_eq(xtu_from_ir(af, ir, &blob, &size, &n, he, uf), 0);
	r = calloc(1, sizeof(*r) + size);
	ck_assert_ptr_nonnull(r);
	memcpy(r, orig, sizeof(*r));
	r->size = size;
	r->num_entries = n;
	memcpy(r->hook_entry, he, sizeof(he));
	memcpy(r->underflow, uf, sizeof(uf));
	memcpy(r->entries, blob, size);
	free(blob);
	*lenp = sizeof(*r) + size;
	return r;
}

static struct ipt_replace *fr_rebuild(const struct ipt_replace *orig,
				      const struct bf_ir *ir, size_t *lenp)
{
	return fr_rebuild_af(AF_INET, orig, ir, lenp);
}

static const struct bf_chain *fr_chain(const struct bf_ir *ir, const char *name)
{
	uint32_t i;

	for (i = 0; i < ir->n_chains; i++)
		if (!strcmp(ir->chains[i].name, name))
			return &ir->chains[i];
	ck_abort_msg("no chain %s", name);
	return NULL;
}

/*
 * fuzz_xt: a user chain's last RETURN carrying only ip bits ipt_do_table()
 * ignores (IPT_INV_TOS here) was a rule followed by an ERROR fall-through;
 * bf_xt4_from_ir() wrote it back unconditional, so a second translation
 * made it the chain's end: the IR changed across a round trip. It must be
 * the chain's end (RETURN, counted) both times.
 */
START_TEST(test_fuzz_xt_return_ignored_bits)
{
	static const struct { uint8_t inv, flags; } bits[] = {
		{ IPT_INV_TOS, 0 }, { IPT_INV_PROTO, 0 }, { 0, IPT_F_GOTO },
	};
	struct ipt_replace *repl, *again;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	const struct bf_chain *c, *c2;
	size_t len, len2;

	repl = xtu_load("chains", &len);
	xtu_entry(repl, FR_SSH_RETURN)->ip.invflags = bits[_i].inv;
	xtu_entry(repl, FR_SSH_RETURN)->ip.flags = bits[_i].flags;
	ck_assert_int_eq(bf_xt4_translate(repl, len, &ir, &err), 0);
	c = fr_chain(ir, "ssh");
	ck_assert_int_eq(c->end, BF_V_RETURN);
	ck_assert_uint_eq(c->end_index, FR_SSH_RETURN);
	ck_assert(c->end_counts);
	again = fr_rebuild(repl, ir, &len2);
	ck_assert_int_eq(bf_xt4_translate(again, len2, &ir2, &err), 0);
	c2 = fr_chain(ir2, "ssh");
	ck_assert_uint_eq(c2->n_rules, c->n_rules);
	ck_assert_int_eq(c2->end, c->end);
	ck_assert_uint_eq(c2->end_index, c->end_index);
	bf_ir_free(ir2);
	bf_ir_free(ir);
	free(again);
	free(repl);
}
END_TEST

/* A RETURN with a real condition stays a rule: the chain falls through. */
START_TEST(test_fuzz_xt_conditional_return_stays_rule)
{
	struct ipt_replace *repl;
	struct bf_err err = { 0 };
	struct bf_ir *ir;
	const struct bf_chain *c;
	size_t len;

	repl = xtu_load("chains", &len);
	xtu_entry(repl, FR_SSH_RETURN)->ip.proto = IPPROTO_UDP;
	ck_assert_int_eq(bf_xt4_translate(repl, len, &ir, &err), 0);
	c = fr_chain(ir, "ssh");
	ck_assert_int_eq(c->end, BF_V_DROP);
	ck_assert(!c->end_counts);
	ck_assert_int_eq(c->rules[c->n_rules - 1].verdict, BF_V_RETURN);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

/*
 * fuzz_xt, IPv6 (ufw6's table): a user chain's trailing RETURN whose
 * ip6t_ip6 had its padding bytes (after invflags) set was not
 * unconditional as the IR sees it, so it became a rule and the chain an
 * ERROR fall-through; bf_xt6_from_ir() wrote the padding back as zeroes
 * and the second translation made it the chain's end. The padding, and
 * the bits ip6_packet_match() ignores (IP6T_F_TOS with a tos byte,
 * IP6T_INV_TOS, IP6T_INV_FRAG, IP6T_INV_PROTO without IP6T_F_PROTO), must
 * leave it the chain's end (RETURN, counted) both times.
 */
START_TEST(test_fuzz_xt6_return_ignored_bits)
{
	struct ipt_replace *repl, *again;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	const struct bf_chain *c, *c2;
	struct ip6t_entry *e;
	uint32_t end;
	size_t len, len2;

	ir = xtu_translate_fixture(AF_INET6, "ip6_chains", &repl, &len);
	end = fr_chain(ir, "empty")->end_index;
	bf_ir_free(ir);
	e = xtu6_entry((struct ip6t_replace *)repl, end);
	switch (_i) {
	case 0: ((uint8_t *)&e->ipv6)[sizeof(e->ipv6) - 2] = 0x6d; break;
	case 1: e->ipv6.flags = IP6T_F_TOS; e->ipv6.tos = 0x10; break;
	case 2: e->ipv6.invflags = IP6T_INV_TOS; break;
	case 3: e->ipv6.invflags = IP6T_INV_FRAG; break;
	default: e->ipv6.invflags = IP6T_INV_PROTO; break;
	}
	ck_assert_int_eq(bf_xt6_translate((struct ip6t_replace *)repl, len, &ir, &err), 0);
	c = fr_chain(ir, "empty");
	ck_assert_int_eq(c->end, BF_V_RETURN);
	ck_assert_uint_eq(c->end_index, end);
	ck_assert(c->end_counts);
	ck_assert_uint_eq(c->n_rules, 0);
	again = fr_rebuild_af(AF_INET6, repl, ir, &len2);
	ck_assert_int_eq(bf_xt6_translate((struct ip6t_replace *)again, len2, &ir2, &err), 0);
	c2 = fr_chain(ir2, "empty");
	ck_assert_uint_eq(c2->n_rules, c->n_rules);
	ck_assert_int_eq(c2->end, c->end);
	ck_assert_uint_eq(c2->end_index, c->end_index);
	bf_ir_free(ir2);
	bf_ir_free(ir);
	free(again);
	free(repl);
}
END_TEST

/* ip6_basic.bin: "-A INPUT -p sctp -j DROP" */
#define FR6_SCTP_DROP	13

/*
 * fuzz_xt, IPv6: ip6t_ip6.proto is 16 bits and the kernel takes any value
 * (it then never equals the walk's header number); bf_xt6_translate()
 * took it too, but bf_xt6_from_ir() refused a BF_F_PROTO6 value over 255
 * with -EINVAL, so the table could not be written back (GET_ENTRIES after
 * a restart, round trips). It must come back byte for byte.
 */
START_TEST(test_fuzz_xt6_proto_16bit)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS], off;
	struct ipt_replace *repl;
	struct bf_err err = { 0 };
	struct bf_ir *ir;
	void *blob;
	size_t len;

	repl = xtu_load("ip6_basic", &len);
	xtu6_entry((struct ip6t_replace *)repl, FR6_SCTP_DROP)->ipv6.proto = 0x4084;
	if (xtu_kernel_oracle_af("fuzz_xt6_proto_16bit", AF_INET6)) {
		struct ipt_replace *copy = malloc(len);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, repl, len);
		copy->num_counters = 4;	/* a fresh netns' filter table */
		ck_assert_int_eq(xtu_kernel_replace(AF_INET6, copy, len), 0);
		free(copy);
	}
	ck_assert_int_eq(bf_xt6_translate((struct ip6t_replace *)repl, len, &ir, &err), 0);
	ck_assert_int_eq(ir->chains[0].rules[FR6_SCTP_DROP].preds[0].field, BF_F_PROTO6);
	ck_assert_uint_eq(ir->chains[0].rules[FR6_SCTP_DROP].preds[0].value, 0x4084);
	ck_assert_int_eq(bf_xt6_from_ir(ir, &blob, &size, &n, he, uf), 0);
	ck_assert_uint_eq(size, repl->size);
	off = xtu6_entry_off((struct ip6t_replace *)repl, FR6_SCTP_DROP);
	ck_assert_msg(!memcmp(blob, repl->entries, size),
		      "blob differs (entry %u at %u)", FR6_SCTP_DROP, off);
	free(blob);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

/*
 * fuzz_xt, IPv6: a limit match whose blob carries its own cost (and
 * credit_cap) keeps them, as limit_mt_check() does; bf_xt6_from_ir()
 * wrote only avg and burst, so the next translation computed another
 * bucket. ip6_xmatch.bin's entry 1 is "-A INPUT -m limit --limit 3/min
 * --limit-burst 4 -j ACCEPT".
 */
START_TEST(test_fuzz_xt6_limit_own_cost)
{
	struct ipt_replace *repl, *again;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	const struct bf_pred *p, *p2;
	struct xt_entry_match *m;
	struct xt_rateinfo *ri;
	size_t len, len2;

	repl = xtu_load("ip6_xmatch", &len);
	m = (void *)(xtu6_entry((struct ip6t_replace *)repl, 1) + 1);
	ck_assert_str_eq(m->u.user.name, "limit");
	ri = (void *)m->data;
	ri->credit_cap = 5000;
	ri->cost = 1000;
	ck_assert_int_eq(bf_xt6_translate((struct ip6t_replace *)repl, len, &ir, &err), 0);
	p = &ir->chains[0].rules[1].preds[0];
	ck_assert_int_eq(p->field, BF_F_LIMIT);
	ck_assert_uint_eq(p->mask, 5000);
	ck_assert_uint_eq(p->hi, 1000);
	again = fr_rebuild_af(AF_INET6, repl, ir, &len2);
	ck_assert_int_eq(bf_xt6_translate((struct ip6t_replace *)again, len2, &ir2, &err), 0);
	p2 = &ir2->chains[0].rules[1].preds[0];
	ck_assert_uint_eq(p2->value, p->value);
	ck_assert_uint_eq(p2->lo, p->lo);
	ck_assert_uint_eq(p2->mask, p->mask);
	ck_assert_uint_eq(p2->hi, p->hi);
	bf_ir_free(ir2);
	bf_ir_free(ir);
	free(again);
	free(repl);
}
END_TEST

static uint16_t fr_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * fuzz_load: bf_interp_run() read the IPv4 header through a struct iphdr
 * pointer, misaligned for an Ethernet frame + 14 (UBSan). Every offset
 * must work and give the same verdict.
 */
START_TEST(test_fuzz_load_interp_unaligned)
{
	uint8_t buf[64 + 8], *ip;
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_ACCEPT, true);
	struct bf_rule *r = tb_rule(ir, in, BF_V_DROP, 0);
	size_t off;
	uint16_t c;

	tb_pred(r, BF_F_SADDR4, false, htonl(0x0a000001), 0xffffffff, 0, 0, 0);
	tb_finish(ir);
	for (off = 0; off < 4; off++) {
		memset(buf, 0, sizeof(buf));
		ip = buf + off;
		ip[0] = 0x45;
		ip[3] = 20;
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		ip[12] = 10;
		ip[15] = 1;
		c = fr_csum(ip, 20);
		ip[10] = c >> 8;
		ip[11] = c;
		ck_assert_int_eq(bf_interp_run(ir, NF_INET_LOCAL_IN, ip, 20, "", "", NULL),
				 BF_V_DROP);
	}
	tb_free(ir);
}
END_TEST

static Suite *fuzz_regress_suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("fuzz_regress");

	tcase_add_loop_test(tc, test_fuzz_xt_return_ignored_bits, 0, 3);
	tcase_add_test(tc, test_fuzz_xt_conditional_return_stays_rule);
	tcase_add_loop_test(tc, test_fuzz_xt6_return_ignored_bits, 0, 5);
	tcase_add_test(tc, test_fuzz_xt6_proto_16bit);
	tcase_add_test(tc, test_fuzz_xt6_limit_own_cost);
	tcase_add_test(tc, test_fuzz_load_interp_unaligned);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(fuzz_regress_suite);
