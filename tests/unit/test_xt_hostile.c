// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile blobs: each is a real fixture with one thing broken, and the
 * errno ip_tables gives for it. Two suites run the same table:
 *   xt_hostile  bf_xt4_translate() returns `ours` (and the message, if set);
 *   xt_kernel   the kernel's own IPT_SO_SET_REPLACE, in a scratch network
 *               namespace, returns `kernel` - so `ours == kernel` is
 *               measured, not assumed. Where bpfilter is stricter on
 *               purpose (layout, QUEUE, nesting) `kernel` is 0 and the
 *               difference is the documented one.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <linux/netfilter/xt_conntrack.h>

#include "unit.h"
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_length.h>
#include <linux/netfilter/xt_mac.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_pkttype.h>

#include "bpfilter/msg.h"
#include "test_xt_util.h"

#define XTH_SKIP	1	/* `kernel` value: not comparable, do not run */

typedef void (*xth_mut_t)(struct ipt_replace *r, size_t *len);

struct xth_case {
	const char *name;
	const char *base;
	xth_mut_t mut;
	int ours;
	int kernel;
	const char *msg;	/* substring expected in err.msg */
};

static uint8_t *tg(struct ipt_entry *e)
{
	return (uint8_t *)e + e->target_offset;
}

static uint8_t *m0(struct ipt_entry *e)
{
	return (uint8_t *)e + sizeof(*e);
}

static void set_u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void set_verdict(struct ipt_entry *e, int32_t v)
{
	memcpy(tg(e) + offsetof(struct xt_standard_target, verdict), &v, sizeof(v));
}

static void set_name(uint8_t *ext, const char *name)
{
	memset(ext + 2, 0, XT_EXTENSION_MAXNAMELEN);
	memcpy(ext + 2, name, strlen(name));
}

