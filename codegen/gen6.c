// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter_main for IPv6 (ir->family == AF_INET6): parse and validate the
 * Ethernet + IPv6 headers as ipv6_rcv()/ip6_rcv_core() do, walk the
 * extension headers once as ipv6_find_hdr(skb, &off, -1, &fragoff, NULL)
 * does, fill struct bf_pkt (layout and IPv6 meaning of its fields: gen.h),
 * and the IPv6 parts of the chain decision (bpf_fib_lookup parameters,
 * ip6_forward()'s hop limit). Everything after that is shared with IPv4.
 *
 * Packets the kernel drops before netfilter pass unfiltered and uncounted:
 *   - not IPv6 at L2, fewer than 40 bytes, version != 6;
 *   - payload_len + 40 beyond the frame (ip6_rcv_core's truncation check);
 *     payload_len 0 with a hop-by-hop header is not trimmed (jumbogram
 *     rule): the packet is the whole frame, as for the kernel (at OUTPUT
 *     any payload_len 0: BIG TCP GSO packets);
 *   - at ingress (INPUT, FORWARD), RFC 4291 address checks of
 *     ip6_rcv_core: multicast source, loopback (::1) source or
 *     destination, multicast destination of scope 0, or of scope 1
 *     (interface-local) from another node;
 *   - at ingress, a hop-by-hop header not inside the payload
 *     (ipv6_parse_hopopts' pskb_may_pull checks);
 *   - at FORWARD, hop limit <= 1 (ip6_forward() drops it before the hook,
 *     then decrements the hop limit the FORWARD chain sees).
 * Designed differences (documented in docs/design-notes.md): the TLV
 * options inside the hop-by-hop header are not validated (the kernel drops
 * bad ones; bpfilter filters them, so only counters can differ), and a
 * walk of more than BF_V6_MAX_EXTHDRS extension headers is a walk error
 * (a rule with -p drops the packet, as for a malformed chain).
 */
#include <string.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include "gen.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R6 BPF_REG_6
#define R7 BPF_REG_7
#define R8 BPF_REG_8
#define R9 BPF_REG_9

#define ETH_HLEN_		14
#define IP6_HLEN		40
#define XDP_MD_INGRESS_IFINDEX	12
#define SKB_LEN			0
#define SKB_PKT_TYPE		4
#define SKB_IFINDEX		40
#define PACKET_LOOPBACK_	5
#define PACKET_MULTICAST_	2

#define NEXTHDR_HOP		0
#define NEXTHDR_ROUTING		43
#define NEXTHDR_FRAGMENT	44
#define NEXTHDR_AUTH		51
#define NEXTHDR_NONE		59
#define NEXTHDR_DEST		60

/* Where the walk reads each extension header's first bytes. */
#define SCRATCH			(BF_PKT_L4 + IP6_HLEN)

static bool gen6_is_xdp(const struct bf_gen *g)
{
	return g->opts.hook == BF_HOOK_XDP;
}

/* Does this program see packets from another node (INPUT / FORWARD)? */
static bool gen6_ingress(const struct bf_gen *g)
{
	if (g->opts.force_hook >= 0)
		return g->opts.force_hook != NF_INET_LOCAL_OUT;
	return g->opts.hook != BF_HOOK_TC_EGRESS;
}

/* r0 = bytes after the Ethernet header (skb->len at the IPv6 layer) */
static void gen6_frame_len(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	if (gen6_is_xdp(g)) {
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_get_buff_len));
	} else {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R0, R6, SKB_LEN));
	}
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R0, -ETH_HLEN_));
}

/*
 * The fixed header in pkt->l4: version, payload_len; r9 = skb->len after
 * ip6_rcv_core's trim (payload_len + 40, or the frame for payload_len 0
 * with a hop-by-hop header), stored in pkt->len; pkt->len6 for xt_length.
 * Locally generated packets are not trimmed: payload_len 0 (a BIG TCP
 * GSO packet) is the whole frame there too.
 */
