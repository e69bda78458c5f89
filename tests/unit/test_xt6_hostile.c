// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile IPv6 blobs: a real ip6tables fixture with one thing broken, and
 * the errno ip6_tables gives for it. As for IPv4 (test_xt_hostile.c) two
 * suites run the same table:
 *   xt6_hostile  bf_xt6_translate() returns `ours` (and the message);
 *   xt6_kernel   the kernel's own IP6T_SO_SET_REPLACE in a scratch
 *                network namespace returns `kernel`, so `ours == kernel`
 *                is measured. Where bpfilter is stricter on purpose
 *                `kernel` is 0 and the difference is the documented one.
 * xt6_kernel also checks that every fixture is accepted and that
 * bf_xt6_initial_filter() is what a fresh netns' ip6_tables holds (the
 * revision probes are compared in test_xt_fuzz.c).
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>

#include "unit.h"
#include "test_xt_util.h"

#define XT6H_SKIP	1	/* `kernel` value: not comparable, do not run */
#define XT6H_ENTRY	((uint32_t)sizeof(struct ip6t_entry))

typedef void (*xt6h_mut_t)(struct ip6t_replace *r, size_t *len);

struct xt6h_case {
	const char *name;
	const char *base;
	xt6h_mut_t mut;
	int ours;
	int kernel;
	const char *msg;
};

static struct ip6t_entry *E(struct ip6t_replace *r, uint32_t i) { return xtu6_entry(r, i); }
static uint32_t O(struct ip6t_replace *r, uint32_t i) { return xtu6_entry_off(r, i); }
static uint8_t *tg(struct ip6t_entry *e) { return (uint8_t *)e + e->target_offset; }
static uint8_t *m0(struct ip6t_entry *e) { return (uint8_t *)e + XT6H_ENTRY; }
static uint8_t *md(struct ip6t_replace *r, uint32_t i) { return m0(E(r, i)) + sizeof(struct xt_entry_match); }

static void set_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }

static void set_verdict(struct ip6t_entry *e, int32_t v)
{
	memcpy(tg(e) + offsetof(struct xt_standard_target, verdict), &v, sizeof(v));
}

static void set_name(uint8_t *ext, const char *name)
{
	memset(ext + 2, 0, XT_EXTENSION_MAXNAMELEN);
	memcpy(ext + 2, name, strlen(name));
}

#define MUT(n, body) static void mut_##n(struct ip6t_replace *r, size_t *len) { (void)r; (void)len; body; }

