/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The intermediate representation between front-ends (xt blobs, later
 * nftables) and the BPF emitter.
 *
 * A table is a list of chains; a chain is a list of rules; a rule is a
 * conjunction of typed predicates plus a verdict. Every predicate is
 * "field OP constant", optionally inverted, so that later passes can merge
 * runs of rules that differ only in a constant into one map lookup
 * (LPM trie for addresses, hash/array for ports) or classify them.
 *
 * Evaluation follows ipt_do_table(): rules in order, first match decides;
 * predicates in order, the first false one ends the rule ("no match").
 * A guard predicate can end the whole packet with DROP instead ("hotdrop",
 * as xt matches do when they cannot read a header they need); a hotdropped
 * packet increments no counter.
 *
 * Counters: every blob entry has one counter slot, index = its position in
 * the blob (0-based). Rules, built-in policies and user-chain RETURN entries
 * count when they are reached and match; ERROR entries never count.
 */
#ifndef BPFILTER_IR_H
#define BPFILTER_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bf_verdict {
	BF_V_NEXT,	/* no decision: continue with the next rule */
	BF_V_ACCEPT,
	BF_V_DROP,
	BF_V_RETURN,	/* back to the calling chain; in a built-in: its policy */
	BF_V_JUMP,	/* call chain `target`, continue here if it returns */
	BF_V_GOTO,	/* continue in chain `target`; its RETURN returns from us */
	/*
	 * Added after the first release (targets other than standard/ERROR);
	 * appended so existing values keep their numbers. Neither is a jump:
	 * test JUMP/GOTO by name, never with >= BF_V_JUMP.
	 */
	BF_V_LOG,	/* -j LOG: log (rule->log), then continue with the next rule */
	BF_V_REJECT,	/* -j REJECT: send rule->reject_with's reply, then DROP */
};

