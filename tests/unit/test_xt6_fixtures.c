// SPDX-License-Identifier: GPL-2.0
/*
 * IPv6 blobs made by ip6tables-legacy and read back from the kernel
 * (blobs/capture.sh, *.in6): they translate with bf_xt6_translate(), the
 * in-place normalisation leaves the kernel's bytes untouched, blob -> IR
 * -> blob is byte for byte identical, the IR text of chosen rules is as
 * expected, and the initial table is the kernel's.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "test_xt_util.h"

static const char *const fixtures6[] = {
	"ip6_empty", "ip6_basic", "ip6_chains", "ip6_matches", "ip6_ufw",
	"ip6_xmatch", "ip6_rt", "ip6_xh", "ip6_adt", "ip6_adt_rt",
};

#define N_FIXTURES6 (int)(sizeof(fixtures6) / sizeof(fixtures6[0]))

static struct bf_ir *xt6f_translate(const char *name, struct ip6t_replace **replp,
				    size_t *lenp)
{
	return xtu_translate_fixture(AF_INET6, name, (struct ipt_replace **)replp, lenp);
}

START_TEST(test6_normalise_is_identity)
{
	xtu_check_normalise_identity(AF_INET6, fixtures6[_i]);
}
END_TEST

START_TEST(test6_round_trip)
{
	xtu_check_round_trip(AF_INET6, fixtures6[_i]);
}
END_TEST

START_TEST(test6_round_trip_twice)
{
	xtu_check_round_trip_twice(AF_INET6, fixtures6[_i]);
}
END_TEST

/* An IPv6 IR is not an IPv4 blob, and the other way round. */
START_TEST(test6_family_mismatch)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ip6t_replace *repl;
	struct bf_ir *ir;
	void *blob = NULL;
	size_t len;

	ir = xt6f_translate("ip6_basic", &repl, &len);
	ck_assert_int_eq(bf_xt4_from_ir(ir, &blob, &size, &n, he, uf), -EAFNOSUPPORT);
	ck_assert_ptr_null(blob);
	ir->family = AF_INET;
	ck_assert_int_eq(bf_xt6_from_ir(ir, &blob, &size, &n, he, uf), -EAFNOSUPPORT);
	ck_assert_ptr_null(blob);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

START_TEST(test6_initial_filter_is_kernel_table)
{
	struct ip6t_replace *init, *kern;
	struct bf_err err = { 0 };
	size_t ilen, klen;
	struct bf_ir *ir;

	ck_assert_int_eq(bf_xt6_initial_filter(&init, &ilen), 0);
	kern = xtu6_load("ip6_empty", &klen);
	ck_assert_uint_eq(ilen, klen);
	/* 3 x (168 + 40) + 168 + 64, measured: IP6T_SO_GET_INFO in a fresh netns */
	ck_assert_uint_eq(init->size, 856);
	ck_assert_uint_eq(init->num_entries, 4);
	ck_assert(!memcmp(init, kern, ilen));
	ck_assert_int_eq(bf_xt6_translate(init, ilen, &ir, &err), 0);
	ck_assert_uint_eq(ir->n_chains, 3);
	ck_assert_int_eq(ir->family, AF_INET6);
	bf_ir_free(ir);
	free(init);
	free(kern);
}
END_TEST