static void gen6_parse_hdr(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t untrimmed = bf_label_new(e), done = bf_label_new(e);

	bf_gen_load_bytes(g, -1, ETH_HLEN_, -1, IP6_HLEN, BF_PKT_L4);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), m->pass);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R1, 4));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 6, 0), m->pass);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R9, R7, BF_PKT_L4 + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R9, 16));
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, IP6_HLEN));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, BF_PKT_LEN6));
	gen6_frame_len(g);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R9, 0, 0), untrimmed);
	if (gen6_ingress(g)) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 6));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, NEXTHDR_HOP, 0),
			    untrimmed);
	}
	bf_emit(e, BPF_MOV64_REG(R9, R0));	/* jumbogram rule: not trimmed */
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, untrimmed);
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, IP6_HLEN));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R9, R0, 0), m->pass);
	bf_label_bind(e, done);
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R9, BF_PKT_LEN));
}

/* Jump to `yes` when the address at pkt + off is ::1 (r2 = its last 8 bytes) */
static void gen6_jmp_loopback(struct bf_emit *e, int off, uint32_t yes)
{
	uint32_t no = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, off));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), no);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, off + 8));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JEQ, R1, R2, 0), yes);
	bf_label_bind(e, no);
}

/*
 * ip6_rcv_core's address checks (RFC 4291) on the header in pkt->l4, as
 * measured on 6.18 (tests/packet/kernel6.py): a v4-mapped source is NOT
 * dropped there.
 */
static void gen6_addr_checks(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t not_mc = bf_label_new(e);
	int s = BF_PKT_L4 + 8, d = BF_PKT_L4 + 24;

	/* multicast source */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, s));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xff, 0), m->pass);
	/* multicast destination of scope 0 or 1 (interface-local) */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, d));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0xff, 0), not_mc);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, d + 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xf));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R1, 1, 0), m->pass);
	bf_label_bind(e, not_mc);
	/* source or destination ::1 */
	bf_emit_ld_imm64(e, R2, 0x0100000000000000ull);
	gen6_jmp_loopback(e, s, m->pass);
	gen6_jmp_loopback(e, d, m->pass);
}

/*
 * ipv6_parse_hopopts' length checks: the hop-by-hop header (8 bytes, then
 * (hdrlen + 1) * 8) must be inside the packet (r9 = its length).
 */
static void gen6_hop_check(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 6));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, NEXTHDR_HOP, 0), done);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R9, IP6_HLEN + 8, 0), m->pass);
	bf_gen_load_bytes(g, -1, ETH_HLEN_ + IP6_HLEN, -1, 2, SCRATCH);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), m->pass);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 3));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, IP6_HLEN));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R1, R9, 0), m->pass);
	bf_label_bind(e, done);
}

/*
 * pkt->pkttype at tc: skb->pkt_type, PACKET_LOOPBACK being multicast for
 * IPv6 (pkttype_mt()). Locally generated packets are PACKET_HOST.
 */
static void gen6_pkttype_tc(struct bf_emit *e)
{
	uint32_t store = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_PKT_TYPE));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, PACKET_LOOPBACK_, 0), store);
	bf_emit(e, BPF_MOV64_IMM(R1, PACKET_MULTICAST_));
	bf_label_bind(e, store);
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_PKTTYPE));
}

/* L3 fields of struct bf_pkt from the header in pkt->l4 */
static void gen6_fill(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	int i;

	for (i = 0; i < 32; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_L4 + 8 + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, BF_PKT_SADDR6 + i));
	}
	/* always: ip6_forward() looks at it before FORWARD */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 7));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_TTL));
	if (g->uses_pkttype && !bf_gen_pkttype_from_l2(g))
		gen6_pkttype_tc(e);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L3OFF, ETH_HLEN_));
}

/* Jump to `yes` when r8 is one of ipv6_ext_hdr()'s headers except NONE. */
static void gen6_jmp_ext(struct bf_emit *e, int reg, uint32_t yes)
{
	static const int ext[] = {
		NEXTHDR_HOP, NEXTHDR_ROUTING, NEXTHDR_FRAGMENT, NEXTHDR_AUTH,
		NEXTHDR_DEST,
	};
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, reg, ext[i], 0), yes);
}

