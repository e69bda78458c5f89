// SPDX-License-Identifier: GPL-2.0
/*
 * Real blobs, made by iptables-legacy and read back from the kernel
 * (blobs/capture.sh): they translate, the in-place normalisation leaves the
 * kernel's own bytes (comefrom included) untouched, blob -> IR -> blob is
 * byte for byte identical, and the IR text of chosen rules is as expected.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "test_xt_util.h"

static const char *const fixtures[] = {
	"empty", "basic", "chains", "tcp", "udp_icmp", "misc", "deep6", "nested",
	"matches", "l2", "xmatch", "ct", "targets",
};

#define N_FIXTURES (int)(sizeof(fixtures) / sizeof(fixtures[0]))

static struct bf_ir *xtf_translate(const char *name, struct ipt_replace **replp,
				   size_t *lenp)
{
	return xtu_translate_fixture(AF_INET, name, replp, lenp);
}

START_TEST(test_fixture_normalise_is_identity)
{
	xtu_check_normalise_identity(AF_INET, fixtures[_i]);
}
END_TEST

START_TEST(test_fixture_round_trip)
{
	xtu_check_round_trip(AF_INET, fixtures[_i]);
}
END_TEST

START_TEST(test_fixture_round_trip_twice)
{
	xtu_check_round_trip_twice(AF_INET, fixtures[_i]);
}
END_TEST

/*
 * -m state as xt_state revision 0 (what iptables writes when the kernel
 * has no conntrack match): the "ct" fixture's first rule rewritten in IR
 * as xt_state, serialised, translated back and serialised again: same
 * bytes, the same IR (UNTRACKED is 64 in xt_state, 0x100 in the IR; a
 * bit no packet has is kept for the round trip).
 */