static const struct xtu_golden goldens6[] = {
	{ "ip6_basic", "INPUT", 1, "INPUT#1 [0] saddr6 fd00::/ff00:: !daddr6 fd00::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff iif eth+ proto6 6 l4(tcp,20) dport 22-22 tcpflags 0x02/0x17 -> DROP" },
	{ "ip6_basic", "INPUT", 3, "INPUT#3 [2] !iif eth0 proto6 17 -> ACCEPT" },
	{ "ip6_basic", "INPUT", 4, "INPUT#4 [3] proto6 58 l4(58,8) icmp6 type 128 code 0-255 -> ACCEPT" },
	{ "ip6_basic", "INPUT", 5, "INPUT#5 [4] proto6 58 l4(58,8) !icmp6 type 1 code 4-4 -> DROP" },
	{ "ip6_basic", "INPUT", 7, "INPUT#7 [6] proto6 17 l4(udp,8) sport 53-53 dport 1024-65535 -> ACCEPT" },
	{ "ip6_basic", "INPUT", 8, "INPUT#8 [7] proto6 6 l4(tcp,20) !sport 1-1023 !dport 443-443 -> DROP" },
	{ "ip6_basic", "INPUT", 11, "INPUT#11 [10] proto6 6 l4(tcp,20) !tcpopt 3 -> DROP" },
	/* -p all: IP6T_F_PROTO with proto 0, the header walk must succeed */
	{ "ip6_basic", "INPUT", 12, "INPUT#12 [11] proto6 0 -> ACCEPT" },
	{ "ip6_basic", "INPUT", 13, "INPUT#13 [12] !proto6 6 -> ACCEPT" },
	{ "ip6_basic", "FORWARD", 1, "FORWARD#1 [15] !oif lo -> DROP" },
	{ "ip6_basic", "FORWARD", 2, "FORWARD#2 [16] saddr6 2001:db8::/ffff:ffff:: daddr6 2001:db8::/ffff:ffff:0:ffff:: oif eth1 -> ACCEPT" },
	{ "ip6_basic", "OUTPUT", 1, "OUTPUT#1 [18] saddr6 fe80::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff comment \"link local\" -> RETURN" },
	{ "ip6_chains", "INPUT", 1, "INPUT#1 [0] proto6 6 l4(tcp,20) dport 22-22 -> JUMP ssh" },
	{ "ip6_chains", "INPUT", 2, "INPUT#2 [1] proto6 6 l4(tcp,20) dport 80-80 -> GOTO web" },
	{ "ip6_chains", "FORWARD", 2, "FORWARD#2 [6] !saddr6 fd00::/ffff:: -> GOTO a" },
	{ "ip6_chains", "OUTPUT", 1, "OUTPUT#1 [8] -> RETURN" },
	{ "ip6_chains", "a", 1, "a#1 [11] iif eth0 -> GOTO b" },
	{ "ip6_chains", "b", 1, "b#1 [15] proto6 58 l4(58,8) icmp6 type 135 code 0-255 -> ACCEPT" },
	{ "ip6_chains", "b", 2, "b#2 [16] comment \"end of b\" -> NEXT" },
	{ "ip6_chains", "ssh", 1, "ssh#1 [21] saddr6 fd00::/ff00:: -> RETURN" },
	{ "ip6_xmatch", "INPUT", 1, "INPUT#1 [0] mark 0x5/0xff -> DROP" },
	/* -m rt: segsleft is always compared (0:0xffffffff by default) */
	{ "ip6_rt", "INPUT", 1, "INPUT#1 [0] rt segsleft 0-4294967295 type 0 -> DROP" },
	{ "ip6_rt", "INPUT", 2, "INPUT#2 [1] rt segsleft 1-3 type !2 -> ACCEPT" },
	{ "ip6_rt", "INPUT", 3, "INPUT#3 [2] rt segsleft !5-5 len !24 -> DROP" },
	{ "ip6_rt", "INPUT", 4, "INPUT#4 [3] rt segsleft 0-4294967295 type 0 res0 -> DROP" },
	{ "ip6_rt", "FORWARD", 1, "FORWARD#1 [5] rt segsleft 0-4294967295 len 8 -> ACCEPT" },
	{ "ip6_rt", "OUTPUT", 1, "OUTPUT#1 [7] rt segsleft 0-4294967295 -> ACCEPT" },
	/* -m frag, -m hbh, -m dst: --fraglen is kept; hbh/dst lengths in bytes */
	{ "ip6_xh", "INPUT", 1, "INPUT#1 [0] frag id 100-200 more -> DROP" },
	{ "ip6_xh", "INPUT", 2, "INPUT#2 [1] frag id !7-7 len 8 res first -> ACCEPT" },
	{ "ip6_xh", "INPUT", 3, "INPUT#3 [2] frag id 0-4294967295 last -> DROP" },
	{ "ip6_xh", "INPUT", 4, "INPUT#4 [3] hbh len 8 -> DROP" },
	{ "ip6_xh", "INPUT", 5, "INPUT#5 [4] hbh len !16 opts 1:4,0:any,5:any -> ACCEPT" },
	{ "ip6_xh", "INPUT", 6, "INPUT#6 [5] dst opts 1:any,0:any -> DROP" },
	{ "ip6_xh", "FORWARD", 1, "FORWARD#1 [7] dst len !24 -> ACCEPT" },
	{ "ip6_xh", "OUTPUT", 1, "OUTPUT#1 [9] hbh dst frag id 0-4294967295 -> ACCEPT" },
	/* -m addrtype in ip6tables: UNSPEC 0x1, UNICAST 0x2, MULTICAST 0x20 */
	{ "ip6_adt", "INPUT", 1, "INPUT#1 [0] addrtype6 src 0x2 dst 0x0 -> DROP" },
	{ "ip6_adt", "INPUT", 2, "INPUT#2 [1] addrtype6 src ! 0x20 dst ! 0x1 iface-in -> ACCEPT" },
	{ "ip6_adt", "FORWARD", 1, "FORWARD#1 [3] addrtype6 src 0x0 dst 0x20 iface-out -> DROP" },
	{ "ip6_adt", "OUTPUT", 1, "OUTPUT#1 [5] addrtype6 src 0x3 dst 0x0 -> ACCEPT" },
	/* LOCAL 0x4, ANYCAST 0x10, UNREACHABLE 0x80 (the route lookup) */
	{ "ip6_adt_rt", "INPUT", 1, "INPUT#1 [0] addrtype6 src 0x0 dst 0x4 -> ACCEPT" },
	{ "ip6_adt_rt", "INPUT", 2, "INPUT#2 [1] addrtype6 src ! 0x12 dst 0x80 -> DROP" },
	{ "ip6_adt_rt", "FORWARD", 1, "FORWARD#1 [3] addrtype6 src 0x84 dst ! 0x10 -> DROP" },
	{ "ip6_adt_rt", "OUTPUT", 1, "OUTPUT#1 [5] addrtype6 src 0x5 dst 0x0 -> ACCEPT" },
	{ "ip6_xmatch", "INPUT", 2, "INPUT#2 [1] limit avg 200000 burst 4 (cost 640000 cap 2560000) -> ACCEPT" },
	{ "ip6_xmatch", "OUTPUT", 1, "OUTPUT#1 [4] !mark 0x7/0xffffffff limit avg 1000 burst 5 (cost 3200 cap 16000) -> DROP" },
	{ "ip6_matches", "INPUT", 1, "INPUT#1 [0] proto6 6 multiport(dst,3) 22 80 1000:2000 -> DROP" },
	{ "ip6_matches", "INPUT", 2, "INPUT#2 [1] proto6 17 !multiport(src,2) 53 5000:5001 multiport(either,1) 7 -> ACCEPT" },
	{ "ip6_matches", "INPUT", 3, "INPUT#3 [2] iprange(0x23) srange6 fd00::5-fd00::9 !drange6 fd00::1-fd00::1 -> DROP" },
	{ "ip6_matches", "INPUT", 4, "INPUT#4 [3] iprange(0x11) !srange6 2001:db8::-2001:db8::ffff:ffff -> ACCEPT" },
	{ "ip6_matches", "INPUT", 6, "INPUT#6 [5] !length 40-1400 -> DROP" },
	{ "ip6_matches", "INPUT", 7, "INPUT#7 [6] ttl == 5 -> DROP" },
	{ "ip6_matches", "INPUT", 8, "INPUT#8 [7] ttl != 64 ttl < 100 -> DROP" },
	{ "ip6_matches", "INPUT", 9, "INPUT#9 [8] ttl > 250 comment \"high hl\" -> DROP" },
	{ "ip6_matches", "INPUT", 11, "INPUT#11 [10] !pkttype 0 -> ACCEPT" },
	{ "ip6_matches", "FORWARD", 1, "FORWARD#1 [14] !smac 02:00:00:00:aa:bb -> DROP" },
	{ "ip6_matches", "OUTPUT", 1, "OUTPUT#1 [16] proto6 132 multiport(src,2) 9 10:12 -> DROP" },
	/* ufw's IPv6 table: neighbour discovery needs hop limit 255 */
	{ "ip6_ufw", "ufw6-before-input", 8, "ufw6-before-input#8 [56] proto6 58 l4(58,8) icmp6 type 133 code 0-255 ttl == 255 -> ACCEPT" },
	{ "ip6_ufw", "ufw6-before-input", 14, "ufw6-before-input#14 [62] saddr6 fe80::/ffc0:: proto6 58 l4(58,8) icmp6 type 130 code 0-255 -> ACCEPT" },
	{ "ip6_matches", "macs", 1, "macs#1 [20] smac 02:11:22:33:44:55 pkttype 0 -> ACCEPT" },
};