static void mut_len_short(struct ipt_replace *r, size_t *len) { (void)r; *len = sizeof(*r) - 1; }
static void mut_counters_huge(struct ipt_replace *r, size_t *len) { (void)len; r->num_counters = INT_MAX / sizeof(struct xt_counters); }
static void mut_counters_zero(struct ipt_replace *r, size_t *len) { (void)len; r->num_counters = 0; }
static void mut_truncated(struct ipt_replace *r, size_t *len) { (void)r; *len -= 8; }
static void mut_entries_huge(struct ipt_replace *r, size_t *len) { (void)len; r->num_entries = 0x40000001; }
static void mut_misaligned(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->next_offset = 156; }
static void mut_next_small(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->next_offset = 136; }
static void mut_next_big(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 3)->next_offset = 200; }
static void mut_target_overlap(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->target_offset = 120; }
static void mut_target_inside(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->target_offset = 100; }
static void mut_target_small(struct ipt_replace *r, size_t *len) { (void)len; set_u16(tg(xtu_entry(r, 0)), 16); }
static void mut_std_size(struct ipt_replace *r, size_t *len) { (void)len; set_u16(tg(xtu_entry(r, 0)), 36); }
static void mut_std_rev(struct ipt_replace *r, size_t *len) { (void)len; tg(xtu_entry(r, 0))[31] = 1; }
static void mut_verdict_zero(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), 0); }
static void mut_verdict_neg(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), -7); }
static void mut_bad_flags(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.flags = 0x04; }
static void mut_bad_invflags(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.invflags |= 0x80; }
static void mut_match_big(struct ipt_replace *r, size_t *len) { (void)len; set_u16(m0(xtu_entry(r, 0)), 1000); }
static void mut_match_small(struct ipt_replace *r, size_t *len) { (void)len; set_u16(m0(xtu_entry(r, 0)), 16); }
static void mut_match_misaligned(struct ipt_replace *r, size_t *len) { (void)len; set_u16(m0(xtu_entry(r, 5)), 52); }
static void mut_match_sum(struct ipt_replace *r, size_t *len) { (void)len; set_u16(m0(xtu_entry(r, 4)), 280); }
static void mut_jump_mid(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), xtu_entry_off(r, 13) + 8); }
static void mut_jump_end(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), r->size - 8); }
static void mut_jump_loop(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 14), xtu_entry_off(r, 13)); }
static void mut_fall_off(struct ipt_replace *r, size_t *len)
{
	(void)len;
	xtu_entry(r, 21)->ip.proto = 17;	/* zlast: DROP and RETURN conditional, */
	xtu_entry(r, 22)->ip.proto = 17;	/* so it falls into the terminator */
}
static void mut_uflow_cond(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.proto = 6; }
static void mut_uflow_return(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), XT_RETURN); }
static void mut_uflow_error(struct ipt_replace *r, size_t *len) { (void)len; r->underflow[NF_INET_LOCAL_IN] = xtu_entry_off(r, 10); }
static void mut_hook_order(struct ipt_replace *r, size_t *len) { (void)len; r->hook_entry[1] = 152; r->hook_entry[2] = 0; }
static void mut_hook_off(struct ipt_replace *r, size_t *len) { (void)len; r->hook_entry[1] = 8; }
static void mut_uflow_dup(struct ipt_replace *r, size_t *len) { (void)len; r->underflow[2] = r->underflow[1]; }
static void mut_entries_more(struct ipt_replace *r, size_t *len) { (void)len; r->num_entries++; }
static void mut_entries_less(struct ipt_replace *r, size_t *len) { (void)len; r->num_entries--; }
static void mut_match_unknown(struct ipt_replace *r, size_t *len) { (void)len; set_name(m0(xtu_entry(r, 0)), "nosuchmatch"); }
static void mut_match_limit(struct ipt_replace *r, size_t *len) { (void)len; set_name(m0(xtu_entry(r, 0)), "limit"); }
/* fixture "matches": entry 0 tcp multiport, 3 iprange, 5 length, 7 ttl */
static uint8_t *md(struct ipt_replace *r, uint32_t i) { return m0(xtu_entry(r, i)) + sizeof(struct xt_entry_match); }
static void mut_mp_icmp(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.proto = IPPROTO_ICMP; }
static void mut_mp_udplite(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.proto = IPPROTO_UDPLITE; }
static void mut_mp_invproto(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.invflags |= IPT_INV_PROTO; }
static void mut_mp_flags(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[0] = 3; }
static void mut_mp_count(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[1] = 16; }
static void mut_mp_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 2; }
static void mut_mp_invert(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_multiport_v1, invert)] = 2; }
static void mut_mp_range_last(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_multiport_v1, pflags) + 3] = 1; }
static void mut_mp_reversed(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + offsetof(struct xt_multiport_v1, ports) + 4, 3000); }
static void mut_mp_pflag_beyond(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_multiport_v1, pflags) + 10] = 1; }
/* 1000:2000 then 3000: a range flag on the end slot 2000 */
static void mut_mp_pflag_end(struct ipt_replace *r, size_t *len)
{
	(void)len;
	md(r, 0)[1] = 5;
	set_u16(md(r, 0) + offsetof(struct xt_multiport_v1, ports) + 8, 3000);
	md(r, 0)[offsetof(struct xt_multiport_v1, pflags) + 3] = 1;
}
static void mut_mp_count5(struct ipt_replace *r, size_t *len)
{
	(void)len;
	md(r, 0)[1] = 5;
	set_u16(md(r, 0) + offsetof(struct xt_multiport_v1, ports) + 8, 3000);
}
static void mut_mp_count0(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[1] = 0; }
static void mut_mp_pflag_2(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_multiport_v1, pflags) + 2] = 2; }
/* fixture "l2": entry 0 pkttype, 2 mac, 8 OUTPUT pkttype, 11 mac in chain macs */
static void mut_mac_from_output(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 8), xtu_entry_off(r, 11)); }
static void mut_mac_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 2))[31] = 1; }
static void mut_mac_invert(struct ipt_replace *r, size_t *len) { (void)len; md(r, 2)[offsetof(struct xt_mac_info, invert)] = 2; }
static void mut_pkttype_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 1; }
static void mut_pkttype_invert(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_pkttype_info, invert)] = 2; }
static void mut_pkttype_7(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[0] = 7; }
/*
 * fixture "xmatch": entry 0 mark, 1 limit, 2 addrtype --limit-iface-in
 * (INPUT), 4 addrtype --limit-iface-out (FORWARD), 7 OUTPUT ! mark,
 * 8 OUTPUT addrtype, 11 addrtype in chain adt (reached from FORWARD).
 */