START_TEST(test_state_rev0_round_trip)
{
	uint32_t size, size2, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ipt_replace *repl, *again;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	struct bf_pred *p;
	void *blob, *blob2;
	char line[256];
	size_t len;

	ir = xtf_translate("ct", &repl, &len);
	p = &ir->chains[0].rules[0].preds[0];
	ck_assert_int_eq(p->field, BF_F_CTSTATE);
	p->flags = 0;
	p->value = BF_CT_ESTABLISHED | BF_CT_UNTRACKED;
	p->lo = 0x20;
	ck_assert_int_eq(bf_xt4_from_ir(ir, &blob, &size, &n, he, uf), 0);
	ck_assert_uint_eq(size, repl->size - 160);	/* match of 200 bytes -> 40 */
	again = calloc(1, sizeof(*again) + size);
	memcpy(again, repl, sizeof(*again));
	again->size = size;
	memcpy(again->hook_entry, he, sizeof(he));
	memcpy(again->underflow, uf, sizeof(uf));
	memcpy(again->entries, blob, size);
	ck_assert_int_eq(bf_xt4_translate(again, sizeof(*again) + size, &ir2, &err), 0);
	p = &ir2->chains[0].rules[0].preds[0];
	ck_assert_uint_eq(p->value, BF_CT_ESTABLISHED | BF_CT_UNTRACKED);
	ck_assert_uint_eq(p->lo, 0x20);
	bf_ir_rule_str(ir2, &ir2->chains[0], &ir2->chains[0].rules[0], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#1 [0] ctstate ESTABLISHED,UNTRACKED -> ACCEPT");
	ck_assert_int_eq(bf_xt4_from_ir(ir2, &blob2, &size2, &n, he, uf), 0);
	ck_assert_uint_eq(size2, size);
	ck_assert(!memcmp(blob2, blob, size));
	free(blob2);
	bf_ir_free(ir2);
	free(again);
	free(blob);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

START_TEST(test_initial_filter_is_kernel_table)
{
	struct ipt_replace *init, *kern;
	struct bf_err err = { 0 };
	size_t ilen, klen;
	struct bf_ir *ir;

	ck_assert_int_eq(bf_xt4_initial_filter(&init, &ilen), 0);
	kern = xtu_load("empty", &klen);
	ck_assert_uint_eq(ilen, klen);
	ck_assert_uint_eq(init->size, 632);
	ck_assert_uint_eq(init->num_entries, 4);
	ck_assert(!memcmp(init, kern, ilen));
	ck_assert_int_eq(bf_xt4_translate(init, ilen, &ir, &err), 0);
	ck_assert_uint_eq(ir->n_chains, 3);
	bf_ir_free(ir);
	free(init);
	free(kern);
}
END_TEST

static const struct xtu_golden goldens[] = {
	{ "basic", "INPUT", 1, "INPUT#1 [0] saddr 10.0.0.0/255.0.0.0 !daddr 1.2.3.4/255.255.255.255 iif eth+ proto 6 l4(tcp,20) dport 22-22 tcpflags 0x02/0x17 -> DROP" },
	{ "basic", "INPUT", 3, "INPUT#3 [2] !iif eth0 proto 17 -> ACCEPT" },
	{ "basic", "FORWARD", 1, "FORWARD#1 [4] !oif lo -> DROP" },
	{ "basic", "OUTPUT", 1, "OUTPUT#1 [7] saddr 10.1.2.3/255.255.255.255 -> NEXT" },
	{ "basic", "OUTPUT", 3, "OUTPUT#3 [9] !proto 6 -> ACCEPT" },
	{ "chains", "INPUT", 1, "INPUT#1 [0] proto 6 l4(tcp,20) dport 22-22 -> JUMP ssh" },
	{ "chains", "INPUT", 2, "INPUT#2 [1] proto 6 l4(tcp,20) dport 80-80 -> GOTO web" },
	{ "chains", "ssh", 1, "ssh#1 [13] saddr 10.0.0.0/255.0.0.0 -> RETURN" },
	{ "chains", "OUTPUT", 1, "OUTPUT#1 [7] -> RETURN" },
	{ "tcp", "INPUT", 1, "INPUT#1 [0] proto 6 l4(tcp,20) -> ACCEPT" },
	{ "tcp", "INPUT", 3, "INPUT#3 [2] proto 6 l4(tcp,20) !sport 1-1023 !dport 443-443 -> DROP" },
	{ "tcp", "INPUT", 5, "INPUT#5 [4] proto 6 l4(tcp,20) !tcpflags 0x02/0x17 -> ACCEPT" },
	{ "tcp", "INPUT", 9, "INPUT#9 [8] proto 6 l4(tcp,20) !tcpopt 2 -> DROP" },
	{ "tcp", "INPUT", 10, "INPUT#10 [9] proto 6 l4(tcp,20) !sport 0-65535 -> DROP" },
	{ "udp_icmp", "INPUT", 2, "INPUT#2 [1] proto 17 l4(udp,8) sport 53-53 dport 1024-65535 -> ACCEPT" },
	{ "udp_icmp", "INPUT", 4, "INPUT#4 [3] proto 1 l4(icmp,8) icmp any -> ACCEPT" },
	{ "udp_icmp", "INPUT", 6, "INPUT#6 [5] proto 1 l4(icmp,8) icmp type 3 code 4-4 -> DROP" },
	{ "udp_icmp", "INPUT", 7, "INPUT#7 [6] proto 1 l4(icmp,8) !icmp type 0 code 0-255 -> DROP" },
	{ "misc", "INPUT", 1, "INPUT#1 [0] frag -> DROP" },
	{ "misc", "INPUT", 2, "INPUT#2 [1] proto 6 !frag l4(tcp,20) dport 22-22 -> ACCEPT" },
	{ "misc", "INPUT", 3, "INPUT#3 [2] saddr 10.0.0.0/255.0.255.0 -> DROP" },
	{ "misc", "INPUT", 6, "INPUT#6 [5] proto 6 l4(tcp,20) dport 25-25 comment \"smtp\" -> DROP" },
	{ "misc", "INPUT", 7, "INPUT#7 [6] iif + -> ACCEPT" },
	{ "nested", "INPUT", 1, "INPUT#1 [0] !saddr 10.0.0.0/255.0.0.0 !iif eth+ proto 17 l4(udp,8) !sport 1-1023 -> GOTO a" },
	{ "nested", "INPUT", 3, "INPUT#3 [2] comment \"count only\" -> NEXT" },
	{ "matches", "INPUT", 1, "INPUT#1 [0] proto 6 multiport(dst,3) 22 80 1000:2000 -> DROP" },
	{ "matches", "INPUT", 2, "INPUT#2 [1] proto 17 !multiport(src,2) 53 5000:5001 multiport(either,1) 7 -> ACCEPT" },
	{ "matches", "INPUT", 3, "INPUT#3 [2] proto 6 multiport(either,15) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -> DROP" },
	{ "matches", "INPUT", 4, "INPUT#4 [3] iprange(0x23) srange 10.1.0.5-10.1.0.9 !drange 10.0.0.1-10.0.0.1 -> DROP" },
	{ "matches", "INPUT", 5, "INPUT#5 [4] iprange(0x11) !srange 192.168.0.0-192.168.255.255 -> ACCEPT" },
	{ "matches", "INPUT", 6, "INPUT#6 [5] length 100-200 -> DROP" },
	{ "matches", "INPUT", 7, "INPUT#7 [6] !length 20-1400 -> DROP" },
	{ "matches", "INPUT", 8, "INPUT#8 [7] ttl == 5 -> DROP" },
	{ "matches", "INPUT", 9, "INPUT#9 [8] ttl != 64 ttl < 100 -> DROP" },
	{ "matches", "INPUT", 10, "INPUT#10 [9] ttl > 250 comment \"high ttl\" -> DROP" },
	{ "matches", "OUTPUT", 1, "OUTPUT#1 [12] proto 132 multiport(src,2) 9 10:12 -> DROP" },
	{ "l2", "INPUT", 1, "INPUT#1 [0] pkttype 1 -> DROP" },
	{ "l2", "INPUT", 2, "INPUT#2 [1] saddr 10.9.0.0/255.255.0.0 !pkttype 0 -> DROP" },
	{ "l2", "INPUT", 3, "INPUT#3 [2] smac 02:00:00:00:aa:bb -> DROP" },
	{ "l2", "FORWARD", 1, "FORWARD#1 [5] saddr 10.8.0.0/255.255.0.0 !smac 02:00:00:00:aa:bb -> DROP" },
	{ "l2", "OUTPUT", 1, "OUTPUT#1 [8] pkttype 2 -> DROP" },
	{ "ct", "INPUT", 1, "INPUT#1 [0] ctstate RELATED,ESTABLISHED -> ACCEPT" },
	{ "ct", "INPUT", 4, "INPUT#4 [3] !ctstate NEW,UNTRACKED -> JUMP ctchk" },
	{ "ct", "INPUT", 6, "INPUT#6 [5] saddr 10.1.0.0/255.255.0.0 !ctstate INVALID -> ACCEPT" },
	{ "ct", "ctchk", 1, "ctchk#1 [11] ctstate INVALID,NEW,UNTRACKED -> DROP" },
	{ "l2", "macs", 1, "macs#1 [11] smac 02:11:22:33:44:55 pkttype 0 -> ACCEPT" },
	{ "xmatch", "INPUT", 1, "INPUT#1 [0] mark 0x5/0xff -> DROP" },
	{ "xmatch", "INPUT", 2, "INPUT#2 [1] limit avg 200000 burst 4 (cost 640000 cap 2560000) -> ACCEPT" },
	{ "xmatch", "INPUT", 3, "INPUT#3 [2] addrtype src 0x0 dst 0x4 iface-in -> ACCEPT" },
	{ "xmatch", "FORWARD", 1, "FORWARD#1 [4] addrtype src 0x2 dst 0x0 iface-out -> DROP" },
	{ "xmatch", "OUTPUT", 1, "OUTPUT#1 [7] !mark 0x7/0xffffffff -> DROP" },
	{ "xmatch", "OUTPUT", 2, "OUTPUT#2 [8] addrtype src ! 0x4 dst 0x0 -> DROP" },
	{ "xmatch", "adt", 1, "adt#1 [11] addrtype src 0x0 dst 0x28 -> RETURN" },
	{ "nested", "OUTPUT", 1, "OUTPUT#1 [7] oif + -> JUMP b" },
	{ "nested", "a", 1, "a#1 [10] proto 6 l4(tcp,20) tcpflags 0x12/0x12 -> GOTO b" },
	{ "nested", "c", 2, "c#2 [20] comment \"x\" comment \"y\" -> ACCEPT" },
	{ "misc", "OUTPUT", 1, "OUTPUT#1 [9] oif eth0 proto 17 l4(udp,8) dport 53-53 comment \"dns\" -> ACCEPT" },
};

#define N_GOLDENS (int)(sizeof(goldens) / sizeof(goldens[0]))

START_TEST(test_ir_golden_text)
{
	xtu_check_golden(AF_INET, &goldens[_i]);
}
END_TEST

/* The structure the emitter relies on, checked on the chains fixture. */
START_TEST(test_chains_structure)
{
	struct ipt_replace *repl;
	struct bf_ir *ir;
	size_t len;

	ir = xtf_translate("chains", &repl, &len);
	ck_assert_uint_eq(ir->n_chains, 7);
	ck_assert_int_eq(ir->hook_chain[NF_INET_LOCAL_IN], 0);
	ck_assert_int_eq(ir->hook_chain[NF_INET_FORWARD], 1);
	ck_assert_int_eq(ir->hook_chain[NF_INET_LOCAL_OUT], 2);
	ck_assert_int_eq(ir->hook_chain[NF_INET_PRE_ROUTING], -1);
	ck_assert_int_eq(ir->chains[0].end, BF_V_DROP);
	ck_assert_uint_eq(ir->chains[0].end_index, 4);
	ck_assert_str_eq(ir->chains[3].name, "empty");
	ck_assert_int_eq(ir->chains[3].hook, BF_HOOK_NONE);
	ck_assert_uint_eq(ir->chains[3].n_rules, 0);
	ck_assert_int_eq(ir->chains[3].end, BF_V_RETURN);
	ck_assert(ir->chains[3].end_counts);
	ck_assert_uint_eq(ir->chains[3].head_index, 10);
	ck_assert_uint_eq(ir->chains[3].end_index, 11);
	ck_assert_int_eq(ir->chains[0].rules[0].verdict, BF_V_JUMP);
	ck_assert_uint_eq(ir->chains[0].rules[0].target, 4);
	ck_assert_int_eq(ir->chains[0].rules[1].verdict, BF_V_GOTO);
	ck_assert_uint_eq(ir->chains[0].rules[1].target, 5);
	ck_assert_uint_eq(ir->n_entries, 24);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

/* A user chain without RETURN falls into the next ERROR head: DROP, uncounted. */
START_TEST(test_chain_without_return)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ipt_replace *repl, *r2;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	void *blob;
	size_t len;

	ir = xtf_translate("chains", &repl, &len);
	ir->chains[3].end = BF_V_DROP;	/* "empty" */
	ir->chains[3].end_counts = false;
	ck_assert_int_eq(bf_xt4_from_ir(ir, &blob, &size, &n, he, uf), 0);
	ck_assert_uint_eq(n, repl->num_entries - 1);
	r2 = calloc(1, sizeof(*r2) + size);
	memcpy(r2, repl, sizeof(*r2));
	r2->size = size;
	r2->num_entries = n;
	memcpy(r2->hook_entry, he, sizeof(he));
	memcpy(r2->underflow, uf, sizeof(uf));
	memcpy(r2->entries, blob, size);
	ck_assert_int_eq(bf_xt4_translate(r2, sizeof(*r2) + size, &ir2, &err), 0);
	ck_assert_int_eq(ir2->chains[3].end, BF_V_DROP);
	ck_assert(!ir2->chains[3].end_counts);
	ck_assert_uint_eq(ir2->chains[3].end_index, ir2->chains[4].head_index);
	bf_ir_free(ir2);
	free(r2);
	free(blob);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

START_TEST(test_deep7_refused)
{
	struct bf_err err = { 0 };
	struct ipt_replace *repl;
	struct bf_ir *ir = NULL;
	size_t len;

	repl = xtu_load("deep7", &len);
	ck_assert_int_eq(bf_xt4_translate(repl, len, &ir, &err), -E2BIG);
	ck_assert_ptr_null(ir);
	ck_assert_str_eq(err.msg, "chain c7: nested 7 levels below a built-in chain; bpfilter supports 6 (BPF call depth)");
	free(repl);
}
END_TEST

START_TEST(test_revision_probes)
{
	ck_assert_int_eq(bf_xt4_match_revision("tcp", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("udp", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("icmp", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("comment", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("tcp", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("multiport", 1), 0);
	ck_assert_int_eq(bf_xt4_match_revision("multiport", 0), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("iprange", 1), 0);
	ck_assert_int_eq(bf_xt4_match_revision("iprange", 0), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("length", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("length", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("ttl", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("ttl", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("pkttype", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("pkttype", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("mac", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("mac", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("conntrack", 1), 0);
	ck_assert_int_eq(bf_xt4_match_revision("conntrack", 2), 0);
	ck_assert_int_eq(bf_xt4_match_revision("conntrack", 3), 0);
	ck_assert_int_eq(bf_xt4_match_revision("conntrack", 0), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("conntrack", 4), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("state", 0), 0);
	ck_assert_int_eq(bf_xt4_match_revision("state", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("string", 0), -ENOENT);
	ck_assert_int_eq(bf_xt4_target_revision("", 0), 0);
	ck_assert_int_eq(bf_xt4_target_revision("ERROR", 0), 0);
	ck_assert_int_eq(bf_xt4_target_revision("ERROR", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_target_revision("REJECT", 0), 0);
	ck_assert_int_eq(bf_xt4_target_revision("REJECT", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_target_revision("LOG", 0), 0);
	ck_assert_int_eq(bf_xt4_target_revision("LOG", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_target_revision("NFLOG", 0), -ENOENT);
	ck_assert_int_eq(bf_xt4_target_revision("MASQUERADE", 0), -ENOENT);
}
END_TEST

static Suite *xt_fixtures_suite(void)
{
	Suite *s = suite_create("xt_fixtures");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_fixture_normalise_is_identity, 0, N_FIXTURES);
	tcase_add_loop_test(tc, test_fixture_round_trip, 0, N_FIXTURES);
	tcase_add_loop_test(tc, test_fixture_round_trip_twice, 0, N_FIXTURES);
	tcase_add_test(tc, test_initial_filter_is_kernel_table);
	tcase_add_test(tc, test_state_rev0_round_trip);
	tcase_add_loop_test(tc, test_ir_golden_text, 0, N_GOLDENS);
	tcase_add_test(tc, test_chains_structure);
	tcase_add_test(tc, test_chain_without_return);
	tcase_add_test(tc, test_deep7_refused);
	tcase_add_test(tc, test_revision_probes);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_fixtures_suite);