/*
 * Read `n` bytes of the header at r9 into SCRATCH; the walk error when
 * they are not inside the packet (skb_header_pointer() failing).
 */
static void gen6_walk_read(struct bf_gen *g, int n, uint32_t err)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, n));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_LEN));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R1, R2, 0), err);
	bf_emit(e, BPF_MOV64_REG(R2, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, ETH_HLEN_));
	bf_gen_load_bytes(g, R2, 0, -1, n, SCRATCH);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), err);
}

/*
 * -m frag / -m hbh / -m dst (gen.h BF_PKT6_XMATCH). The walk records,
 * for each of the three headers, what ipv6_find_hdr(skb, &ptr, target,
 * NULL, NULL) answers, in pkt->l4 after the IPv6 header's first 8 bytes
 * (the addresses there were copied out by gen6_fill; the flow label word
 * stays for bf_gen6_fib_params): a status byte (XH_ST_*) at XH_STATUS +
 * kind and the header's offset from the IPv6 header (u16) at XH_OFF +
 * 2 * kind. bf_gen6_xh() then evaluates every slot.
 */
enum { XH_HOP, XH_DEST, XH_FRAG, XH_KINDS };
#define XH_ST_NONE	0	/* -ENOENT */
#define XH_ST_FOUND	1
#define XH_ST_BAD	2	/* -EBADMSG, or past the walk's bound */
#define XH_OFF		(BF_PKT_L4 + 8)
#define XH_STATUS	(BF_PKT_L4 + 16)
#define XH_HDRLEN	(BF_PKT_L4 + 20)	/* u16: the options header's length */

/* The walk found header `kind` at r9: record it unless one was before. */
static void gen6_xh_record(struct bf_gen *g, int kind, uint32_t out)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, XH_STATUS + kind));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, XH_ST_NONE, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, XH_STATUS + kind, XH_ST_FOUND));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R9, XH_OFF + 2 * kind));
	bf_emit_jmp(e, BPF_JMP_A(0), out);
}

/* -EBADMSG (or the bound) in the walk: every header not found yet is bad */
static void gen6_xh_bad(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	int k;

	for (k = 0; k < XH_KINDS; k++) {
		uint32_t next = bf_label_new(e);

		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, XH_STATUS + k));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, XH_ST_NONE, 0), next);
		bf_emit(e, BPF_ST_MEM(BPF_B, R7, XH_STATUS + k, XH_ST_BAD));
		bf_label_bind(e, next);
	}
}

/*
 * -m rt: the first routing header (r9 = its offset, its first 4 bytes in
 * SCRATCH) is what ipv6_find_hdr(skb, &ptr, NEXTHDR_ROUTING, NULL, NULL)
 * finds: record it in BF_PKT6_RT* (gen.h) unless one was seen before.
 */
static void gen6_walk_rt(struct bf_gen *g, uint32_t bad)
{
	struct bf_emit *e = &g->e;
	uint32_t out = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RT));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT6_RTLEN));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, SCRATCH + 2));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R2, BF_PKT6_RTTYPE));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, SCRATCH + 3));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R2, BF_PKT6_RTSEGS));
	/* rt_mt6(): skb->len - ptr < ipv6_optlen(): hotdrop (6.18) */
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT6_RT, BF_RT6_SHORT));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 3));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_LEN));
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R2, R9));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JLT, R2, R1, 0), out);
	/* the whole header is there: its reserved word (--rt-0-res) */
	gen6_walk_read(g, 8, bad);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT6_RT, BF_RT6_FOUND));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, SCRATCH + 4));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 0, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT6_RT, BF_RT6_FOUND | BF_RT6_RESNZ));
	bf_label_bind(e, out);
}

/*
 * One header of the walk: r8 = its type, r9 = its offset from the IPv6
 * header. Goes to `done` at the upper layer (or NONE), to `bad` when a
 * header is not inside the packet (-EBADMSG), to `err` for a non-first
 * fragment followed by an extension header (-ENOENT), to `frag_done`
 * for a non-first fragment.
 */