static void set_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void mut_mark_rev0(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 0; }
static void mut_mark_rev2(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 2; }
static void mut_mark_invert(struct ipt_replace *r, size_t *len) { (void)len; md(r, 0)[offsetof(struct xt_mark_mtinfo1, invert)] = 2; }
static void mut_mark_outside_mask(struct ipt_replace *r, size_t *len) { (void)len; set_u32(md(r, 0), 0x105); }
static void mut_limit_burst0(struct ipt_replace *r, size_t *len) { (void)len; set_u32(md(r, 1) + offsetof(struct xt_rateinfo, burst), 0); }
static void mut_limit_overflow(struct ipt_replace *r, size_t *len)
{
	(void)len;
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, avg), 0x10000000);
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, burst), 16);
}
static void mut_limit_big(struct ipt_replace *r, size_t *len)
{
	(void)len;	/* 1/day, burst 4: avg * burst fits, its credits do not */
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, avg), 864000000);
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, burst), 4);
}
static void mut_limit_rev1(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 1))[31] = 1; }
static void mut_limit_private(struct ipt_replace *r, size_t *len)
{
	(void)len;	/* the kernel keeps a cost and credit_cap that are not 0 */
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, credit_cap), 5000);
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, cost), 1000);
	set_u32(md(r, 1) + offsetof(struct xt_rateinfo, credit), 77);
}
static void mut_adt_both(struct ipt_replace *r, size_t *len) { (void)len; md(r, 2)[4] |= XT_ADDRTYPE_LIMIT_IFACE_OUT; }
static void mut_adt_out_at_input(struct ipt_replace *r, size_t *len) { (void)len; md(r, 2)[4] = XT_ADDRTYPE_LIMIT_IFACE_OUT; }
static void mut_adt_in_at_output(struct ipt_replace *r, size_t *len) { (void)len; md(r, 8)[4] |= XT_ADDRTYPE_LIMIT_IFACE_IN; }
static void mut_adt_out_at_output(struct ipt_replace *r, size_t *len) { (void)len; md(r, 8)[4] |= XT_ADDRTYPE_LIMIT_IFACE_OUT; }
static void mut_adt_in_in_user_chain(struct ipt_replace *r, size_t *len) { (void)len; md(r, 11)[4] |= XT_ADDRTYPE_LIMIT_IFACE_IN; }
static void mut_adt_unknown_flags(struct ipt_replace *r, size_t *len) { (void)len; md(r, 11)[5] = 0x80; }
static void mut_adt_all_types(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 11), 0xffff); set_u16(md(r, 11) + 2, 0xffff); }
static void mut_adt_rev2(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 2))[31] = 2; }
static void mut_ipr_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 3))[31] = 0; }
static void mut_ipr_flags(struct ipt_replace *r, size_t *len) { (void)len; md(r, 3)[offsetof(struct xt_iprange_mtinfo, flags)] |= 0xc0; }
static void mut_len_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 5))[31] = 1; }
static void mut_len_invert(struct ipt_replace *r, size_t *len) { (void)len; md(r, 5)[offsetof(struct xt_length_info, invert)] = 2; }
static void mut_ttl_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 7))[31] = 1; }
static void mut_ttl_mode(struct ipt_replace *r, size_t *len) { (void)len; md(r, 7)[0] = 9; }
static void mut_match_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 1; }
static void mut_comment_rev(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 4))[31] = 1; }
static void mut_tcp_noproto(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.proto = 0; }
static void mut_tcp_invproto(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 0)->ip.invflags |= IPT_INV_PROTO; }
static void mut_tcp_badinv(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[32 + 11] = 0x10; }
static void mut_udp_proto(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 1)->ip.proto = 6; }
static void mut_udp_badinv(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 1))[32 + 8] = 0x04; }
static void mut_icmp_badinv(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 4))[32 + 3] = 0x02; }
static void mut_match_noterm(struct ipt_replace *r, size_t *len) { (void)len; memset(m0(xtu_entry(r, 0)) + 2, 'A', XT_EXTENSION_MAXNAMELEN); }
static void mut_target_noterm(struct ipt_replace *r, size_t *len) { (void)len; memset(tg(xtu_entry(r, 0)) + 2, 'A', XT_EXTENSION_MAXNAMELEN); }
static void mut_target_unknown(struct ipt_replace *r, size_t *len) { (void)len; set_name(tg(xtu_entry(r, 0)), "NOSUCH"); }
static void mut_target_nflog(struct ipt_replace *r, size_t *len) { (void)len; set_name(tg(xtu_entry(r, 0)), "NFLOG"); }
static void mut_error_nonul(struct ipt_replace *r, size_t *len) { (void)len; memset(tg(xtu_entry(r, 3)) + 32, 'A', XT_FUNCTION_MAXNAMELEN); }
static void mut_error_size(struct ipt_replace *r, size_t *len) { (void)len; set_u16(tg(xtu_entry(r, 3)), 60); }
static void mut_table_name(struct ipt_replace *r, size_t *len) { (void)len; strcpy(r->name, "nosuch"); }
static void mut_table_noterm(struct ipt_replace *r, size_t *len) { (void)len; memset(r->name, 'f', sizeof(r->name)); }
static void mut_hooks_more(struct ipt_replace *r, size_t *len) { (void)len; r->valid_hooks |= 1U << NF_INET_POST_ROUTING; }
static void mut_hooks_less(struct ipt_replace *r, size_t *len) { (void)len; r->valid_hooks = 0x0c; }
static void mut_jump_into_rule(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 0), xtu_entry_off(r, 14)); }
static void mut_queue(struct ipt_replace *r, size_t *len) { (void)len; set_verdict(xtu_entry(r, 1), -NF_QUEUE - 1); }
static void mut_dead_loop(struct ipt_replace *r, size_t *len)
{
	(void)len;
	set_verdict(xtu_entry(r, 0), xtu_entry_off(r, 1));	/* INPUT: c1 unreachable */
	set_verdict(xtu_entry(r, 20), xtu_entry_off(r, 5));	/* c6 -> c1 */
}
static void mut_error_cond(struct ipt_replace *r, size_t *len) { (void)len; xtu_entry(r, 3)->ip.proto = 6; }
/* fixture "ct": entry 0 is -m conntrack --ctstate RELATED,ESTABLISHED (revision 3) */
#define CT3(f) offsetof(struct xt_conntrack_mtinfo3, f)
static void ct_flag(struct ipt_replace *r, uint16_t f) { set_u16(md(r, 0) + CT3(match_flags), XT_CONNTRACK_STATE | f); }
static void mut_ct_proto(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_PROTO); set_u16(md(r, 0) + CT3(l4proto), 6); }
static void mut_ct_origsrc(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_ORIGSRC); md(r, 0)[0] = 10; }
static void mut_ct_repldst(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_REPLDST); }
static void mut_ct_status(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_STATUS); set_u16(md(r, 0) + CT3(status_mask), 2); }
static void mut_ct_expires(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_EXPIRES); md(r, 0)[CT3(expires_max)] = 10; }
static void mut_ct_origdst_port(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_ORIGDST_PORT); }
static void mut_ct_direction(struct ipt_replace *r, size_t *len) { (void)len; ct_flag(r, XT_CONNTRACK_DIRECTION); }
static void mut_ct_only_proto(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(match_flags), XT_CONNTRACK_PROTO); }
static void mut_ct_snat(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(state_mask), XT_CONNTRACK_STATE_SNAT); }
static void mut_ct_dnat(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(state_mask), 2 | XT_CONNTRACK_STATE_DNAT); }
static void mut_ct_inv_other(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(invert_flags), XT_CONNTRACK_PROTO); }
static void mut_ct_stray(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(l4proto), 17); }
static void mut_ct_rev0(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 0; }
static void mut_ct_rev4(struct ipt_replace *r, size_t *len) { (void)len; m0(xtu_entry(r, 0))[31] = 4; }
static void mut_ct_size(struct ipt_replace *r, size_t *len) { (void)len; set_u16(m0(xtu_entry(r, 0)), 32 + 160); }
static void mut_ct_unused_bits(struct ipt_replace *r, size_t *len) { (void)len; set_u16(md(r, 0) + CT3(state_mask), 0x30); }
static const struct xth_case cases[] = {
	{ "ct_ctproto", "ct", mut_ct_proto, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctorigsrc", "ct", mut_ct_origsrc, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctrepldst", "ct", mut_ct_repldst, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctstatus", "ct", mut_ct_status, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctexpire", "ct", mut_ct_expires, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctorigdstport", "ct", mut_ct_origdst_port, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctdir", "ct", mut_ct_direction, -EOPNOTSUPP, 0, "only --ctstate" },
	{ "ct_ctproto_alone", "ct", mut_ct_only_proto, -EOPNOTSUPP, 0, "only --ctstate" },
	/* SNAT / DNAT: the entry's IPS_SRC_NAT / IPS_DST_NAT (gen_ct.c) */
	{ "ct_state_snat", "ct", mut_ct_snat, 0, 0, NULL },
	{ "ct_state_dnat", "ct", mut_ct_dnat, 0, 0, NULL },
	{ "ct_invert_other", "ct", mut_ct_inv_other, -EOPNOTSUPP, 0, "inversion" },
	{ "ct_stray_field", "ct", mut_ct_stray, -EOPNOTSUPP, 0, "no flag enables" },
	{ "ct_rev0", "ct", mut_ct_rev0, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "ct_rev4", "ct", mut_ct_rev4, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "ct_size", "ct", mut_ct_size, -EINVAL, -EINVAL, NULL },
	{ "ct_unused_state_bits", "ct", mut_ct_unused_bits, 0, 0, NULL },
	{ "len_short", "empty", mut_len_short, -EINVAL, -EINVAL, NULL },
	{ "counters_huge", "empty", mut_counters_huge, -ENOMEM, -ENOMEM, NULL },
	{ "counters_zero", "empty", mut_counters_zero, -EINVAL, -EINVAL, "num_counters" },
	{ "truncated", "empty", mut_truncated, -EINVAL, -EINVAL, NULL },
	{ "entries_huge", "empty", mut_entries_huge, -ENOMEM, -ENOMEM, NULL },
	{ "misaligned_entry", "empty", mut_misaligned, -EINVAL, -EINVAL, NULL },
	{ "next_offset_small", "empty", mut_next_small, -EINVAL, -EINVAL, NULL },
	{ "next_offset_big", "empty", mut_next_big, -EINVAL, -EINVAL, NULL },
	{ "target_overlap", "empty", mut_target_overlap, -EINVAL, -EINVAL, NULL },
	{ "target_inside_entry", "empty", mut_target_inside, -EINVAL, -EINVAL, NULL },
	{ "target_size_small", "empty", mut_target_small, -EINVAL, -EINVAL, NULL },
	{ "std_target_size", "empty", mut_std_size, -EINVAL, -EINVAL, NULL },
	/* Per-family extensions: xt_find_target() answers -ENOENT, not -EPROTONOSUPPORT. */
	{ "std_target_rev", "empty", mut_std_rev, -ENOENT, -ENOENT, NULL },
	{ "verdict_zero", "basic", mut_verdict_zero, -EINVAL, -EINVAL, NULL },
	{ "verdict_negative", "basic", mut_verdict_neg, -EINVAL, -EINVAL, NULL },
	{ "bad_flags", "basic", mut_bad_flags, -EINVAL, -EINVAL, NULL },
	{ "bad_invflags", "basic", mut_bad_invflags, -EINVAL, -EINVAL, NULL },
	{ "match_size_big", "basic", mut_match_big, -EINVAL, -EINVAL, NULL },
	{ "match_size_small", "basic", mut_match_small, -EINVAL, -EINVAL, NULL },
	{ "match_misaligned", "misc", mut_match_misaligned, -EINVAL, -EINVAL, NULL },
	{ "match_sum_short", "misc", mut_match_sum, -EINVAL, -EINVAL, NULL },
	{ "jump_mid_rule", "chains", mut_jump_mid, -ELOOP, -ELOOP, NULL },
	{ "jump_past_end", "chains", mut_jump_end, -ELOOP, -ELOOP, NULL },
	{ "jump_loop", "chains", mut_jump_loop, -ELOOP, -ELOOP, "loops" },
	{ "fall_off_end", "chains", mut_fall_off, -ELOOP, -ELOOP, NULL },
	{ "underflow_conditional", "empty", mut_uflow_cond, -EINVAL, -EINVAL, "policy of INPUT" },
	{ "underflow_return", "empty", mut_uflow_return, -EINVAL, -EINVAL, NULL },
	{ "underflow_error", "chains", mut_uflow_error, -EINVAL, -EINVAL, NULL },
	{ "hook_order", "empty", mut_hook_order, -EINVAL, -EINVAL, NULL },
	{ "hook_not_entry", "empty", mut_hook_off, -EINVAL, -EINVAL, NULL },
	{ "underflow_duplicate", "empty", mut_uflow_dup, -EINVAL, -EINVAL, NULL },
	{ "num_entries_more", "basic", mut_entries_more, -EINVAL, -EINVAL, NULL },
	{ "num_entries_less", "basic", mut_entries_less, -EINVAL, -EINVAL, NULL },
	{ "match_unknown", "basic", mut_match_unknown, -ENOENT, -ENOENT, "match 'nosuchmatch' is not supported" },
	{ "match_revision", "basic", mut_match_rev, -ENOENT, -ENOENT, "match 'tcp' revision 1 is not supported" },
	/* xt_comment is family-independent: there it is -EPROTOTYPE. */
	{ "comment_revision", "misc", mut_comment_rev, -EPROTOTYPE, -EPROTOTYPE,
	  "match 'comment' revision 1 is not supported" },
	{ "tcp_without_proto", "basic", mut_tcp_noproto, -EINVAL, -EINVAL, NULL },
	{ "tcp_inverted_proto", "basic", mut_tcp_invproto, -EINVAL, -EINVAL, NULL },
	{ "tcp_bad_invflags", "basic", mut_tcp_badinv, -EINVAL, -EINVAL, NULL },
	{ "udp_wrong_proto", "udp_icmp", mut_udp_proto, -EINVAL, -EINVAL, NULL },
	{ "udp_bad_invflags", "udp_icmp", mut_udp_badinv, -EINVAL, -EINVAL, NULL },
	{ "icmp_bad_invflags", "udp_icmp", mut_icmp_badinv, -EINVAL, -EINVAL, NULL },
	{ "match_name_unterminated", "basic", mut_match_noterm, -EINVAL, -EINVAL, NULL },
	{ "target_name_unterminated", "basic", mut_target_noterm, -EINVAL, -EINVAL, NULL },
	{ "target_unknown", "basic", mut_target_unknown, -ENOENT, -ENOENT, NULL },
	{ "error_without_nul", "empty", mut_error_nonul, -EINVAL, -EINVAL, NULL },
	{ "error_bad_size", "empty", mut_error_size, -EINVAL, -EINVAL, NULL },
	{ "table_unknown", "empty", mut_table_name, -ENOENT, -ENOENT, "table 'nosuch'" },
	{ "table_name_unterminated", "empty", mut_table_noterm, -ENOENT, -ENOENT, NULL },
	{ "valid_hooks_more", "empty", mut_hooks_more, -EINVAL, -EINVAL, NULL },
	{ "valid_hooks_less", "empty", mut_hooks_less, -EINVAL, -EINVAL, NULL },
	/* Known to the kernel, not translated by bpfilter. */
	{ "target_nflog", "basic", mut_target_nflog, -ENOENT, XTH_SKIP,
	  "chain INPUT rule 1: target 'NFLOG' is not supported" },
	/* limit is translated now: a tcp match renamed "limit" has limit's wrong size */
	{ "match_limit", "basic", mut_match_limit, -EINVAL, -EINVAL,
	  "chain INPUT rule 1: match 'limit': bad size, hook, protocol or options" },
	/* mark (xt_mark rev 1, every family; no checkentry) */
	{ "mark_revision_0", "xmatch", mut_mark_rev0, -EPROTOTYPE, -EPROTOTYPE,
	  "match 'mark' revision 0 is not supported" },
	{ "mark_revision_2", "xmatch", mut_mark_rev2, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "mark_outside_mask", "xmatch", mut_mark_outside_mask, 0, 0, NULL },
	{ "mark_invert_2", "xmatch", mut_mark_invert, -EOPNOTSUPP, 0,
	  "chain INPUT rule 1: match 'mark': invert other than 0 or 1" },
	/* limit (xt_limit rev 0, every family): limit_mt_check()'s overflow test */
	{ "limit_burst_0", "xmatch", mut_limit_burst0, -ERANGE, -ERANGE, "match 'limit'" },
	{ "limit_overflow", "xmatch", mut_limit_overflow, -ERANGE, -ERANGE, NULL },
	{ "limit_one_a_day_burst_4", "xmatch", mut_limit_big, -ERANGE, -ERANGE, NULL },
	{ "limit_revision_1", "xmatch", mut_limit_rev1, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "limit_private_fields", "xmatch", mut_limit_private, 0, 0, NULL },
	/* addrtype (rev 1, every family): addrtype_mt_checkentry_v1() */
	{ "addrtype_both_limits", "xmatch", mut_adt_both, -EINVAL, -EINVAL,
	  "chain INPUT rule 3: match 'addrtype'" },
	{ "addrtype_iface_out_at_input", "xmatch", mut_adt_out_at_input, -EINVAL, -EINVAL, NULL },
	{ "addrtype_iface_in_at_output", "xmatch", mut_adt_in_at_output, -EINVAL, -EINVAL, NULL },
	{ "addrtype_iface_out_at_output", "xmatch", mut_adt_out_at_output, 0, 0, NULL },
	{ "addrtype_iface_in_from_forward", "xmatch", mut_adt_in_in_user_chain, 0, 0, NULL },
	{ "addrtype_unknown_flags", "xmatch", mut_adt_unknown_flags, 0, 0, NULL },
	{ "addrtype_all_types", "xmatch", mut_adt_all_types, 0, 0, NULL },
	{ "addrtype_revision_2", "xmatch", mut_adt_rev2, -ENOENT, -ENOENT, NULL },
	/* multiport_mt_check(): protocol, side, count. */
	{ "multiport_icmp", "matches", mut_mp_icmp, -EINVAL, -EINVAL, "match 'multiport'" },
	{ "multiport_udplite", "matches", mut_mp_udplite, 0, 0, NULL },
	{ "multiport_inverted_proto", "matches", mut_mp_invproto, -EINVAL, -EINVAL, NULL },
	{ "multiport_bad_side", "matches", mut_mp_flags, -EINVAL, -EINVAL, NULL },
	{ "multiport_count_16", "matches", mut_mp_count, -EINVAL, -EINVAL, NULL },
	{ "multiport_revision", "matches", mut_mp_rev, -ENOENT, -ENOENT,
	  "match 'multiport' revision 2 is not supported" },
	{ "iprange_revision_0", "matches", mut_ipr_rev, -ENOENT, -ENOENT, NULL },
	/* xt_mac runs at PREROUTING, INPUT and FORWARD only: a chain reached from OUTPUT. */
	{ "mac_reached_from_output", "l2", mut_mac_from_output, -EINVAL, -EINVAL,
	  "chain macs rule 1: match 'mac': bad size, hook, protocol or options" },
	/* pkttype is family-independent (-EPROTOTYPE); 6.18 registers mac per family. */
	{ "mac_revision", "l2", mut_mac_rev, -ENOENT, -ENOENT, NULL },
	{ "pkttype_revision", "l2", mut_pkttype_rev, -EPROTOTYPE, -EPROTOTYPE, NULL },
	{ "pkttype_unknown_type", "l2", mut_pkttype_7, 0, 0, NULL },
	/* No checkentry: unknown flag bits, a ttl mode, are accepted. */
	{ "iprange_unknown_flags", "matches", mut_ipr_flags, 0, 0, NULL },
	{ "length_revision", "matches", mut_len_rev, -ENOENT, -ENOENT, NULL },
	{ "ttl_revision", "matches", mut_ttl_rev, -ENOENT, -ENOENT, NULL },
	{ "ttl_unknown_mode", "matches", mut_ttl_mode, 0, 0, NULL },
	/* Accepted by the kernel, refused by bpfilter (no tool writes them). */
	{ "multiport_invert_2", "matches", mut_mp_invert, -EOPNOTSUPP, 0,
	  "chain INPUT rule 1: match 'multiport': invert byte other than 0 or 1" },
	{ "multiport_range_last", "matches", mut_mp_range_last, -EINVAL, -EINVAL, NULL },
	{ "multiport_range_reversed", "matches", mut_mp_reversed, -EINVAL, -EINVAL, NULL },
	{ "multiport_count_0", "matches", mut_mp_count0, 0, 0, NULL },
	{ "multiport_pflag_on_range_end", "matches", mut_mp_pflag_end, -EINVAL, -EINVAL, NULL },
	{ "multiport_fifth_port", "matches", mut_mp_count5, 0, 0, NULL },
	{ "multiport_pflag_beyond_count", "matches", mut_mp_pflag_beyond, 0, 0, NULL },
	{ "multiport_pflag_2", "matches", mut_mp_pflag_2, 0, 0, NULL },
	{ "length_invert_2", "matches", mut_len_invert, -EOPNOTSUPP, 0,
	  "chain INPUT rule 6: match 'length': invert byte" },
	{ "mac_invert_2", "l2", mut_mac_invert, -EOPNOTSUPP, 0,
	  "chain INPUT rule 3: match 'mac': invert other than 0 or 1" },
	{ "pkttype_invert_2", "l2", mut_pkttype_invert, -EOPNOTSUPP, 0,
	  "chain INPUT rule 1: match 'pkttype': invert other than 0 or 1" },
	/* bpfilter is stricter on purpose; the kernel accepts these. */
	{ "jump_into_chain_middle", "chains", mut_jump_into_rule, -EINVAL, 0,
	  "chain INPUT rule 1: bpfilter only jumps to the first rule of a user chain" },
	{ "verdict_queue", "basic", mut_queue, -EOPNOTSUPP, 0, "chain INPUT rule 2: verdict QUEUE" },
	{ "unreachable_chain_loop", "deep6", mut_dead_loop, -ELOOP, 0, "loop" },
	{ "error_conditional", "empty", mut_error_cond, -EINVAL, 0, "unconditional" },
	{ "nesting_too_deep", "deep7", NULL, -E2BIG, 0, "chain c7" },
};