/* header */
MUT(len_short, *len = sizeof(*r) - 1)
MUT(counters_huge, r->num_counters = INT_MAX / sizeof(struct xt_counters))
MUT(counters_zero, r->num_counters = 0)
MUT(truncated, *len -= 8)
MUT(entries_huge, r->num_entries = 0x40000001)
/* ip6_empty: INPUT, FORWARD, OUTPUT policies, ERROR */
MUT(misaligned, E(r, 0)->next_offset = 212)
MUT(next_small, E(r, 0)->next_offset = 192)
MUT(next_big, E(r, 3)->next_offset = 300)
MUT(target_overlap, E(r, 0)->target_offset = 176)
MUT(target_inside, E(r, 0)->target_offset = 160)
MUT(target_small, set_u16(tg(E(r, 0)), 16))
MUT(std_size, set_u16(tg(E(r, 0)), 36))
MUT(std_rev, tg(E(r, 0))[31] = 1)
MUT(uflow_cond, E(r, 0)->ipv6.proto = 6; E(r, 0)->ipv6.flags = IP6T_F_PROTO)
MUT(uflow_tos, E(r, 0)->ipv6.tos = 1)
MUT(uflow_return, set_verdict(E(r, 0), XT_RETURN))
MUT(hook_order, r->hook_entry[1] = 208; r->hook_entry[2] = 0)
MUT(hook_off, r->hook_entry[1] = 8)
MUT(uflow_dup, r->underflow[2] = r->underflow[1])
MUT(error_nonul, memset(tg(E(r, 3)) + 32, 'A', XT_FUNCTION_MAXNAMELEN))
MUT(error_size, set_u16(tg(E(r, 3)), 60))
MUT(table_name, strcpy(r->name, "nosuch"))
MUT(table_noterm, memset(r->name, 'f', sizeof(r->name)))
MUT(hooks_more, r->valid_hooks |= 1U << NF_INET_POST_ROUTING)
MUT(hooks_less, r->valid_hooks = 0x0c)
MUT(error_cond, E(r, 3)->ipv6.flags = IP6T_F_PROTO)
/* ip6_basic: 0 tcp (-s -d -i), 1 -i lo, 3/4/5 icmp6, 6 udp, 11 -p all, 12 ! -p tcp, 18 comment */
MUT(verdict_zero, set_verdict(E(r, 0), 0))
MUT(verdict_neg, set_verdict(E(r, 0), -7))
MUT(bad_flags, E(r, 0)->ipv6.flags |= 0x08)
MUT(bad_invflags, E(r, 0)->ipv6.invflags |= 0x80)
MUT(f_tos, E(r, 1)->ipv6.flags |= IP6T_F_TOS; E(r, 1)->ipv6.tos = 0x10)
MUT(inv_tos, E(r, 1)->ipv6.invflags |= IP6T_INV_TOS)
MUT(inv_frag, E(r, 1)->ipv6.invflags |= IP6T_INV_FRAG)
MUT(inv_proto_alone, E(r, 1)->ipv6.invflags |= IP6T_INV_PROTO)
MUT(goto_no_jump, E(r, 1)->ipv6.flags |= IP6T_F_GOTO)
MUT(match_big, set_u16(m0(E(r, 0)), 1000))
MUT(match_small, set_u16(m0(E(r, 0)), 16))
MUT(match_sum, set_u16(m0(E(r, 18)), 280))
MUT(entries_more, r->num_entries++)
MUT(entries_less, r->num_entries--)
MUT(match_unknown, set_name(m0(E(r, 0)), "nosuchmatch"))
MUT(match_limit, set_name(m0(E(r, 0)), "limit"))
MUT(tcp_rev, m0(E(r, 0))[31] = 1)
MUT(comment_rev, m0(E(r, 18))[31] = 1)
MUT(tcp_noproto, E(r, 0)->ipv6.proto = 0)
MUT(tcp_no_f_proto, E(r, 0)->ipv6.flags &= ~IP6T_F_PROTO)
MUT(proto_no_f_proto, E(r, 12)->ipv6.flags &= ~IP6T_F_PROTO)
MUT(tcp_invproto, E(r, 0)->ipv6.invflags |= IP6T_INV_PROTO)
MUT(tcp_badinv, md(r, 0)[11] = 0x10)
MUT(udp_proto, E(r, 6)->ipv6.proto = 6)
MUT(udp_badinv, md(r, 6)[8] = 0x04)
MUT(icmp6_badinv, md(r, 3)[3] = 0x02)
MUT(icmp6_rev, m0(E(r, 3))[31] = 1)
MUT(icmp6_proto, E(r, 3)->ipv6.proto = IPPROTO_ICMP)
MUT(icmp_in_v6, set_name(m0(E(r, 3)), "icmp"))
MUT(match_noterm, memset(m0(E(r, 0)) + 2, 'A', XT_EXTENSION_MAXNAMELEN))
MUT(target_noterm, memset(tg(E(r, 0)) + 2, 'A', XT_EXTENSION_MAXNAMELEN))
MUT(target_unknown, set_name(tg(E(r, 0)), "NOSUCH"))
MUT(target_reject, set_name(tg(E(r, 0)), "REJECT"))
MUT(queue, set_verdict(E(r, 1), -NF_QUEUE - 1))
/* ip6_chains: a 10-13, b 14-17, empty 18-19, ssh 20-23, web 24-27, ERROR 28 */
MUT(jump_mid, set_verdict(E(r, 0), O(r, 21) + 8))
MUT(jump_end, set_verdict(E(r, 0), r->size - 8))
MUT(jump_loop, set_verdict(E(r, 22), O(r, 21)))
MUT(fall_off,
    E(r, 26)->ipv6.flags = IP6T_F_PROTO; E(r, 26)->ipv6.proto = 17;
    E(r, 27)->ipv6.flags = IP6T_F_PROTO; E(r, 27)->ipv6.proto = 17)
MUT(uflow_error, r->underflow[NF_INET_LOCAL_IN] = O(r, 10))
MUT(jump_into_rule, set_verdict(E(r, 0), O(r, 22)))
/* ip6_matches: 0 multiport, 2 iprange, 4 length, 6 hl, 9 pkttype, 11 mac, 16 OUTPUT, 20 macs */
MUT(mp_icmp, E(r, 0)->ipv6.proto = IPPROTO_ICMPV6)
MUT(mp_invproto, E(r, 0)->ipv6.invflags |= IP6T_INV_PROTO)
MUT(mp_flags, md(r, 0)[0] = 3)
MUT(mp_count, md(r, 0)[1] = 16)
MUT(mp_rev, m0(E(r, 0))[31] = 2)
MUT(mp_reversed, set_u16(md(r, 0) + offsetof(struct xt_multiport_v1, ports) + 4, 3000))
MUT(ipr_rev0, m0(E(r, 2))[31] = 0)
MUT(ipr_flags, md(r, 2)[offsetof(struct xt_iprange_mtinfo, flags)] |= 0xc0)
MUT(len_rev, m0(E(r, 4))[31] = 1)
MUT(hl_rev, m0(E(r, 6))[31] = 1)
MUT(hl_mode, md(r, 6)[0] = 9)
MUT(ttl_in_v6, set_name(m0(E(r, 6)), "ttl"))
MUT(pkttype_rev, m0(E(r, 9))[31] = 1)
MUT(mac_rev, m0(E(r, 11))[31] = 1)
MUT(mac_from_output, set_verdict(E(r, 16), O(r, 20)))
/* ip6_xmatch: 0 mark, 1 limit, 4 OUTPUT mark + limit (mark and limit: every family) */
MUT(mark_rev0, m0(E(r, 0))[31] = 0)
MUT(mark_invert, md(r, 0)[8] = 2)
MUT(limit_burst0, memset(md(r, 1) + 4, 0, 4))
MUT(limit_rev1, m0(E(r, 1))[31] = 1)
/*
 * ip6_rt: 0 --rt-type 0, 1 ! --rt-type 2 --rt-segsleft 1:3, 2 ! segsleft
 * ! len, 3 --rt-type 0 --rt-0-res, 5 FORWARD --rt-len 8, 7 OUTPUT bare.
 * struct ip6t_rt: rt_type 0, segsleft 4, hdrlen 12, flags 16,
 * invflags 17, addrs 20, addrnr 276.
 */