enum bf_field {
	/* ipt_ip */
	BF_F_SADDR4,	/* (saddr & mask) == value, both network order */
	BF_F_DADDR4,	/* (daddr & mask) == value */
	BF_F_IIF,	/* input device name matches ifpats[value] */
	BF_F_OIF,	/* output device name matches ifpats[value] */
	BF_F_PROTO,	/* IPv4 protocol field == value */
	BF_F_FRAG,	/* packet is a non-first fragment (fragoff != 0) */
	/*
	 * Guard that opens an L4 match (xt tcp/udp/icmp), never inverted:
	 *   fragoff != 0: no match, except with BF_L4_EVIL_FRAG and fragoff
	 *                 == 1, which hotdrops (tcp_mt's "evil" fragment);
	 *   fewer than `lo` L4 bytes inside the IP datagram: hotdrop.
	 * value = the protocol of the match (6, 17, 1); flags = BF_L4_*.
	 */
	BF_F_L4HDR,
	BF_F_SPORT,	/* lo <= source port <= hi (host order) */
	BF_F_DPORT,	/* lo <= destination port <= hi */
	BF_F_TCPFLAGS,	/* (tcp byte 13 & mask) == value */
	/*
	 * TCP option kind `value` is present (tcp_find_option()). doff*4 < 20
	 * or options that extend past the datagram hotdrop; the inversion
	 * applies to the search result only, as in the kernel.
	 */
	BF_F_TCPOPT,
	/* ICMP: (value == 0xff || (type == value && lo <= code <= hi)) */
	BF_F_ICMP,
	BF_F_COMMENT,	/* always true; text kept for round trips and dumps */
	/*
	 * Added after the first release; appended so existing values keep
	 * their numbers.
	 */
	BF_F_LENGTH,	/* lo <= IPv4 total length <= hi (xt_length) */
	/*
	 * TTL compared with `value` as ipt_ttl_info.mode says, in `flags`:
	 * 0 ==, 1 !=, 2 <, 3 >; any other mode is never true (ttl_mt).
	 */
	BF_F_TTL,
	/* Always true: opens -m iprange; flags = its flags byte (round trips). */
	BF_F_IPRANGE,
	BF_F_SRANGE4,	/* lo <= saddr <= hi, addresses in host order */
	BF_F_DRANGE4,	/* lo <= daddr <= hi */
	/*
	 * -m multiport (xt_multiport_v1). A group: this predicate and the
	 * `lo` BF_F_MPORT_ITEM predicates right after it.
	 *   fragoff != 0: no match (not inverted);
	 *   fewer than 4 L4 bytes inside the datagram: hotdrop;
	 *   else true when a port of the side `value` is in an item's
	 *   [lo, hi], XOR inv. value: 0 source, 1 destination, 2 either
	 *   (XT_MULTIPORT_SOURCE/_DESTINATION/_EITHER).
	 */
	BF_F_MPORT,
	/*
	 * One port (flags 0, lo == hi) or range (flags 1: a pflags entry,
	 * taking two port slots) of the BF_F_MPORT before it; evaluated by
	 * that predicate, true on its own.
	 */
	BF_F_MPORT_ITEM,
	/*
	 * skb->pkt_type == value (xt_pkttype: 0 unicast/host, 1 broadcast,
	 * 2 multicast; other values never match). The type is the kernel's:
	 * at tc skb->pkt_type, PACKET_LOOPBACK counting as multicast for a
	 * multicast daddr and broadcast otherwise (locally generated packets
	 * are PACKET_HOST); at XDP the Ethernet destination decides as
	 * eth_type_trans() does: group bit set means broadcast for
	 * ff:ff:ff:ff:ff:ff, multicast otherwise, else host (XDP does not
	 * tell PACKET_OTHERHOST apart: see docs/design-notes.md).
	 */
	BF_F_PKTTYPE,
	/*
	 * Ethernet source == value:lo, value = its bytes 0-3, lo = bytes 4-5,
	 * both as big-endian numbers (xt_mac --mac-source).
	 */
	BF_F_SMAC,
	/*
	 * IPv6 (ir->family == AF_INET6). Fields above keep their meaning
	 * where the family has the same thing: BF_F_IIF/OIF, BF_F_L4HDR
	 * (fragoff is the byte offset ipv6_find_hdr() reports, so the "evil
	 * fragment" case never fires), SPORT/DPORT, TCPFLAGS, TCPOPT,
	 * COMMENT, LENGTH (payload_len + 40, as xt_length), MPORT(_ITEM),
	 * PKTTYPE (PACKET_LOOPBACK is always multicast for IPv6),
	 * SMAC; BF_F_TTL is the hop limit (ip6t_hl, modes 0 ==, 1 !=,
	 * 2 <, 3 >), BF_F_IPRANGE opens -m iprange for both families.
	 * BF_F_SADDR4/DADDR4/PROTO/FRAG/ICMP/SRANGE4/DRANGE4 are IPv4 only.
	 */
	/*
	 * ipv6_masked_addr_cmp(): ((saddr ^ a6) & b6) == 0, 16 bytes each,
	 * network order; bits of a6 outside b6 do not matter (unlike IPv4).
	 */
	BF_F_SADDR6,
	BF_F_DADDR6,	/* ((daddr ^ a6) & b6) == 0 */
	/*
	 * ip6t_ip6.proto with IP6T_F_PROTO, as ip6_packet_match() decides it,
	 * inversion included (evaluated whole, `inv` = IP6T_INV_PROTO):
	 *   the walk of ipv6_find_hdr(target -1) fails: hotdrop when the
	 *   fragment offset is 0, else no match;
	 *   upper-layer protocol == value: !inv;
	 *   else: value == 0 ("all") || inv.
	 * The walk (protocol, transport offset, fragment offset) is done
	 * once per packet by bpfilter_main.
	 */
	BF_F_PROTO6,
	/*
	 * ICMPv6 (icmp6_match(), never the IPv4 0xff wildcard):
	 * (type == value && lo <= code <= hi) XOR inv. Preceded by a
	 * BF_F_L4HDR guard (value 58, lo 8: icmp6_match() reads a whole
	 * struct icmp6hdr, so fewer than 8 bytes hotdrop - measured on 6.18;
	 * a non-first fragment does not match).
	 */
	BF_F_ICMP6,
	BF_F_SRANGE6,	/* a6 <= saddr <= b6, compared as 128-bit big-endian */
	BF_F_DRANGE6,	/* a6 <= daddr <= b6 */
	/*
	 * Appended by the matches of issue 3 (every family unless said).
	 * (skb->mark & mask) == value, XOR inv (xt_mark rev 1). Only where
	 * an skb exists: tc; a table using it is refused at XDP (-EINVAL).
	 */
	BF_F_MARK,
	/*
	 * xt_addrtype rev 1 (IPv4): lo = --src-type bits, hi = --dst-type
	 * bits (XT_ADDRTYPE_*, 1 << RTN_*), flags = its flags byte
	 * (XT_ADDRTYPE_INVERT_SOURCE 1, _INVERT_DEST 2, _LIMIT_IFACE_IN 4,
	 * _LIMIT_IFACE_OUT 8). True when (source == 0 || (1 << type(saddr))
	 * & source, XOR invert-source) && (the same for dest), type() being
	 * inet_dev_addr_type() with the input (LIMIT_IFACE_IN) or output
	 * (LIMIT_IFACE_OUT) device, else none: see docs/design-notes.md.
	 * inv is never set (the inversions live in flags).
	 */
	BF_F_ADDRTYPE,
	/*
	 * xt_limit rev 0: a token bucket per predicate, the kernel's
	 * limit_mt(): value = avg, lo = burst (what GET_ENTRIES shows),
	 * mask = credit_cap, hi = cost (credits; what checkentry computed
	 * with HZ 250, or the blob's own when its cost was not 0). The
	 * bucket starts full: user2credits(avg * burst). Never inverted.
	 * Its state is slot k of BF_MAP_LIMIT, k = the predicate's position
	 * among the table's BF_F_LIMIT predicates in IR order.
	 */
	BF_F_LIMIT,
	/*
	 * Connection tracking state (-m conntrack --ctstate, -m state
	 * --state): (state bit of the packet & value) != 0, XOR inv. The
	 * bits are xt_conntrack's: 1 INVALID, 2 ESTABLISHED, 4 RELATED,
	 * 8 NEW, 0x100 UNTRACKED (XT_CONNTRACK_STATE_*); a packet has
	 * exactly one. Other bits never match. xt_state's UNTRACKED (64)
	 * becomes 0x100 here; its bits that never match are kept in `lo`
	 * for the round trip. flags, for round trips only: 0 = xt_state
	 * (revision 0); else (conntrack revision << 16) | its match_flags
	 * (XT_CONNTRACK_STATE, optionally XT_CONNTRACK_STATE_ALIAS, which
	 * is what iptables writes for -m state). How the state is found at
	 * each hook: docs/design-notes.md, "Connection tracking".
	 */
	BF_F_CTSTATE,
	/*
	 * Appended for ip6t_rt (IPv6 only): -m rt, evaluated whole (`inv`
	 * is never set; the inversions live in flags). The header is the
	 * first routing header, as ipv6_find_hdr(skb, &ptr, NEXTHDR_ROUTING,
	 * NULL, NULL) finds it, walking HOP/DEST/ROUTING/AUTH and first
	 * fragments:
	 *   no routing header, or a non-first fragment header before it
	 *   (-ENOENT): no match;
	 *   a header before it, or its own first 4 bytes, not inside the
	 *   packet (-EBADMSG; also a 9th extension header, bpfilter's
	 *   BF_V6_MAX_EXTHDRS bound): hotdrop;
	 *   the packet shorter than ptr + (hdrlen + 1) * 8: hotdrop (6.18's
	 *   rt_mt6(), measured; older kernels said no match);
	 *   else (lo <= segments_left <= hi) XOR (flags & 0x200)
	 *   && (!(flags & IP6T_RT_LEN) || (mask == (hdrlen + 1) * 8) XOR
	 *       (flags & 0x400))
	 *   && (!(flags & IP6T_RT_TYP) || (value == type) XOR (flags & 0x100))
	 *   && (!(flags & IP6T_RT_RES) || the 32-bit word at ptr + 4 is 0).
	 * value = rt_type, lo/hi = segsleft[0]/[1], mask = hdrlen (bytes),
	 * flags = ip6t_rt.flags | invflags << 8. IP6T_RT_FST (--rt-0-addrs)
	 * is refused by the front-end.
	 */
	BF_F_RT,
	/*
	 * Appended for ip6t_frag (IPv6 only): -m frag, evaluated whole
	 * (`inv` is never set; the inversions live in flags). The header is
	 * the first fragment header, as ipv6_find_hdr(skb, &ptr,
	 * NEXTHDR_FRAGMENT, NULL, NULL) finds it (a non-first fragment is
	 * found too):
	 *   none (-ENOENT): no match;
	 *   a header before it, or its own first 4 bytes, not inside the
	 *   packet (-EBADMSG; also a 9th extension header, the designed
	 *   BF_V6_MAX_EXTHDRS bound), or fewer than its 8 bytes: hotdrop;
	 *   else (lo <= id <= hi) XOR (flags & 0x100)
	 *   && !((flags & IP6T_FRAG_RES) && (reserved || frag_off & 6))
	 *   && !((flags & IP6T_FRAG_FST) && frag_off & ~7)
	 *   && !((flags & IP6T_FRAG_MF) && !(frag_off & 1))
	 *   && !((flags & IP6T_FRAG_NMF) && (frag_off & 1)),
	 * frag_off in host order. lo/hi = ids[0]/[1], mask = hdrlen (never
	 * compared, as in frag_mt6()), flags = ip6t_frag.flags | invflags << 8
	 * | its two trailing pad bytes << 16 (kept for round trips).
	 */
	BF_F_FRAG6,
	/*
	 * Appended for ip6t_opts (-m hbh, -m dst; IPv6 only), evaluated
	 * whole as hbh_mt6() does (`inv` never set). value = the header:
	 * 0 (NEXTHDR_HOP, -m hbh) or 60 (NEXTHDR_DEST, -m dst), found as
	 * ipv6_find_hdr(skb, &ptr, value, NULL, NULL) finds it:
	 *   -ENOENT: no match; -EBADMSG (or the 9th extension header):
	 *   hotdrop; the packet shorter than ptr + (hdrlen + 1) * 8: hotdrop;
	 *   ret = !(flags & IP6T_OPTS_LEN) || (mask == (hdrlen + 1) * 8)
	 *         XOR (flags & 0x100);
	 *   without IP6T_OPTS_OPTS: ret; else the option walk over the
	 *   header's bytes after its first two, for k < hi (optsnr):
	 *     no byte left: no match;
	 *     type != opts[k] >> 8: no match;
	 *     type != 0 (not Pad1): no length byte left: no match;
	 *       (opts[k] & 0xff) != 0xff && length != (opts[k] & 0xff):
	 *       no match; optlen = length + 2; Pad1: optlen = 1;
	 *     optlen beyond the header and k < hi - 1: no match (the last
	 *     option's optlen is not checked);
	 *   then ret. The walk never hotdrops (measured on 6.18).
	 * mask = ip6t_opts.hdrlen, hi = optsnr (<= 16), a6/b6 = opts[0..7] /
	 * opts[8..15] as the blob's bytes (host-order u16s), flags =
	 * ip6t_opts.flags | invflags << 8 | its trailing pad byte << 16.
	 */
	BF_F_OPTS6,
	/*
	 * Appended for xt_addrtype rev 1 in ip6tables (addrtype_mt6(); IPv6
	 * only): lo = --src-type bits, hi = --dst-type bits (XT_ADDRTYPE_*),
	 * flags = its flags word (inversions, limits: kept for round trips).
	 * Each side whose bits are not 0 must hold, XOR its inversion:
	 *   MULTICAST: the address is ff00::/8;
	 *   UNICAST: it is not ff00::/8, not :: and not ::ffff:0:0/96
	 *   (ipv6_addr_type()'s IPV6_ADDR_UNICAST);
	 *   UNSPEC: it is ::;
	 * all the given bits at once. LOCAL, ANYCAST and UNREACHABLE (the
	 * kernel's route lookup) are refused by the front-end; with only the
	 * bits above, --limit-iface-in/out change nothing (no lookup).
	 * `inv` is never set.
	 */
	BF_F_ADDRTYPE6,
};