#define N_CASES (int)(sizeof(cases) / sizeof(cases[0]))

START_TEST(test_hostile_ours)
{
	const struct xth_case *c = &cases[_i];
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir = NULL;
	size_t len;
	int ret;

	r = xtu_load(c->base, &len);
	if (c->mut)
		c->mut(r, &len);
	ret = bf_xt4_translate(r, len, &ir, &err);
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

/* The kernel's answer for the same bytes, from a scratch netns. */
static int xth_kernel(struct ipt_replace *r, size_t len)
{
	return xtu_kernel_replace(AF_INET, r, len);
}

START_TEST(test_hostile_kernel)
{
	const struct xth_case *c = &cases[_i];
	struct ipt_replace *r;
	size_t len;
	int ret;

	if (c->kernel == XTH_SKIP)
		return;
	r = xtu_load(c->base, &len);
	/* A fresh netns' filter table has 4 entries: a stale count is EAGAIN. */
	r->num_counters = 4;
	if (c->mut)
		c->mut(r, &len);
	ret = xth_kernel(r, len);
	ck_assert_msg(ret == c->kernel, "%s: kernel says %d, table says %d", c->name,
		      ret, c->kernel);
	free(r);
}
END_TEST

/* Every fixture, as iptables made it, is accepted by the kernel too. */
START_TEST(test_fixtures_kernel)
{
	static const char *const names[] = { "empty", "basic", "chains", "tcp",
					     "udp_icmp", "misc", "deep6", "deep7",
					     "nested", "matches", "l2", "xmatch", "ct", "targets" };
	struct ipt_replace *r;
	size_t len;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = xtu_load(names[i], &len);
		r->num_counters = 4;
		ck_assert_msg(xth_kernel(r, len) == 0, "%s refused by the kernel", names[i]);
		free(r);
	}
}
END_TEST