MUT(rt_rev, m0(E(r, 0))[31] = 1)
MUT(rt_badinv, md(r, 0)[17] = 0x08)
MUT(rt_res_no_type, md(r, 3)[16] &= (uint8_t)~IP6T_RT_TYP)
MUT(rt_res_type2, md(r, 3)[0] = 2)
MUT(rt_res_invtype, md(r, 3)[17] |= IP6T_RT_INV_TYP)
MUT(rt_addrs_no_type, md(r, 5)[16] |= IP6T_RT_FST)
MUT(rt_nstrict_no_type, md(r, 5)[16] |= IP6T_RT_FST_NSTRICT)
MUT(rt_nstrict_alone, md(r, 0)[16] |= IP6T_RT_FST_NSTRICT)
MUT(rt_unknown_flags, md(r, 5)[16] |= 0xc0)
MUT(rt_addrs, md(r, 0)[16] |= IP6T_RT_FST; md(r, 0)[276] = 1; md(r, 0)[20] = 0xfe)
MUT(rt_addrnr_alone, md(r, 7)[276] = 1)
MUT(rt_addr_alone, md(r, 7)[35] = 1)
MUT(rt_size, set_u16(m0(E(r, 0)), 32 + 272))
MUT(rt_in_proto, E(r, 0)->ipv6.flags |= IP6T_F_PROTO; E(r, 0)->ipv6.proto = 6)
/*
 * ip6_xh: 0 frag 100:200 more, 1 frag ! 7 len res first, 2 frag last,
 * 3 hbh len 8, 4 hbh ! len 16 opts 1:4,0,5, 5 dst opts 1,0, 7 FORWARD dst
 * ! len 24, 9 OUTPUT hbh dst frag. struct ip6t_frag: ids 0, hdrlen 8,
 * flags 12, invflags 13, pad 14-15; struct ip6t_opts: hdrlen 0, flags 4,
 * invflags 5, opts 6, optsnr 38, pad 39.
 */
MUT(frag_rev, m0(E(r, 0))[31] = 1)
MUT(frag_badinv, md(r, 0)[13] = 0x04)
MUT(frag_invlen, md(r, 0)[13] = 0x03)
MUT(frag_unknown_flags, md(r, 0)[12] |= 0xc0)
MUT(frag_pad, md(r, 0)[14] = 0x5a; md(r, 0)[15] = 0xa5)
MUT(frag_size, set_u16(m0(E(r, 0)), 32 + 8))
MUT(hbh_badinv, md(r, 3)[5] = 0x02)
MUT(hbh_optsnr16, md(r, 4)[38] = 16)
MUT(hbh_optsnr17, md(r, 4)[38] = 17)
MUT(hbh_optsnr255, md(r, 3)[38] = 255)
MUT(hbh_nstrict, md(r, 3)[4] |= 0x04)
MUT(hbh_unknown_flags, md(r, 3)[4] |= 0xf8)
MUT(hbh_pad, md(r, 3)[39] = 0x77)
MUT(hbh_size, set_u16(m0(E(r, 3)), 32 + 32))
MUT(dst_badinv, md(r, 5)[5] = 0x80)
MUT(dst_rev, m0(E(r, 5))[31] = 1)
MUT(dst_as_hbh, set_name(m0(E(r, 5)), "hbh"))
/*
 * ip6_adt: 0 INPUT --src-type UNICAST, 1 INPUT ! src MULTICAST ! dst
 * UNSPEC --limit-iface-in, 3 FORWARD --dst-type MULTICAST
 * --limit-iface-out, 5 OUTPUT --src-type UNSPEC,UNICAST.
 * struct xt_addrtype_info_v1: source 0, dest 2, flags 4.
 */
MUT(adt6_blackhole, set_u16(md(r, 0), 0x40))
MUT(adt6_prohibit, set_u16(md(r, 3) + 2, 0x100))
MUT(adt6_throw, set_u16(md(r, 5), 0x202))
MUT(adt6_broadcast, set_u16(md(r, 0), 0x08))
MUT(adt6_both_limits, md(r, 3)[4] |= 0x04)
MUT(adt6_out_in_input, md(r, 0)[4] |= 0x08)
MUT(adt6_in_in_output, md(r, 5)[4] |= 0x04)
MUT(adt6_local, set_u16(md(r, 0), 0x04))
MUT(adt6_anycast, set_u16(md(r, 3) + 2, 0x10))
MUT(adt6_unreachable, set_u16(md(r, 5), 0x80))
MUT(adt6_local_limit, set_u16(md(r, 3), 0x04))
MUT(adt6_unreachable_limit, set_u16(md(r, 3) + 2, 0x80))
MUT(adt6_unknown_flags, md(r, 0)[5] = 0x01)
MUT(adt6_rev0, m0(E(r, 0))[31] = 0)