/* BF_F_CTSTATE value bits (XT_CONNTRACK_STATE_BIT of each ctinfo) */
#define BF_CT_INVALID		0x01
#define BF_CT_ESTABLISHED	0x02
#define BF_CT_RELATED		0x04
#define BF_CT_NEW		0x08
/*
 * XT_CONNTRACK_STATE_SNAT / _DNAT: set next to the ctinfo bit when the
 * packet's entry has IPS_SRC_NAT / IPS_DST_NAT (conntrack_mt()), never
 * with INVALID or UNTRACKED.
 */
#define BF_CT_SNAT		0x40
#define BF_CT_DNAT		0x80
#define BF_CT_UNTRACKED		0x100

#define BF_MPORT_RANGE	0x1	/* BF_F_MPORT_ITEM flags */

#define BF_L4_EVIL_FRAG	0x1

struct bf_pred {
	enum bf_field field;
	bool inv;
	uint32_t value;
	uint32_t mask;
	uint32_t lo;
	uint32_t hi;
	uint32_t flags;
	char *text;		/* BF_F_COMMENT only; owned */
	/* IPv6 operands: SADDR6/DADDR6 address and mask, *RANGE6 first/last. */
	uint8_t a6[16];
	uint8_t b6[16];
};

/* -j LOG's parameters (xt_log_info / ipt_log_info, kept byte for byte). */
#define BF_LOG_PREFIX_LEN	30
struct bf_log {
	uint8_t level;		/* syslog level 0-7 */
	uint8_t flags;		/* XT_LOG_* */
	char prefix[BF_LOG_PREFIX_LEN];	/* NUL terminated; bytes after the NUL kept */
};