/* size beyond BPFILTER_PAYLOAD_MAX with a buffer that really is that long. */
START_TEST(test_huge_size)
{
	size_t len = sizeof(struct ipt_replace) + BPFILTER_PAYLOAD_MAX;
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir = NULL;

	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert(r != MAP_FAILED);
	strcpy(r->name, "filter");
	r->valid_hooks = 0x0e;
	r->num_counters = 4;
	r->num_entries = 4;
	r->size = BPFILTER_PAYLOAD_MAX;
	ck_assert_int_eq(bf_xt4_translate(r, len, &ir, &err), -ENOMEM);
	ck_assert_ptr_null(ir);
	munmap(r, len);
}
END_TEST

/* IPT_INV_FRAG without IPT_F_FRAG never matches: FRAG && !FRAG; round-trips. */
START_TEST(test_inv_frag_alone)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir;
	char line[256];
	void *blob;
	size_t len;

	r = xtu_load("basic", &len);
	xtu_entry(r, 1)->ip.invflags |= IPT_INV_FRAG;
	ck_assert_int_eq(bf_xt4_translate(r, len, &ir, &err), 0);
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] iif lo frag !frag -> ACCEPT");
	ck_assert_int_eq(bf_xt4_from_ir(ir, &blob, &size, &n, he, uf), 0);
	ck_assert_uint_eq(size, r->size);
	ck_assert(!memcmp(blob, r->entries, size));
	free(blob);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* -s with address bits outside the mask never matches: kept literally. */