static void gen6_walk_step(struct bf_gen *g, uint32_t done, uint32_t err,
			   uint32_t bad, uint32_t frag_done)
{
	struct bf_emit *e = &g->e;
	uint32_t opt = bf_label_new(e), auth = bf_label_new(e);
	uint32_t frag = bf_label_new(e), adv = bf_label_new(e);
	uint32_t first = bf_label_new(e), rt = bf_label_new(e);
	uint32_t optlen = bf_label_new(e);

	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, NEXTHDR_FRAGMENT, 0), frag);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, NEXTHDR_AUTH, 0), auth);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, NEXTHDR_HOP, 0), opt);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, NEXTHDR_ROUTING, 0), rt);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, NEXTHDR_DEST, 0), opt);
	bf_emit_jmp(e, BPF_JMP_A(0), done);	/* upper layer or NONE */

	/* routing: ipv6_find_hdr() reads struct ipv6_rt_hdr (4 bytes) */
	bf_label_bind(e, rt);
	gen6_walk_read(g, 4, bad);
	if (g->uses_rt)
		gen6_walk_rt(g, bad);
	bf_emit_jmp(e, BPF_JMP_A(0), optlen);

	/* hop-by-hop, routing, destination: (hdrlen + 1) * 8 */
	bf_label_bind(e, opt);
	gen6_walk_read(g, 2, bad);
	if (g->n_xh) {
		uint32_t dest = bf_label_new(e);

		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R8, NEXTHDR_HOP, 0), dest);
		gen6_xh_record(g, XH_HOP, optlen);
		bf_label_bind(e, dest);
		gen6_xh_record(g, XH_DEST, optlen);
	}
	bf_label_bind(e, optlen);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 3));
	bf_emit_jmp(e, BPF_JMP_A(0), adv);

	/* authentication header: (hdrlen + 2) * 4 */
	bf_label_bind(e, auth);
	gen6_walk_read(g, 2, bad);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 2));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 2));
	bf_emit_jmp(e, BPF_JMP_A(0), adv);

	/* fragment: 8 bytes when the offset is 0 */
	bf_label_bind(e, frag);
	gen6_walk_read(g, 4, bad);
	if (g->n_xh) {
		uint32_t rec = bf_label_new(e);

		gen6_xh_record(g, XH_FRAG, rec);
		bf_label_bind(e, rec);
	}
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, SCRATCH + 2));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xfff8));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), first);
	/*
	 * Non-first fragment: its next header is the answer, with the
	 * fragment offset, unless it is another extension header (-ENOENT).
	 * The transport offset stays 0.
	 */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, SCRATCH));
	gen6_jmp_ext(e, R2, err);
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, BF_PKT_FRAGOFF));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R2, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_A(0), frag_done);
	bf_label_bind(e, first);
	bf_emit(e, BPF_MOV64_IMM(R1, 8));

	bf_label_bind(e, adv);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R8, R7, SCRATCH));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R9, R1));
}

/*
 * ipv6_find_hdr(skb, &thoff, -1, &fragoff, NULL), once per packet, for
 * at most BF_V6_MAX_EXTHDRS extension headers.
 */