struct bf_rule {
	uint32_t index;		/* blob entry index = counter slot */
	uint32_t num;		/* 1-based position in its chain */
	struct bf_pred *preds;
	uint32_t n_preds;
	enum bf_verdict verdict;
	uint32_t target;	/* chain index, for JUMP and GOTO */
	/* Appended: target parameters. */
	struct bf_log log;	/* BF_V_LOG */
	uint32_t reject_with;	/* BF_V_REJECT: enum ipt_reject_with (IPv4), enum ip6t_reject_with (AF_INET6 IR) */
};

/* A device name pattern exactly as ipt_ip carries it. */
struct bf_ifpat {
	char name[16];
	uint8_t mask[16];
};

#define BF_HOOK_NONE	(-1)	/* user chain */
#define BF_NR_HOOKS	5	/* NF_INET_NUMHOOKS */

struct bf_chain {
	char name[32];		/* "INPUT" ... or the user chain's name */
	int hook;		/* NF_INET_* of a built-in, BF_HOOK_NONE */
	struct bf_rule *rules;
	uint32_t n_rules;
	/*
	 * What happens at the end of the chain:
	 * built-in: ACCEPT or DROP, the policy entry at `end_index`;
	 * user chain: RETURN, the trailing RETURN entry at `end_index`, or
	 * DROP without counting when the chain falls into the next chain's
	 * ERROR head (what ipt_error does).
	 */
	enum bf_verdict end;
	uint32_t end_index;
	bool end_counts;	/* false for the ERROR fall-through */
	uint32_t head_index;	/* user chains: index of the ERROR head entry */
};