START_TEST(test_addr_outside_mask)
{
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir;
	char line[256];
	size_t len;

	r = xtu_load("basic", &len);
	xtu_entry(r, 1)->ip.src.s_addr = htonl(0x0a000001);	/* smsk stays 0 */
	ck_assert_int_eq(bf_xt4_translate(r, len, &ir, &err), 0);
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] saddr 10.0.0.1/0.0.0.0 iif lo -> ACCEPT");
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* Validation leaves counters zero and comefrom as the kernel sets it. */
START_TEST(test_normalises_counters)
{
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct ipt_entry *e;
	struct bf_ir *ir;
	size_t len;

	r = xtu_load("chains", &len);
	e = xtu_entry(r, 13);	/* ssh#1: reached from INPUT and FORWARD */
	ck_assert_uint_eq(e->comefrom, (1U << NF_INET_LOCAL_IN) | (1U << NF_INET_FORWARD));
	e->counters.pcnt = 12345;
	e->counters.bcnt = 678;
	e->comefrom = 0xdead;
	ck_assert_int_eq(bf_xt4_translate(r, len, &ir, &err), 0);
	ck_assert_uint_eq(e->counters.pcnt, 0);
	ck_assert_uint_eq(e->counters.bcnt, 0);
	ck_assert_uint_eq(e->comefrom, (1U << NF_INET_LOCAL_IN) | (1U << NF_INET_FORWARD));
	ck_assert_uint_eq(xtu_entry(r, 23)->comefrom, 0);	/* terminator: unreached */
	bf_ir_free(ir);
	free(r);
}
END_TEST

static Suite *xt_hostile_suite(void)
{
	Suite *s = suite_create("xt_hostile");
	TCase *tc = tcase_create("ours");

	tcase_add_loop_test(tc, test_hostile_ours, 0, N_CASES);
	tcase_add_test(tc, test_huge_size);
	tcase_add_test(tc, test_inv_frag_alone);
	tcase_add_test(tc, test_addr_outside_mask);
	tcase_add_test(tc, test_normalises_counters);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_hostile_suite);

static Suite *xt_kernel_suite(void)
{
	Suite *s = suite_create("xt_kernel");
	TCase *tc = tcase_create("kernel");

	/* Needs root for a scratch network namespace; without it, nothing to compare. */
	if (xtu_kernel_oracle("xt_kernel")) {
		tcase_add_loop_test(tc, test_hostile_kernel, 0, N_CASES);
		tcase_add_test(tc, test_fixtures_kernel);
	}
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_kernel_suite);