static void gen6_walk(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), err = bf_label_new(e);
	uint32_t frag_done = bf_label_new(e), end = bf_label_new(e);
	uint32_t past = bf_label_new(e);
	uint32_t bad = g->uses_rt || g->n_xh ? bf_label_new(e) : err;
	int i;

	bf_emit_mark(e, "IPv6 extension headers (ipv6_find_hdr, at most %d)",
		     BF_V6_MAX_EXTHDRS);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R8, R7, BF_PKT_L4 + 6));
	bf_emit(e, BPF_MOV64_IMM(R9, IP6_HLEN));
	if (g->n_xh) {	/* the records (XH_OFF, XH_STATUS) start empty */
		bf_emit(e, BPF_ST_MEM(BPF_DW, R7, XH_OFF, 0));
		bf_emit(e, BPF_ST_MEM(BPF_DW, R7, XH_STATUS, 0));
	}
	for (i = 0; i < BF_V6_MAX_EXTHDRS; i++)
		gen6_walk_step(g, done, err, bad, frag_done);
	/* past the bound: one more extension header is a walk error */
	gen6_jmp_ext(e, R8, bad);

	/* r8 = upper-layer protocol (or NONE), r9 = transport offset */
	bf_label_bind(e, done);
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R8, BF_PKT_PROTO));
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, ETH_HLEN_));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4OFF));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_LEN));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R9, R1, 0), past);
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R1, R9));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4LEN));
	bf_label_bind(e, past);
	bf_emit_jmp(e, BPF_JMP_A(0), end);

	bf_label_bind(e, frag_done);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L4OFF, ETH_HLEN_));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_LEN));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_A(0), end);

	/*
	 * -EBADMSG (or past the bound) before a routing header was found:
	 * -m rt hotdrops too. A non-first fragment (-ENOENT) is no match.
	 */
	if (g->uses_rt || g->n_xh)
		bf_label_bind(e, bad);
	if (g->n_xh)
		gen6_xh_bad(g);
	if (g->uses_rt) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RT));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), err);
		bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT6_RT, BF_RT6_ERR));
	}
	/* proto, offsets and fragment offset stay 0 */
	bf_label_bind(e, err);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_WALKERR, 1));
	bf_label_bind(e, end);
}

/* Are two -m frag/hbh/dst predicates the same test? */
static bool gen6_xh_same(const struct bf_pred *a, const struct bf_pred *b)
{
	return a->field == b->field && a->value == b->value &&
	       a->mask == b->mask && a->lo == b->lo && a->hi == b->hi &&
	       a->flags == b->flags && !memcmp(a->a6, b->a6, sizeof(a->a6)) &&
	       !memcmp(a->b6, b->b6, sizeof(a->b6));
}

int bf_gen6_xh_slot(const struct bf_gen *g, const struct bf_pred *p)
{
	uint32_t i;

	for (i = 0; i < g->n_xh; i++)
		if (gen6_xh_same(g->xh[i], p))
			return (int)i;
	return -1;
}

void bf_gen6_xh_add(struct bf_gen *g, const struct bf_pred *p)
{
	if (bf_gen6_xh_slot(g, p) >= 0)
		return;
	if (g->n_xh == BF_XH_MAX) {
		g->xh_overflow = true;
		return;
	}
	g->xh[g->n_xh++] = p;
}

static int gen6_xh_kind(const struct bf_pred *p)
{
	if (p->field == BF_F_FRAG6)
		return XH_FRAG;
	return p->value == NEXTHDR_HOP ? XH_HOP : XH_DEST;
}

/* pkt->byte |= bit */
static void gen6_xh_set(struct bf_emit *e, int byte, uint32_t bit)
{
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, byte));
	bf_emit(e, BPF_ALU32_IMM(BPF_OR, R1, (int32_t)bit));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, byte));
}

/* Slots of `kind`'s predicates, as a bit mask. */
static uint32_t gen6_xh_mask(const struct bf_gen *g, int kind)
{
	uint32_t i, mask = 0;

	for (i = 0; i < g->n_xh; i++)
		if (gen6_xh_kind(g->xh[i]) == kind)
			mask |= 1U << i;
	return mask;
}

/* Go to `no` unless lo <= r1 <= hi (u32), XOR inv. */
static void gen6_xh_range(struct bf_emit *e, uint32_t lo, uint32_t hi,
			  bool inv, uint32_t no)
{
	uint32_t out = bf_label_new(e);

	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, (int32_t)lo, 0), inv ? out : no);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JGT, R1, (int32_t)hi, 0), inv ? out : no);
	if (inv)
		bf_emit_jmp(e, BPF_JMP_A(0), no);
	bf_label_bind(e, out);
}

/*
 * frag_mt6() for slot i on the fragment header's 8 bytes in SCRATCH
 * (ir.h BF_F_FRAG6).
 */
