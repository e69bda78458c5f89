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
 *   bpfilter_main: struct bf_pkt at fp - BF_PKT_FP (BF_PKT_SIZE bytes),
 *   nothing else. Its l4[] area doubles as the scratch buffer for the
 *   Ethernet header, the IPv4 header (checksum) and the bpf_fib_lookup
 *   parameters before it receives the first L4 bytes.
 *   bpfilter_count, and a chain at the deepest call frame that counts
 *   inline, copy pkt->key to fp - 8 for the map lookup (Linux 6.1 takes
 *   no map key from a global function's pointer argument); other chain
 *   and piece functions use no stack. So 8 call frames stay far below
 *   the 512-byte limit.
 *
 * Packet access: only bpf_{xdp,skb}_load_bytes() in bpfilter_main, bounded
 * by the IPv4 total length; chain functions read struct bf_pkt only.
 */
#ifndef BF_GEN_H
#define BF_GEN_H

#include <stdint.h>

#include "bpfilter/codegen.h"
#include "emit.h"

/* struct bf_pkt, as laid out on bpfilter_main's stack */
#define BF_PKT_SADDR	0	/* u32, network order */
#define BF_PKT_DADDR	4	/* u32, network order */
#define BF_PKT_IIF	8	/* u32 ifindex, 0 = none */
#define BF_PKT_OIF	12	/* u32 ifindex, 0 = none */
#define BF_PKT_LEN	16	/* u32 IPv4 total length (counters) */
#define BF_PKT_L3OFF	20	/* u32 offset of the IPv4 header */
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
#define BF_PKT_TCPOPTS	48	/* 256-bit set of TCP option kinds seen */
#define BF_PKT_IFB_IN	80	/* BF_MAX_IFPATS bits: patterns iif matches */
#define BF_PKT_IFB_OUT	112	/* same for oif */
#define BF_PKT_L4	144	/* first BF_PKT_L4_MAX bytes of L4, zero padded */
#define BF_PKT_L4_MAX	64
#define BF_PKT_SMAC	208	/* u8[6] Ethernet source (filled when used) */
#define BF_PKT_SIZE	216

#define BF_PKT_FP	BF_PKT_SIZE	/* pkt = fp - BF_PKT_FP */

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
};

/* gen_chain.c */
int bf_gen_chains(struct bf_gen *g);
void bf_gen_count_fn(struct bf_gen *g);
int bf_gen_check_depth(struct bf_gen *g);
void bf_gen_reach(struct bf_gen *g, uint32_t chain);

/* gen_target.c: side-effect targets inside a hit block (r6 = ctx, r7 = pkt) */
int bf_gen_log(struct bf_gen *g, const struct bf_rule *r);
/* Emits the reply and `return DROP`, or refuses with g->err set (-EOPNOTSUPP). */
int bf_gen_reject(struct bf_gen *g, const struct bf_rule *r, const char *chain);

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