struct bf_ir {
	int family;			/* AF_INET or AF_INET6 */
	char table[32];			/* "filter" */
	uint32_t valid_hooks;
	struct bf_chain *chains;	/* in blob order */
	uint32_t n_chains;
	int32_t hook_chain[BF_NR_HOOKS];	/* chain index or -1 */
	struct bf_ifpat *ifpats;	/* deduplicated */
	uint32_t n_ifpats;
	uint32_t n_entries;		/* blob entries = counter slots */
};

void bf_ir_free(struct bf_ir *ir);

/*
 * One line of text for a rule, e.g.
 *   "INPUT#3 [7] saddr 10.0.0.0/255.0.0.0 proto 6 tcp(20) dport 22-22 -> DROP"
 * Returns the length snprintf() would have written.
 */
int bf_ir_rule_str(const struct bf_ir *ir, const struct bf_chain *chain,
		   const struct bf_rule *rule, char *buf, size_t len);

/*
 * Position of `pred` among the predicates of its field in IR order
 * (chains, rules, predicates), -1 if it is not in `ir`: the slot of a
 * BF_F_LIMIT bucket. bf_ir_count_field(): how many of `field` the table has.
 */
int32_t bf_ir_pred_ordinal(const struct bf_ir *ir, const struct bf_pred *pred);
uint32_t bf_ir_count_field(const struct bf_ir *ir, enum bf_field field);

/* Does device `name` (NUL padded to 16) match pattern `pat`? */
bool bf_ifpat_match(const struct bf_ifpat *pat, const char *name);

#endif /* BPFILTER_IR_H */