static void gen6_xh_frag(struct bf_gen *g, uint32_t i)
{
	const struct bf_pred *p = g->xh[i];
	struct bf_emit *e = &g->e;
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff;
	uint32_t no = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, SCRATCH + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
	gen6_xh_range(e, p->lo, p->hi, inv & 0x01, no);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, SCRATCH + 2));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R2, 16));
	if (f & 0x04) {		/* IP6T_FRAG_RES */
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), no);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R2, 0x6, 0), no);
	}
	if (f & 0x08)		/* IP6T_FRAG_FST */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R2, 0xfff8, 0), no);
	if (f & 0x10) {		/* IP6T_FRAG_MF */
		bf_emit(e, BPF_MOV64_REG(R1, R2));
		bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 1));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), no);
	}
	if (f & 0x20)		/* IP6T_FRAG_NMF */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R2, 1, 0), no);
	gen6_xh_set(e, BF_PKT6_XMATCH, 1U << i);
	bf_label_bind(e, no);
}

/* Read one byte at r9 + add into SCRATCH, in r1; `no` if it is not there. */
static void gen6_xh_byte(struct bf_gen *g, int add, uint32_t no)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_MOV64_REG(R2, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, ETH_HLEN_ + add));
	bf_gen_load_bytes(g, R2, 0, -1, 1, SCRATCH);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), no);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH));
}

/*
 * hbh_mt6() for slot i (ir.h BF_F_OPTS6): the header at XH_OFF, its
 * length at XH_HDRLEN, all inside the packet. r9 = ptr, r8 = what is left
 * of the header during the option walk, which never hotdrops on 6.18.
 */
static void gen6_xh_opts(struct bf_gen *g, uint32_t i, int kind)
{
	const struct bf_pred *p = g->xh[i];
	struct bf_emit *e = &g->e;
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff, k;
	uint32_t no = bf_label_new(e);

	if (f & 0x02) {		/* IP6T_OPTS_OPTS: the strict option walk */
		bf_emit(e, BPF_LDX_MEM(BPF_H, R9, R7, XH_OFF + 2 * kind));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, 2));
		bf_emit(e, BPF_LDX_MEM(BPF_H, R8, R7, XH_HDRLEN));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R8, -2));
		for (k = 0; k < p->hi; k++) {
			uint16_t o;

			memcpy(&o, k < 8 ? p->a6 + 2 * k : p->b6 + 2 * (k - 8), 2);
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, 0, 0), no);
			gen6_xh_byte(g, 0, no);
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, o >> 8, 0), no);
			if (o >> 8) {
				bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R8, 2, 0), no);
				gen6_xh_byte(g, 1, no);
				if ((o & 0xff) != 0xff)
					bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, o & 0xff, 0), no);
				bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 2));
			} else {
				bf_emit(e, BPF_MOV64_IMM(R1, 1));	/* Pad1 */
			}
			if (k + 1 == p->hi)	/* 6.18: the last one is not checked */
				break;
			bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R1, R8, 0), no);
			bf_emit(e, BPF_ALU64_REG(BPF_ADD, R9, R1));
			bf_emit(e, BPF_ALU64_REG(BPF_SUB, R8, R1));
		}
	}
	if (f & 0x01) {		/* IP6T_OPTS_LEN, in bytes */
		bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, XH_HDRLEN));
		gen6_xh_range(e, p->mask, p->mask, inv & 0x01, no);
	}
	gen6_xh_set(e, BF_PKT6_XMATCH, 1U << i);
	bf_label_bind(e, no);
}

/*
 * The header of `kind` as its match reads it: the fragment header's 8
 * bytes into SCRATCH, an options header's length into XH_HDRLEN; `bad`
 * when it is cut (frag_mt6's and hbh_mt6's hotdrops).
 */