#define N_GOLDENS6 (int)(sizeof(goldens6) / sizeof(goldens6[0]))

START_TEST(test6_ir_golden_text)
{
	xtu_check_golden(AF_INET6, &goldens6[_i]);
}
END_TEST

START_TEST(test6_chains_structure)
{
	struct ip6t_replace *repl;
	struct bf_ir *ir;
	size_t len;

	ir = xt6f_translate("ip6_chains", &repl, &len);
	ck_assert_uint_eq(ir->n_chains, 8);
	ck_assert_int_eq(ir->hook_chain[NF_INET_LOCAL_IN], 0);
	ck_assert_int_eq(ir->hook_chain[NF_INET_FORWARD], 1);
	ck_assert_int_eq(ir->hook_chain[NF_INET_LOCAL_OUT], 2);
	ck_assert_int_eq(ir->hook_chain[NF_INET_PRE_ROUTING], -1);
	ck_assert_int_eq(ir->chains[0].end, BF_V_DROP);
	ck_assert_uint_eq(ir->chains[0].end_index, 4);
	ck_assert_str_eq(ir->chains[3].name, "a");
	ck_assert_str_eq(ir->chains[5].name, "empty");
	ck_assert_uint_eq(ir->chains[5].n_rules, 0);
	ck_assert_int_eq(ir->chains[5].end, BF_V_RETURN);
	ck_assert(ir->chains[5].end_counts);
	ck_assert_int_eq(ir->chains[0].rules[0].verdict, BF_V_JUMP);
	ck_assert_uint_eq(ir->chains[0].rules[0].target, 6);
	ck_assert_int_eq(ir->chains[0].rules[1].verdict, BF_V_GOTO);
	ck_assert_uint_eq(ir->chains[0].rules[1].target, 7);
	ck_assert_uint_eq(ir->n_entries, 29);
	bf_ir_free(ir);
	free(repl);
}
END_TEST