static const struct xt6h_case cases[] = {
	{ "len_short", "ip6_empty", mut_len_short, -EINVAL, -EINVAL, NULL },
	{ "counters_huge", "ip6_empty", mut_counters_huge, -ENOMEM, -ENOMEM, NULL },
	{ "counters_zero", "ip6_empty", mut_counters_zero, -EINVAL, -EINVAL, "num_counters" },
	{ "truncated", "ip6_empty", mut_truncated, -EINVAL, -EINVAL, NULL },
	{ "entries_huge", "ip6_empty", mut_entries_huge, -ENOMEM, -ENOMEM, NULL },
	{ "misaligned_entry", "ip6_empty", mut_misaligned, -EINVAL, -EINVAL, NULL },
	{ "next_offset_small", "ip6_empty", mut_next_small, -EINVAL, -EINVAL, "too small" },
	{ "next_offset_big", "ip6_empty", mut_next_big, -EINVAL, -EINVAL, NULL },
	{ "target_overlap", "ip6_empty", mut_target_overlap, -EINVAL, -EINVAL, NULL },
	{ "target_inside_entry", "ip6_empty", mut_target_inside, -EINVAL, -EINVAL, NULL },
	{ "target_size_small", "ip6_empty", mut_target_small, -EINVAL, -EINVAL, NULL },
	{ "std_target_size", "ip6_empty", mut_std_size, -EINVAL, -EINVAL, NULL },
	{ "std_target_rev", "ip6_empty", mut_std_rev, -ENOENT, -ENOENT, NULL },
	{ "underflow_conditional", "ip6_empty", mut_uflow_cond, -EINVAL, -EINVAL, "policy of INPUT" },
	/* unconditional() compares the whole ip6t_ip6, tos included */
	{ "underflow_tos", "ip6_empty", mut_uflow_tos, -EINVAL, -EINVAL, "policy of INPUT" },
	{ "underflow_return", "ip6_empty", mut_uflow_return, -EINVAL, -EINVAL, NULL },
	{ "hook_order", "ip6_empty", mut_hook_order, -EINVAL, -EINVAL, NULL },
	{ "hook_not_entry", "ip6_empty", mut_hook_off, -EINVAL, -EINVAL, NULL },
	{ "underflow_duplicate", "ip6_empty", mut_uflow_dup, -EINVAL, -EINVAL, NULL },
	{ "error_without_nul", "ip6_empty", mut_error_nonul, -EINVAL, -EINVAL, NULL },
	{ "error_bad_size", "ip6_empty", mut_error_size, -EINVAL, -EINVAL, NULL },
	{ "table_unknown", "ip6_empty", mut_table_name, -ENOENT, -ENOENT, "table 'nosuch'" },
	{ "table_name_unterminated", "ip6_empty", mut_table_noterm, -ENOENT, -ENOENT, NULL },
	{ "valid_hooks_more", "ip6_empty", mut_hooks_more, -EINVAL, -EINVAL, NULL },
	{ "valid_hooks_less", "ip6_empty", mut_hooks_less, -EINVAL, -EINVAL, NULL },
	{ "verdict_zero", "ip6_basic", mut_verdict_zero, -EINVAL, -EINVAL, NULL },
	{ "verdict_negative", "ip6_basic", mut_verdict_neg, -EINVAL, -EINVAL, NULL },
	/* IP6T_F_MASK is 0x07, IP6T_INV_MASK 0x7f (ip6_checkentry()) */
	{ "bad_flags", "ip6_basic", mut_bad_flags, -EINVAL, -EINVAL, "unknown flags" },
	{ "bad_invflags", "ip6_basic", mut_bad_invflags, -EINVAL, -EINVAL, "unknown flags" },
	/* accepted and ignored by ip6_packet_match(), and so here */
	{ "f_tos", "ip6_basic", mut_f_tos, 0, 0, NULL },
	{ "inv_tos", "ip6_basic", mut_inv_tos, 0, 0, NULL },
	{ "inv_frag", "ip6_basic", mut_inv_frag, 0, 0, NULL },
	{ "inv_proto_without_f_proto", "ip6_basic", mut_inv_proto_alone, 0, 0, NULL },
	{ "goto_without_jump", "ip6_basic", mut_goto_no_jump, 0, 0, NULL },
	{ "match_size_big", "ip6_basic", mut_match_big, -EINVAL, -EINVAL, NULL },
	{ "match_size_small", "ip6_basic", mut_match_small, -EINVAL, -EINVAL, NULL },
	{ "match_sum_short", "ip6_basic", mut_match_sum, -EINVAL, -EINVAL, NULL },
	{ "num_entries_more", "ip6_basic", mut_entries_more, -EINVAL, -EINVAL, NULL },
	{ "num_entries_less", "ip6_basic", mut_entries_less, -EINVAL, -EINVAL, NULL },
	{ "match_unknown", "ip6_basic", mut_match_unknown, -ENOENT, -ENOENT, "match 'nosuchmatch' is not supported" },
	/* limit is translated for IPv6 too: a tcp match renamed "limit" has limit's wrong size */
	{ "match_limit", "ip6_basic", mut_match_limit, -EINVAL, -EINVAL,
	  "chain INPUT rule 1: match 'limit': bad size, hook, protocol or options" },
	{ "tcp_revision", "ip6_basic", mut_tcp_rev, -ENOENT, -ENOENT, "match 'tcp' revision 1 is not supported" },
	{ "comment_revision", "ip6_basic", mut_comment_rev, -EPROTOTYPE, -EPROTOTYPE, "match 'comment' revision 1" },
	{ "tcp_without_proto", "ip6_basic", mut_tcp_noproto, -EINVAL, -EINVAL, NULL },
	/* the kernel checks proto only; bpfilter needs IP6T_F_PROTO with it */
	{ "tcp_without_f_proto", "ip6_basic", mut_tcp_no_f_proto, -EOPNOTSUPP, 0,
	  "chain INPUT rule 1: protocol without IP6T_F_PROTO is not supported" },
	{ "proto_without_f_proto", "ip6_basic", mut_proto_no_f_proto, -EOPNOTSUPP, 0,
	  "chain INPUT rule 13: protocol without IP6T_F_PROTO" },
	{ "tcp_inverted_proto", "ip6_basic", mut_tcp_invproto, -EINVAL, -EINVAL, NULL },
	{ "tcp_bad_invflags", "ip6_basic", mut_tcp_badinv, -EINVAL, -EINVAL, NULL },
	{ "udp_wrong_proto", "ip6_basic", mut_udp_proto, -EINVAL, -EINVAL, NULL },
	{ "udp_bad_invflags", "ip6_basic", mut_udp_badinv, -EINVAL, -EINVAL, NULL },
	{ "icmp6_bad_invflags", "ip6_basic", mut_icmp6_badinv, -EINVAL, -EINVAL, NULL },
	{ "icmp6_revision", "ip6_basic", mut_icmp6_rev, -ENOENT, -ENOENT, "match 'icmp6' revision 1" },
	{ "icmp6_wrong_proto", "ip6_basic", mut_icmp6_proto, -EINVAL, -EINVAL, NULL },
	/* ip_tables' icmp is not registered for IPv6 */
	{ "icmp_in_ipv6", "ip6_basic", mut_icmp_in_v6, -ENOENT, -ENOENT, "match 'icmp' is not supported" },
	{ "match_name_unterminated", "ip6_basic", mut_match_noterm, -EINVAL, -EINVAL, NULL },
	{ "target_name_unterminated", "ip6_basic", mut_target_noterm, -EINVAL, -EINVAL, NULL },
	{ "target_unknown", "ip6_basic", mut_target_unknown, -ENOENT, -ENOENT, NULL },
	/*
	 * A standard target renamed REJECT: its verdict (-1, DROP) is read as
	 * --reject-with 0xffffffff, which the kernel accepts (and only drops).
	 */
	{ "target_reject", "ip6_basic", mut_target_reject, -EOPNOTSUPP, 0, "past icmp6-reject-route" },
	{ "verdict_queue", "ip6_basic", mut_queue, -EOPNOTSUPP, 0, "chain INPUT rule 2: verdict QUEUE" },
	{ "jump_mid_rule", "ip6_chains", mut_jump_mid, -ELOOP, -ELOOP, NULL },
	{ "jump_past_end", "ip6_chains", mut_jump_end, -ELOOP, -ELOOP, NULL },
	{ "jump_loop", "ip6_chains", mut_jump_loop, -ELOOP, -ELOOP, "loops" },
	{ "fall_off_end", "ip6_chains", mut_fall_off, -ELOOP, -ELOOP, NULL },
	{ "underflow_error", "ip6_chains", mut_uflow_error, -EINVAL, -EINVAL, NULL },
	{ "jump_into_chain_middle", "ip6_chains", mut_jump_into_rule, -EINVAL, 0,
	  "chain INPUT rule 1: bpfilter only jumps to the first rule of a user chain" },
	{ "multiport_icmp6", "ip6_matches", mut_mp_icmp, -EINVAL, -EINVAL, "match 'multiport'" },
	{ "multiport_inverted_proto", "ip6_matches", mut_mp_invproto, -EINVAL, -EINVAL, NULL },
	{ "multiport_bad_side", "ip6_matches", mut_mp_flags, -EINVAL, -EINVAL, NULL },
	{ "multiport_count_16", "ip6_matches", mut_mp_count, -EINVAL, -EINVAL, NULL },
	{ "multiport_revision", "ip6_matches", mut_mp_rev, -ENOENT, -ENOENT, NULL },
	{ "multiport_range_reversed", "ip6_matches", mut_mp_reversed, -EINVAL, -EINVAL, NULL },
	/* iprange revision 0 exists for IPv4 only */
	{ "iprange_revision_0", "ip6_matches", mut_ipr_rev0, -ENOENT, -ENOENT, NULL },
	{ "iprange_unknown_flags", "ip6_matches", mut_ipr_flags, 0, 0, NULL },
	{ "length_revision", "ip6_matches", mut_len_rev, -ENOENT, -ENOENT, NULL },
	{ "hl_revision", "ip6_matches", mut_hl_rev, -ENOENT, -ENOENT, NULL },
	{ "hl_unknown_mode", "ip6_matches", mut_hl_mode, 0, 0, NULL },
	/* ttl is IPv4's; hl is its IPv6 twin */
	{ "ttl_in_ipv6", "ip6_matches", mut_ttl_in_v6, -ENOENT, -ENOENT, "match 'ttl' is not supported" },
	{ "pkttype_revision", "ip6_matches", mut_pkttype_rev, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "mac_revision", "ip6_matches", mut_mac_rev, -ENOENT, -ENOENT, NULL },
	{ "mark_revision_0", "ip6_xmatch", mut_mark_rev0, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "mark_invert_2", "ip6_xmatch", mut_mark_invert, -EOPNOTSUPP, 0,
	  "match 'mark': invert other than 0 or 1" },
	{ "limit_burst_0", "ip6_xmatch", mut_limit_burst0, -ERANGE, -ERANGE, "match 'limit'" },
	{ "limit_revision_1", "ip6_xmatch", mut_limit_rev1, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "mac_reached_from_output", "ip6_matches", mut_mac_from_output, -EINVAL, -EINVAL,
	  "chain macs rule 1: match 'mac': bad size, hook, protocol or options" },
	{ "error_conditional", "ip6_empty", mut_error_cond, -EINVAL, 0, "unconditional" },
	/* ip6t_rt: IPv6 only, revision 0, rt_mt6_check() */
	{ "rt_revision", "ip6_rt", mut_rt_rev, -ENOENT, -ENOENT, "match 'rt' revision 1" },
	{ "rt_bad_invflags", "ip6_rt", mut_rt_badinv, -EINVAL, -EINVAL, "match 'rt'" },
	{ "rt_res_without_type", "ip6_rt", mut_rt_res_no_type, -EINVAL, -EINVAL, NULL },
	{ "rt_res_type_2", "ip6_rt", mut_rt_res_type2, -EINVAL, -EINVAL, NULL },
	{ "rt_res_inverted_type", "ip6_rt", mut_rt_res_invtype, -EINVAL, -EINVAL, NULL },
	{ "rt_addrs_without_type", "ip6_rt", mut_rt_addrs_no_type, -EINVAL, -EINVAL, NULL },
	{ "rt_not_strict_without_type", "ip6_rt", mut_rt_nstrict_no_type, -EINVAL, -EINVAL, NULL },
	/* not-strict without IP6T_RT_FST: accepted, and rt_mt6() ignores it */
	{ "rt_not_strict_alone", "ip6_rt", mut_rt_nstrict_alone, 0, 0, NULL },
	{ "rt_unknown_flags", "ip6_rt", mut_rt_unknown_flags, 0, 0, NULL },
	{ "rt_size", "ip6_rt", mut_rt_size, -EINVAL, -EINVAL, NULL },
	{ "rt_with_proto", "ip6_rt", mut_rt_in_proto, 0, 0, NULL },
	/* -m frag, -m hbh, -m dst: checkentry as frag_mt6_check()/hbh_mt6_check() */
	{ "frag_revision", "ip6_xh", mut_frag_rev, -ENOENT, -ENOENT, "match 'frag' revision 1" },
	{ "frag_bad_invflags", "ip6_xh", mut_frag_badinv, -EINVAL, -EINVAL, "match 'frag'" },
	{ "frag_inverted_len", "ip6_xh", mut_frag_invlen, 0, 0, NULL },
	{ "frag_unknown_flags", "ip6_xh", mut_frag_unknown_flags, 0, 0, NULL },
	{ "frag_pad_bytes", "ip6_xh", mut_frag_pad, 0, 0, NULL },
	{ "frag_size", "ip6_xh", mut_frag_size, -EINVAL, -EINVAL, NULL },
	{ "hbh_bad_invflags", "ip6_xh", mut_hbh_badinv, -EINVAL, -EINVAL, "match 'hbh'" },
	{ "hbh_16_options", "ip6_xh", mut_hbh_optsnr16, 0, 0, NULL },
	{ "hbh_17_options", "ip6_xh", mut_hbh_optsnr17, -EINVAL, -EINVAL, "match 'hbh'" },
	{ "hbh_255_options", "ip6_xh", mut_hbh_optsnr255, -EINVAL, -EINVAL, "match 'hbh'" },
	{ "hbh_not_strict", "ip6_xh", mut_hbh_nstrict, -EINVAL, -EINVAL, "match 'hbh'" },
	{ "hbh_unknown_flags", "ip6_xh", mut_hbh_unknown_flags, 0, 0, NULL },
	{ "hbh_pad_byte", "ip6_xh", mut_hbh_pad, 0, 0, NULL },
	{ "hbh_size", "ip6_xh", mut_hbh_size, -EINVAL, -EINVAL, NULL },
	{ "dst_bad_invflags", "ip6_xh", mut_dst_badinv, -EINVAL, -EINVAL, "match 'dst'" },
	{ "dst_revision", "ip6_xh", mut_dst_rev, -ENOENT, -ENOENT, "match 'dst' revision 1" },
	{ "dst_renamed_hbh", "ip6_xh", mut_dst_as_hbh, 0, 0, NULL },
	/* -m addrtype: the kernel's IPv6 type checks; route-lookup types refused */
	{ "addrtype6_blackhole", "ip6_adt", mut_adt6_blackhole, -EINVAL, -EINVAL, "match 'addrtype'" },
	{ "addrtype6_prohibit", "ip6_adt", mut_adt6_prohibit, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_throw", "ip6_adt", mut_adt6_throw, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_broadcast", "ip6_adt", mut_adt6_broadcast, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_both_limits", "ip6_adt", mut_adt6_both_limits, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_limit_out_in_input", "ip6_adt", mut_adt6_out_in_input, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_limit_in_in_output", "ip6_adt", mut_adt6_in_in_output, -EINVAL, -EINVAL, NULL },
	{ "addrtype6_unknown_flags", "ip6_adt", mut_adt6_unknown_flags, 0, 0, NULL },
	{ "addrtype6_revision_0", "ip6_adt", mut_adt6_rev0, -ENOENT, -ENOENT, NULL },
	/*
	 * LOCAL, ANYCAST, UNREACHABLE: translated without a device limit
	 * (BF_MAP_ADDRTYPE6); with --limit-iface-in/out (rule 4) the kernel
	 * takes them and bpfilter refuses them
	 */
	{ "addrtype6_local", "ip6_adt", mut_adt6_local, 0, 0, NULL },
	{ "addrtype6_unreachable", "ip6_adt", mut_adt6_unreachable, 0, 0, NULL },
	{ "addrtype6_anycast", "ip6_adt", mut_adt6_anycast, -EOPNOTSUPP, 0, "not modelled" },
	{ "addrtype6_local_limit", "ip6_adt", mut_adt6_local_limit, -EOPNOTSUPP, 0,
	  "chain FORWARD rule 1: match 'addrtype': IPv6 LOCAL, ANYCAST and UNREACHABLE with --limit-iface-in/out" },
	{ "addrtype6_unreachable_limit", "ip6_adt", mut_adt6_unreachable_limit, -EOPNOTSUPP, 0, "not modelled" },
	/* --rt-0-addrs: the kernel takes it, bpfilter refuses it */
	{ "rt_addrs", "ip6_rt", mut_rt_addrs, -EOPNOTSUPP, 0,
	  "chain INPUT rule 1: match 'rt': --rt-0-addrs is not supported" },
	{ "rt_addrnr_without_addrs", "ip6_rt", mut_rt_addrnr_alone, -EOPNOTSUPP, 0,
	  "match 'rt': addresses without --rt-0-addrs" },
	{ "rt_address_without_addrs", "ip6_rt", mut_rt_addr_alone, -EOPNOTSUPP, 0,
	  "match 'rt': addresses without --rt-0-addrs" },
};

#define N_CASES (int)(sizeof(cases) / sizeof(cases[0]))

START_TEST(test6_hostile_ours)
{
	const struct xt6h_case *c = &cases[_i];
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct bf_ir *ir = NULL;
	size_t len;
	int ret;

	r = xtu6_load(c->base, &len);
	c->mut(r, &len);
	ret = bf_xt6_translate(r, len, &ir, &err);
	ck_assert_msg(ret == c->ours, "%s: got %d (%s), want %d", c->name, ret,
		      err.msg, c->ours);
	if (c->msg)
		ck_assert_msg(strstr(err.msg, c->msg), "%s: message '%s' lacks '%s'",
			      c->name, err.msg, c->msg);
	if (ret)
		ck_assert_ptr_null(ir);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* Bits the kernel ignores make no predicate: the rule reads as before. */
START_TEST(test6_ignored_bits)
{
	static const xt6h_mut_t muts[] = { mut_f_tos, mut_inv_tos, mut_inv_frag,
					   mut_inv_proto_alone, mut_goto_no_jump };
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct bf_ir *ir;
	char line[256];
	size_t len;

	r = xtu6_load("ip6_basic", &len);
	muts[_i](r, &len);
	ck_assert_int_eq(bf_xt6_translate(r, len, &ir, &err), 0);
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] iif lo -> ACCEPT");
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* A RETURN carrying only ignored bits still ends its user chain. */
START_TEST(test6_return_with_tos_ends_chain)
{
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct bf_ir *ir;
	size_t len;

	r = xtu6_load("ip6_chains", &len);
	E(r, 19)->ipv6.tos = 0x20;	/* empty's RETURN */
	E(r, 19)->ipv6.invflags = IP6T_INV_FRAG;
	ck_assert_int_eq(bf_xt6_translate(r, len, &ir, &err), 0);
	ck_assert_str_eq(ir->chains[5].name, "empty");
	ck_assert_uint_eq(ir->chains[5].n_rules, 0);
	ck_assert_int_eq(ir->chains[5].end, BF_V_RETURN);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* -s with address bits outside the mask never matches: kept literally. */
START_TEST(test6_addr_outside_mask)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct bf_ir *ir;
	char line[256];
	void *blob;
	size_t len;

	r = xtu6_load("ip6_basic", &len);
	E(r, 1)->ipv6.src.s6_addr[15] = 1;	/* smsk stays :: */
	ck_assert_int_eq(bf_xt6_translate(r, len, &ir, &err), 0);
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] saddr6 ::1/:: iif lo -> ACCEPT");
	ck_assert_int_eq(bf_xt6_from_ir(ir, &blob, &size, &n, he, uf), 0);
	ck_assert(!memcmp(blob, r->entries, size));
	free(blob);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* Validation leaves counters zero and comefrom as the kernel sets it. */
START_TEST(test6_normalises_counters)
{
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct ip6t_entry *e;
	struct bf_ir *ir;
	size_t len;

	r = xtu6_load("ip6_chains", &len);
	e = E(r, 21);	/* ssh#1: reached from INPUT and FORWARD */
	ck_assert_uint_eq(e->comefrom, (1U << NF_INET_LOCAL_IN) | (1U << NF_INET_FORWARD));
	e->counters.pcnt = 12345;
	e->counters.bcnt = 678;
	e->comefrom = 0xdead;
	ck_assert_int_eq(bf_xt6_translate(r, len, &ir, &err), 0);
	ck_assert_uint_eq(e->counters.pcnt, 0);
	ck_assert_uint_eq(e->counters.bcnt, 0);
	ck_assert_uint_eq(e->comefrom, (1U << NF_INET_LOCAL_IN) | (1U << NF_INET_FORWARD));
	ck_assert_uint_eq(E(r, 28)->comefrom, 0);
	bf_ir_free(ir);
	free(r);
}
END_TEST

static Suite *xt6_hostile_suite(void)
{
	Suite *s = suite_create("xt6_hostile");
	TCase *tc = tcase_create("ours");

	tcase_add_loop_test(tc, test6_hostile_ours, 0, N_CASES);
	tcase_add_loop_test(tc, test6_ignored_bits, 0, 5);
	tcase_add_test(tc, test6_return_with_tos_ends_chain);
	tcase_add_test(tc, test6_addr_outside_mask);
	tcase_add_test(tc, test6_normalises_counters);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt6_hostile_suite);

/* ---- the kernel's ip6_tables, in a scratch network namespace ---------- */

/*
 * Run fn in a child in a fresh netns with an IPv6 raw socket; its result
 * is the child's exit code (0..249); 250+ are setup failures.
 */
static int xt6k_child(int (*fn)(int fd, void *arg), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(250);
		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0)
			_exit(251);
		_exit(fn(fd, arg));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) < 250, "scratch netns setup failed (%d)",
		      WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

START_TEST(test6_hostile_kernel)
{
	const struct xt6h_case *c = &cases[_i];
	struct ip6t_replace *r;
	size_t len;
	int ret;

	if (c->kernel == XT6H_SKIP)
		return;
	r = xtu6_load(c->base, &len);
	r->num_counters = 4;	/* a fresh netns' filter table */
	c->mut(r, &len);
	ret = xtu_kernel_replace(AF_INET6, (struct ipt_replace *)r, len);
	ck_assert_msg(ret == c->kernel, "%s: kernel says %d, table says %d", c->name,
		      ret, c->kernel);
	free(r);
}
END_TEST

START_TEST(test6_fixtures_kernel)
{
	static const char *const names[] = { "ip6_empty", "ip6_basic", "ip6_chains",
					     "ip6_matches", "ip6_ufw", "ip6_xmatch", "ip6_rt" };
	struct ip6t_replace *r;
	size_t len;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = xtu6_load(names[i], &len);
		r->num_counters = 4;
		ck_assert_msg(xtu_kernel_replace(AF_INET6, (struct ipt_replace *)r, len) == 0,
			      "%s refused by the kernel", names[i]);
		free(r);
	}
}
END_TEST

