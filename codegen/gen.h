/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Program generation, shared between gen.c (bpfilter_main), gen_chain.c
 * (chains, pieces and rules) and btf.c.
 *
 * Register contract
 *   bpfilter_main:      r6 = ctx, r7 = &pkt (fp - BF_PKT_FP), r8 = IPv4
 *                       header length (ihl * 4), r9 = IPv4 total length.
 *   chain and piece     int f(ctx, struct bf_pkt *pkt):
 *   functions:          r6 = ctx, r7 = pkt (NULL-checked on entry).
 *   bpfilter_count:     int f(ctx, pkt), counts slot pkt->key; r7 = pkt.
 *   r0-r5 are scratch everywhere and die at every call.
 *
 * Stack contract
 *   bpfilter_main: struct bf_pkt at fp - BF_PKT_FP (BF_PKT_SIZE bytes);
 *   when a rule uses the conntrack state, the BF_CT_AREA bytes below it
 *   (pkt - BF_CT_AREA) hold the conntrack lookup's tuple and options
 *   (gen_ct.c). Its l4[] area doubles as the scratch buffer for the
 *   Ethernet header, the IPv4 header (checksum) and the bpf_fib_lookup
 *   parameters before it receives the first L4 bytes.
 *   bpfilter_count, and a chain at the deepest call frame that counts
 *   inline, copy pkt->key to fp - 8 for the map lookup (Linux 6.1 takes
 *   no map key from a global function's pointer argument); other chain
 *   and piece functions use no stack, except -m limit's bucket: the map
 *   key at fp - 8 and credit_increase at fp - 16. So 8 call frames stay far below
 *   the 512-byte limit.
 *
 * Packet access: only bpf_{xdp,skb}_load_bytes() in bpfilter_main, bounded
 * by the IPv4 total length; chain functions read struct bf_pkt only.
 */
#ifndef BF_GEN_H
#define BF_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "bpfilter/codegen.h"
#include "emit.h"

/* struct bf_pkt, as laid out on bpfilter_main's stack */
#define BF_PKT_SADDR	0	/* u32, network order */
#define BF_PKT_DADDR	4	/* u32, network order */
#define BF_PKT_IIF	8	/* u32 ifindex, 0 = none */
#define BF_PKT_OIF	12	/* u32 ifindex, 0 = none */
#define BF_PKT_LEN	16	/* u32 IPv4 total length (counters) */
#define BF_PKT_L3OFF	20	/* u32 offset of the IPv4 header (14); read it as a u16:
				   LOG and REJECT do (gen_target.c) */
/*
 * u16 BF_CT_* state bit (filled when a rule uses it, gen_ct.c, after
 * BF_PKT_L3OFF was stored): the upper half of BF_PKT_L3OFF, always zero
 * otherwise, so struct bf_pkt keeps its size (and golden dumps theirs).
 */
#define BF_PKT_CTSTATE	22
#define BF_PKT_L4OFF	24	/* u32 offset of the L4 header */
#define BF_PKT_L4LEN	28	/* u32 L4 bytes inside the datagram */
#define BF_PKT_FRAGOFF	32	/* u16 fragment offset (8-byte units) */
#define BF_PKT_PROTO	34	/* u8 */
#define BF_PKT_OPTDROP	35	/* u8: 1 = TCP options unreadable (hotdrop) */
#define BF_PKT_KEY	36	/* u32 scratch: map keys */
#define BF_PKT_TOS	40	/* u8 */
#define BF_PKT_HOOK	41	/* u8 chain to run (NF_INET_*) */
#define BF_PKT_TTL	42	/* u8 IPv4 TTL (filled when a rule uses it) */
#define BF_PKT_PKTTYPE	43	/* u8 xt_pkttype's type (filled when used) */
#define BF_PKT_MARK	44	/* u32 skb->mark (tc; filled when a rule uses it) */
#define BF_PKT6_MARK	0	/* the same in IPv6 programs (saddr is unused there) */
#define BF_PKT_TCPOPTS	48	/* 256-bit set of TCP option kinds seen */
#define BF_PKT_IFB_IN	80	/* BF_MAX_IFPATS bits: patterns iif matches */
#define BF_PKT_IFB_OUT	112	/* same for oif */
#define BF_PKT_L4	144	/* first BF_PKT_L4_MAX bytes of L4, zero padded */
#define BF_PKT_L4_MAX	64
#define BF_PKT_SMAC	208	/* u8[6] Ethernet source (filled when used) */
/* -m addrtype (filled when used): u8 RTN_* of saddr / daddr | BF_ADT_* */
#define BF_PKT_STYPE	214
#define BF_PKT_DTYPE	215
#define BF_PKT_SIZE	216

#define BF_ADT_TYPE	0x0f	/* RTN_* as inet_dev_addr_type(net, NULL, a) */
#define BF_ADT_IIF	0x10	/* the route's device is iif */
#define BF_ADT_OIF	0x20	/* the route's device is oif */
#define BF_ADT_NODEV	0x40	/* no device compared (no route, 0/8, 224/4...) */

#define BF_PKT_FP	BF_PKT_SIZE	/* pkt = fp - BF_PKT_FP */

/*
 * IPv6 programs (ir->family == AF_INET6) use the same struct with these
 * differences: saddr/daddr/tos stay 0, the addresses follow smac, and
 *   proto    = the upper-layer protocol ipv6_find_hdr(target -1) returns;
 *   l4_off   = its transport offset + 14 (14 + 0 for a non-first
 *              fragment, where ipv6_find_hdr() leaves the offset alone);
 *   l4_len   = skb->len - transport offset, 0 when past the end;
 *   fragoff  = the fragment offset in bytes (frag_off & ~7);
 *   len      = skb->len at the hook: payload_len + 40 (counters);
 *   walkerr  = 1 when the walk failed (-EBADMSG / -ENOENT, or more than
 *              BF_V6_MAX_EXTHDRS extension headers);
 *   len6     = (u16)(payload_len + 40), what xt_length compares;
 *   ttl      = the hop limit (minus one at FORWARD), always filled.
 * BF_PKT6_SIZE = 248: rounded up to 256 by the verifier, with 7 more call
 * frames of 32 bytes each (every frame is rounded up to 32) the 8 frames
 * need 480 of the 512 bytes of stack. IPv4 programs keep BF_PKT_SIZE, byte
 * for byte. BTF describes the struct per function (btf.c): a program
 * carrying both families' chains (the umh's two-family attach) gives the
 * IPv6 ones the 248-byte struct bf_pkt6.
 */
#define BF_PKT_WALKERR	44	/* u8, IPv6 only */
#define BF_PKT_LEN6	46	/* u16, IPv6 only */
#define BF_PKT_SADDR6	216	/* 16 bytes, network order */
#define BF_PKT_DADDR6	232
#define BF_PKT6_SIZE	248

#define BF_V6_MAX_EXTHDRS	8	/* extension headers bpfilter_main walks */

/*
 * -m rt (BF_F_RT), IPv6 programs, in the unused IPv4 daddr slot; filled
 * by the walk when a rule uses it: the first routing header as
 * ipv6_find_hdr(skb, &ptr, NEXTHDR_ROUTING, NULL, NULL) finds it.
 *   rt      u8 status: 0 = -ENOENT (none, or a non-first fragment
 *           before it), else BF_RT6_* bits;
 *   rt_type, rt_segs, rt_len: its type, segments_left and hdrlen byte.
 */
#define BF_PKT6_RT	4
#define BF_PKT6_RTTYPE	5
#define BF_PKT6_RTSEGS	6
#define BF_PKT6_RTLEN	7
#define BF_RT6_FOUND	0x01	/* found, (hdrlen + 1) * 8 bytes inside the packet */
#define BF_RT6_ERR	0x02	/* -EBADMSG before it was found: hotdrop */
#define BF_RT6_SHORT	0x04	/* found, the packet shorter than it: hotdrop */
#define BF_RT6_RESNZ	0x08	/* found, its reserved word (ptr + 4) is not 0 */

/*
 * -m frag, -m hbh, -m dst (BF_F_FRAG6, BF_F_OPTS6), IPv6 programs: the
 * table's distinct predicates of these fields (at most BF_XH_MAX, slot i)
 * are evaluated once per packet by bpfilter_main (gen6.c, after the
 * walk), which needs the packet; the rule tests the slot's bits:
 *   xdrop bit i: the predicate hotdrops; else xmatch bit i: it matches.
 * Both bytes are unused by IPv6 programs otherwise (tos; the byte after
 * walkerr).
 */
#define BF_PKT6_XMATCH	40	/* u8 */
#define BF_PKT6_XDROP	45	/* u8 */
#define BF_XH_MAX	8

/* Function return codes (docs/design-notes.md) */
#define BF_RET_NONE	0
#define BF_RET_ACCEPT	1
#define BF_RET_DROP	2
#define BF_RET_RETURN	3	/* pieces only */
#define BF_RET_TX	4	/* -j REJECT built a reply: XDP_TX / the redirect set up */

#define BF_PIECE_RULES_DEFAULT	256
#define BF_MAX_FRAMES		8	/* MAX_CALL_FRAMES */

struct bf_gen {
	const struct bf_ir *ir;
	struct bf_gen_opts opts;
	struct bf_emit e;
	struct bf_err *err;
	uint32_t *chain_label;	/* per chain: its function's label */
	uint32_t count_label;	/* bpfilter_count */
	bool *chain_used;	/* reachable from this hook's chains */
	bool *inline_count;	/* at the last frame: count without a call */
	bool uses_tcpopt;
	bool uses_ttl;		/* fill pkt->ttl */
	bool uses_pkttype;	/* fill pkt->pkttype */
	bool uses_smac;		/* fill pkt->smac */
	bool uses_mark;		/* fill pkt->mark (tc only) */
	bool uses_limit;	/* chain functions call bpf_jiffies64 */
	bool uses_addrtype;	/* fill pkt's address types */
	bool uses_addrtype6;	/* IPv6 route lookups into STYPE/DTYPE */
	bool uses_rt;		/* IPv6: record the routing header (BF_PKT6_RT) */
	bool v6;		/* ir->family == AF_INET6 */
	int pkt_size;		/* BF_PKT_SIZE or BF_PKT6_SIZE: pkt = fp - this */
	bool uses_ct;		/* fill pkt->ctstate (gen_ct.c) */
	/* IPv6: distinct BF_F_FRAG6 / BF_F_OPTS6 predicates (BF_PKT6_XMATCH) */
	const struct bf_pred *xh[BF_XH_MAX];
	uint32_t n_xh;
	bool xh_overflow;	/* more than BF_XH_MAX: refused by bf_gen() */
};

/* gen6.c: bpfilter_main's parse and chain decision for IPv6 */
struct gen_main {
	uint32_t pass;		/* return the hook's "pass" code */
	uint32_t drop;
	uint32_t chain_sel;	/* pkt->hook set, iif/oif set: go on */
};
void bf_gen6_parse(struct bf_gen *g, const struct gen_main *m);
void bf_gen6_forward_hl(struct bf_gen *g, const struct gen_main *m);
void bf_gen6_fib_params(struct bf_gen *g);
/* gen6.c: -m frag/hbh/dst slots (BF_PKT6_XMATCH); slot < 0: not known */
void bf_gen6_xh_add(struct bf_gen *g, const struct bf_pred *p);
int bf_gen6_xh_slot(const struct bf_gen *g, const struct bf_pred *p);

/* gen.c helpers gen6.c shares */
void bf_gen_load_bytes(struct bf_gen *g, int off_reg, int32_t off,
		       int len_reg, int32_t len, int dst_off);
void bf_gen_parse_l2(struct bf_gen *g, const struct gen_main *m,
		     uint16_t ethertype);
void bf_gen_pkttype_l2(struct bf_emit *e);
bool bf_gen_pkttype_from_l2(const struct bf_gen *g);
bool bf_gen_has_chain(const struct bf_gen *g, int hook);

/* gen_chain.c */
int bf_gen_chains(struct bf_gen *g);
void bf_gen_count_fn(struct bf_gen *g);
int bf_gen_check_depth(struct bf_gen *g);
void bf_gen_reach(struct bf_gen *g, uint32_t chain);

/* gen_ct.c: pkt->ctstate, in bpfilter_main after the L4 copy */
#define BF_CT_AREA	96
/* 0, or the reason (in g->err) the kernel's BTF cannot serve conntrack */
int bf_gen_ct_check(struct bf_gen *g);
void bf_gen_ct_state(struct bf_gen *g);
/* Where bpfilter_main passes a packet after the chains: feed the ICMP query tracker. */
void bf_gen_ct_accept(struct bf_gen *g);
/* The observer program's body (opts.observe): feed the tracker, r6/r7 as in main. */
void bf_gen_ct_observe(struct bf_gen *g);

/* ct_enable.c: does `prog` look conntrack up (kfunc calls)? */
bool bf_prog_uses_ct(const struct bf_prog *prog);
/* Take a conntrack reference in the current netns (nf_tables table bpfilter_ct). */
int bf_ct_enable(struct bf_err *err);
/* The same for `family` (AF_INET: table ip bpfilter_ct, AF_INET6: ip6). */
int bf_ct_enable_family(int family, struct bf_err *err);
/* For every family whose conntrack `prog` looks up (prog->ct_families). */
int bf_ct_enable_prog(const struct bf_prog *prog, struct bf_err *err);
/*
 * Where the conntrack kfuncs live in a module (kfunc calls with off 1: a
 * kernel whose nf_conntrack is a module, as Debian's), fd_array[1] = that
 * module's BTF fd (the caller closes it); else it stays -1.
 */
int bf_ct_kfunc_fds(const struct bf_prog *prog, int fd_array[2],
		    struct bf_err *err);
/* The module whose BTF holds the conntrack kfuncs when not vmlinux. */
#define BF_CT_MODULE	"nf_conntrack"

/* gen_target.c: side-effect targets inside a hit block (r6 = ctx, r7 = pkt) */
int bf_gen_log(struct bf_gen *g, const struct bf_rule *r);
/* Emits the reply and `return DROP`, or refuses with g->err set (-EOPNOTSUPP). */
int bf_gen_reject(struct bf_gen *g, const struct bf_rule *r, const char *chain);

/*
 * gen_icmprl.c: the kernel's ICMP error rate limits (ratemask, global
 * bucket, per-destination peer) before a REJECT's ICMP reply; r6 = ctx,
 * r7 = pkt, r8 = the scratch buffer; clobbers r0-r5 and r9. Jumps to
 * `limited` when the kernel would send nothing.
 */
void bf_gen_icmp_ratelimit(struct bf_gen *g, bool v6, uint32_t limited);

/* btf.c */
struct btf;
/*
 * BTF for `prog`: the ctx type of its hook, struct bf_pkt, one FUNC per
 * prog->funcs[i] (main: int(ctx *), others: int(ctx *, struct bf_pkt *)).
 * type_ids[i] receives the FUNC type id of prog->funcs[i].
 */
int bf_btf_build(const struct bf_prog *prog, struct btf **btfp,
		 uint32_t *type_ids);

#endif /* BF_GEN_H */