/*
 * What ip6_tables answers to the revision probes for what bpfilter
 * translates: icmp6 and hl exist for IPv6 only, icmp and ttl for IPv4
 * only; iprange has only revision 1 for IPv6.
 */
START_TEST(test6_revision_probes)
{
	ck_assert_int_eq(bf_xt6_match_revision("tcp", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("udp", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("icmp6", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("icmp6", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_match_revision("icmp", 0), -ENOENT);
	ck_assert_int_eq(bf_xt6_match_revision("comment", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("multiport", 1), 0);
	ck_assert_int_eq(bf_xt6_match_revision("multiport", 0), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_match_revision("iprange", 1), 0);
	ck_assert_int_eq(bf_xt6_match_revision("iprange", 0), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_match_revision("length", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("hl", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("hl", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_match_revision("ttl", 0), -ENOENT);
	ck_assert_int_eq(bf_xt6_match_revision("pkttype", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("mac", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("conntrack", 3), 0);
	ck_assert_int_eq(bf_xt6_match_revision("conntrack", 4), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_match_revision("state", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("rt", 0), 0);
	ck_assert_int_eq(bf_xt6_match_revision("rt", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt4_match_revision("rt", 0), -ENOENT);
	ck_assert_int_eq(bf_xt4_match_revision("icmp6", 0), -ENOENT);
	ck_assert_int_eq(bf_xt4_match_revision("hl", 0), -ENOENT);
	ck_assert_int_eq(bf_xt6_target_revision("", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("ERROR", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("ERROR", 1), -EPROTONOSUPPORT);
	/* ip6t_REJECT and LOG exist for IPv6 (the kernel agrees: xt6_targets_kernel) */
	ck_assert_int_eq(bf_xt6_target_revision("REJECT", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("LOG", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("NFLOG", 0), -ENOENT);
}
END_TEST

static Suite *xt6_fixtures_suite(void)
{
	Suite *s = suite_create("xt6_fixtures");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test6_normalise_is_identity, 0, N_FIXTURES6);
	tcase_add_loop_test(tc, test6_round_trip, 0, N_FIXTURES6);
	tcase_add_loop_test(tc, test6_round_trip_twice, 0, N_FIXTURES6);
	tcase_add_test(tc, test6_family_mismatch);
	tcase_add_test(tc, test6_initial_filter_is_kernel_table);
	tcase_add_loop_test(tc, test6_ir_golden_text, 0, N_GOLDENS6);
	tcase_add_test(tc, test6_chains_structure);
	tcase_add_test(tc, test6_revision_probes);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt6_fixtures_suite);