/* The child exits 0 when the fresh table equals bf_xt6_initial_filter(). */
static int xt6k_initial_fn(int fd, void *arg)
{
	struct ip6t_replace *init = arg;
	struct ip6t_getinfo info = { .name = "filter" };
	struct ip6t_get_entries *ge;
	socklen_t sl = sizeof(info);
	int ret = 1;

	if (getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_INFO, &info, &sl))
		return 2;
	if (info.size != init->size || info.num_entries != init->num_entries ||
	    info.valid_hooks != init->valid_hooks ||
	    memcmp(info.hook_entry, init->hook_entry, sizeof(info.hook_entry)) ||
	    memcmp(info.underflow, init->underflow, sizeof(info.underflow)))
		return 3;
	ge = calloc(1, sizeof(*ge) + info.size);
	if (!ge)
		return 4;
	strcpy(ge->name, "filter");
	ge->size = info.size;
	sl = sizeof(*ge) + info.size;
	if (!getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_ENTRIES, ge, &sl))
		ret = memcmp(ge->entrytable, init->entries, info.size) ? 5 : 0;
	free(ge);
	return ret;
}

START_TEST(test6_initial_is_fresh_netns)
{
	struct ip6t_replace *init;
	size_t len;

	ck_assert_int_eq(bf_xt6_initial_filter(&init, &len), 0);
	ck_assert_int_eq(xt6k_child(xt6k_initial_fn, init), 0);
	free(init);
}
END_TEST

static Suite *xt6_kernel_suite(void)
{
	Suite *s = suite_create("xt6_kernel");
	TCase *tc = tcase_create("kernel");

	if (xtu_kernel_oracle_af("xt6_kernel", AF_INET6)) {
		tcase_add_loop_test(tc, test6_hostile_kernel, 0, N_CASES);
		tcase_add_test(tc, test6_fixtures_kernel);
		tcase_add_test(tc, test6_initial_is_fresh_netns);
	}
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt6_kernel_suite);