static void gen6_xh_header(struct bf_gen *g, int kind, uint32_t bad)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_H, R9, R7, XH_OFF + 2 * kind));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_LEN));
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R2, R9));	/* skb->len - ptr */
	if (kind == XH_FRAG) {
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 8, 0), bad);
		bf_emit(e, BPF_MOV64_REG(R2, R9));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, ETH_HLEN_));
		bf_gen_load_bytes(g, R2, 0, -1, 8, SCRATCH);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), bad);
		return;
	}
	bf_emit(e, BPF_MOV64_REG(R8, R2));
	bf_emit(e, BPF_MOV64_REG(R2, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, ETH_HLEN_));
	bf_gen_load_bytes(g, R2, 0, -1, 2, SCRATCH);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), bad);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, SCRATCH + 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 3));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JLT, R8, R1, 0), bad);
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, XH_HDRLEN));
}

/* Every slot of `kind` (gen.h BF_PKT6_XMATCH, BF_PKT6_XDROP). */
static void gen6_xh_kind_eval(struct bf_gen *g, int kind)
{
	struct bf_emit *e = &g->e;
	uint32_t mask = gen6_xh_mask(g, kind), i;
	uint32_t bad = bf_label_new(e), done = bf_label_new(e);
	uint32_t found = bf_label_new(e);

	if (!mask)
		return;
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, XH_STATUS + kind));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, XH_ST_NONE, 0), done);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, XH_ST_FOUND, 0), found);
	bf_emit_jmp(e, BPF_JMP_A(0), bad);
	bf_label_bind(e, found);
	gen6_xh_header(g, kind, bad);
	for (i = 0; i < g->n_xh; i++) {
		if (!(mask & (1U << i)))
			continue;
		if (kind == XH_FRAG)
			gen6_xh_frag(g, i);
		else
			gen6_xh_opts(g, i, kind);
	}
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, bad);
	gen6_xh_set(e, BF_PKT6_XDROP, mask);
	bf_label_bind(e, done);
}

static void gen6_xh(struct bf_gen *g)
{
	int kind;

	bf_emit_mark(&g->e, "-m frag/hbh/dst: %u predicates (BF_PKT6_XMATCH)",
		     g->n_xh);
	for (kind = 0; kind < XH_KINDS; kind++)
		gen6_xh_kind_eval(g, kind);
}

void bf_gen6_parse(struct bf_gen *g, const struct gen_main *m)
{
	bf_emit_mark(&g->e, "parse Ethernet + IPv6 (invalid: pass unfiltered)");
	bf_gen_parse_l2(g, m, ETH_P_IPV6);
	gen6_parse_hdr(g, m);
	if (gen6_ingress(g)) {
		gen6_addr_checks(g, m);
		gen6_hop_check(g, m);
	}
	gen6_fill(g);
	gen6_walk(g);
	if (g->n_xh)
		gen6_xh(g);
}

/* struct bpf_fib_lookup for AF_INET6 in pkt->l4 (the header is gone after) */
void bf_gen6_fib_params(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	int iif_off = gen6_is_xdp(g) ? XDP_MD_INGRESS_IFINDEX : SKB_IFINDEX;
	int p = BF_PKT_L4, i;

	/* flowinfo: the first word & IPV6_FLOWINFO_MASK, network order */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, p));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R3, (int32_t)0xffffff0f));
	for (i = 0; i < BF_PKT_L4_MAX; i += 8)
		bf_emit(e, BPF_ST_MEM(BPF_DW, R7, p + i, 0));
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, p + 0, 10));		/* AF_INET6 */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, p + 1));		/* l4_protocol */
	/* tot_len 0: no MTU check (see the IPv4 parameters in gen.c) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, iif_off));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, p + 8));		/* ifindex */
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_IIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R3, p + 12));	/* flowinfo */
	for (i = 0; i < 32; i += 8) {				/* src, dst */
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_SADDR6 + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, p + 16 + i));
	}
}

/*
 * ip6_forward(): hop limit <= 1 is dropped (ICMPv6 time exceeded) before
 * the FORWARD hook, which then sees the hop limit minus one.
 */
void bf_gen6_forward_hl(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_TTL));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R1, 1, 0), m->pass);
	bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R1, 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_TTL));
}
