// SPDX-License-Identifier: GPL-2.0
/*
 * bf_gen(): bpfilter_main (parse, validate, decide the chain, call it, map
 * the answer to the hook's return code), then the chains (gen_chain.c).
 * Register and stack contract: gen.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/pkt_cls.h>
#include <sys/socket.h>

#include "gen.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R5 BPF_REG_5
#define R6 BPF_REG_6
#define R7 BPF_REG_7
#define R8 BPF_REG_8
#define R9 BPF_REG_9

#define ETH_HLEN_	14

/* UAPI values (linux/bpf.h enum): kept as numbers for older headers */
#define FIB_RET_SUCCESS		0
#define FIB_RET_NOT_FWDED	4
#define FIB_RET_FWD_DISABLED	5
#define FIB_RET_NO_NEIGH	7
#define FIB_RET_FRAG_NEEDED	8

/* Offsets in struct xdp_md / struct __sk_buff (UAPI, stable) */
#define XDP_MD_INGRESS_IFINDEX	12
#define SKB_LEN			0
#define SKB_PKT_TYPE		4
#define SKB_MARK		8
#define SKB_VLAN_PRESENT	20
#define SKB_INGRESS_IFINDEX	36
#define SKB_IFINDEX		40
#define PACKET_OTHERHOST_	3
#define PACKET_LOOPBACK_	5
#define PACKET_BROADCAST_	1
#define PACKET_MULTICAST_	2

static bool gen_is_xdp(const struct bf_gen *g)
{
	return g->opts.hook == BF_HOOK_XDP;
}

/* r0 = load_bytes(ctx, off, pkt + dst_off, len in `len_reg` or imm) */
void bf_gen_load_bytes(struct bf_gen *g, int off_reg, int32_t off,
		       int len_reg, int32_t len, int dst_off)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_MOV64_REG(R1, R6));
	if (off_reg < 0)
		bf_emit(e, BPF_MOV64_IMM(R2, off));
	else if (off_reg != R2)	/* r2 may hold the offset already */
		bf_emit(e, BPF_MOV64_REG(R2, off_reg));
	bf_emit(e, BPF_MOV64_REG(R3, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, dst_off));
	if (len_reg >= 0)
		bf_emit(e, BPF_MOV64_REG(R4, len_reg));
	else
		bf_emit(e, BPF_MOV64_IMM(R4, len));
	bf_emit(e, BPF_EMIT_CALL(gen_is_xdp(g) ? BPF_FUNC_xdp_load_bytes :
				 BPF_FUNC_skb_load_bytes));
}

static void gen_load_bytes(struct bf_gen *g, int off_reg, int32_t off,
			   int len_reg, int32_t len)
{
	bf_gen_load_bytes(g, off_reg, off, len_reg, len, BF_PKT_L4);
}

static void gen_zero(struct bf_emit *e, int from, int to)
{
	int off;

	for (off = from; off < to; off += 8)
		bf_emit(e, BPF_ST_MEM(BPF_DW, R7, off, 0));
}

/*
 * XDP has no skb->pkt_type. Test mode (BPF_PROG_TEST_RUN) runs tc programs
 * on the loopback device, whose broadcast address is all zeroes, so
 * skb->pkt_type would call ff:ff:ff:ff:ff:ff multicast: there the frame's
 * destination decides too, as on an Ethernet device.
 */
bool bf_gen_pkttype_from_l2(const struct bf_gen *g)
{
	return gen_is_xdp(g) || g->opts.force_hook >= 0;
}

/*
 * pkt->pkttype from the Ethernet destination in pkt->l4, as
 * eth_type_trans() sets skb->pkt_type: group bit clear is host (0, as
 * zeroed), all ones broadcast, other group addresses multicast.
 */
void bf_gen_pkttype_l2(struct bf_emit *e)
{
	uint32_t done = bf_label_new(e), mcast = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, 1));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 0, 0), done);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, -1, 0), mcast);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 4));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, 0xffff, 0), mcast);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_PKTTYPE, PACKET_BROADCAST_));
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, mcast);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_PKTTYPE, PACKET_MULTICAST_));
	bf_label_bind(e, done);
}

/*
 * pkt->pkttype at tc: skb->pkt_type, PACKET_LOOPBACK being multicast for
 * a multicast daddr and broadcast otherwise (pkttype_mt()). The IPv4
 * header is in pkt->l4. At egress, locally generated packets carry
 * PACKET_HOST as they did at OUTPUT.
 */
static void gen_pkttype_tc(struct bf_emit *e)
{
	uint32_t done = bf_label_new(e), store = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_PKT_TYPE));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, PACKET_LOOPBACK_, 0), store);
	bf_emit(e, BPF_MOV64_IMM(R1, PACKET_BROADCAST_));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, BF_PKT_L4 + 16));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R2, 0xf0));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R2, 0xe0, 0), store);
	bf_emit(e, BPF_MOV64_IMM(R1, PACKET_MULTICAST_));
	bf_label_bind(e, store);
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_PKTTYPE));
	bf_label_bind(e, done);
}

/* Untagged Ethernet carrying `ethertype`, to this host (tc knows pkt_type). */
void bf_gen_parse_l2(struct bf_gen *g, const struct gen_main *m,
		     uint16_t ethertype)
{
	struct bf_emit *e = &g->e;

	if (!gen_is_xdp(g)) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_VLAN_PRESENT));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), m->pass);
	}
	if (g->opts.hook == BF_HOOK_TC_INGRESS) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_PKT_TYPE));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, PACKET_OTHERHOST_, 0),
			    m->pass);
	}
	gen_load_bytes(g, -1, 0, -1, ETH_HLEN_);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), m->pass);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 12));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, ethertype, 0), m->pass);
	if (g->uses_smac) {
		int i;

		/* 2-byte steps: stack accesses must be aligned */
		for (i = 0; i < 6; i += 2) {
			bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 6 + i));
			bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, BF_PKT_SMAC + i));
		}
	}
	if (g->uses_pkttype && bf_gen_pkttype_from_l2(g))
		bf_gen_pkttype_l2(e);
}

/* ip_rcv's header checks; r8 = ihl * 4, r9 = tot_len, header in pkt->l4 */
static void gen_parse_ip_hdr(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t full = bf_label_new(e);

	gen_load_bytes(g, -1, ETH_HLEN_, -1, 20);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), m->pass);
	/* version 4, ihl >= 5; r8 = ihl * 4 */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R2, 4));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 4, 0), m->pass);
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xf));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 5, 0), m->pass);
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 2));
	bf_emit(e, BPF_MOV64_REG(R8, R1));
	/* ihl * 4 <= tot_len <= bytes after the L2 header; r9 = tot_len */
	bf_emit(e, BPF_LDX_MEM(BPF_H, R9, R7, BF_PKT_L4 + 2));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R9, 16));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JLT, R9, R8, 0), m->pass);
	if (gen_is_xdp(g)) {
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_get_buff_len));
	} else {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R0, R6, SKB_LEN));
	}
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R0, -ETH_HLEN_));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JSGT, R9, R0, 0), m->pass);
	/* the whole header, options included */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, 20, 0), full);
	gen_load_bytes(g, -1, ETH_HLEN_, R8, 0);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), m->pass);
	bf_label_bind(e, full);
}

/* Header checksum: the folded one's complement sum must be 0xffff. */
static void gen_ip_csum(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, BF_PKT_L4));
	bf_emit(e, BPF_MOV64_REG(R4, R8));
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	bf_emit(e, BPF_MOV32_REG(R0, R0));
	bf_emit(e, BPF_MOV64_REG(R1, R0));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xffff));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R0, 16));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R0, R1));
	bf_emit(e, BPF_MOV64_REG(R1, R0));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xffff));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R0, 16));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R0, R1));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0xffff, 0), m->pass);
}

/* struct bf_pkt's L3 fields from the header in pkt->l4 */
static void gen_fill_pkt(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4 + 12));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_SADDR));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4 + 16));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_DADDR));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 9));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_PROTO));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_TOS));
	if (g->uses_ttl) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 8));
		bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_TTL));
	}
	if (g->uses_pkttype && !bf_gen_pkttype_from_l2(g))
		gen_pkttype_tc(e);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 6));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0x1fff));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, BF_PKT_FRAGOFF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R9, BF_PKT_LEN));
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L3OFF, ETH_HLEN_));
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, ETH_HLEN_));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4OFF));
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R1, R8));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4LEN));
}

/* Ethernet, IPv4 validation as ip_rcv does it; fills the L3 fields. */
static void gen_parse_ip(struct bf_gen *g, const struct gen_main *m)
{
	bf_emit_mark(&g->e, "parse Ethernet + IPv4 (invalid: pass unfiltered)");
	bf_gen_parse_l2(g, m, ETH_P_IP);
	gen_parse_ip_hdr(g, m);
	gen_ip_csum(g, m);
	gen_fill_pkt(g);
}

bool bf_gen_has_chain(const struct bf_gen *g, int hook)
{
	return g->ir->hook_chain[hook] >= 0 &&
	       (uint32_t)g->ir->hook_chain[hook] < g->ir->n_chains;
}

/*
 * ip_forward() decrements the TTL before the FORWARD hook (after dropping
 * a packet whose TTL would expire), so -m ttl in FORWARD sees it minus one.
 */
static void gen_forward_ttl(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	if (!g->uses_ttl)
		return;
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_TTL));
	bf_emit(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 2));
	bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R1, 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, BF_PKT_TTL));
}

/* struct bpf_fib_lookup for IPv4 in pkt->l4 */
static void gen_fib_params4(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	int iif_off = gen_is_xdp(g) ? XDP_MD_INGRESS_IFINDEX : SKB_IFINDEX;
	int p = BF_PKT_L4;

	gen_zero(e, p, p + BF_PKT_L4_MAX);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, p + 0, 2));		/* AF_INET */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, p + 1));		/* l4_protocol */
	/*
	 * tot_len stays 0: no MTU check. With one, a packet larger than the
	 * egress MTU gets FRAG_NEEDED without the egress device, yet the
	 * kernel forwards it through FORWARD when DF is clear (and fragments
	 * it); passing it unfiltered would let big packets bypass FORWARD.
	 * tc's lookup still checks skb length after a successful lookup and
	 * answers FRAG_NEEDED with params.ifindex set: FORWARD as well.
	 */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, iif_off));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, p + 8));		/* ifindex */
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_IIF));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_TOS));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, p + 12));	/* tos */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_SADDR));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, p + 16));	/* ipv4_src */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, p + 32));	/* ipv4_dst */
}

/*
 * ip_route_input_noref() sends a multicast (224/4) or limited broadcast
 * (255.255.255.255) destination to local delivery before any FIB lookup
 * (or drops it before any hook), never to ip_forward(). bpf_fib_lookup()
 * has no such test: with a default route it answers SUCCESS and the
 * packet would run FORWARD (ufw's DHCP offers, mDNS and SSDP). So they
 * run INPUT (multicast of a group the host did not join: the kernel drops
 * it in routing, so only INPUT's counters can differ). Subnet broadcasts
 * have a broadcast route in table local: NOT_FWDED already.
 */
static void gen_decide_mc_bcast4(struct bf_emit *e, uint32_t input)
{
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, -1, 0), input);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_DADDR));	/* first octet */
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xf0));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xe0, 0), input);
}

/* INPUT or FORWARD by bpf_fib_lookup, as ip_route_input decides. */
static void gen_decide_fib(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t input = bf_label_new(e), fwd = bf_label_new(e);
	int p = BF_PKT_L4;

	bf_emit_mark(e, "chain: bpf_fib_lookup (NOT_FWDED/FWD_DISABLED: INPUT, SUCCESS/NO_NEIGH/FRAG_NEEDED: FORWARD)");
	if (!bf_gen_has_chain(g, NF_INET_LOCAL_IN) &&
	    !bf_gen_has_chain(g, NF_INET_FORWARD)) {
		bf_emit_jmp(e, BPF_JMP_A(0), m->pass);
		return;
	}
	if (g->v6) {
		bf_gen6_fib_params(g);
	} else {
		gen_fib_params4(g);
		gen_decide_mc_bcast4(e, input);
	}
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, p));
	bf_emit(e, BPF_MOV64_IMM(R3, 64));	/* sizeof(struct bpf_fib_lookup) */
	bf_emit(e, BPF_MOV64_IMM(R4, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_fib_lookup));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, FIB_RET_NOT_FWDED, 0), input);
	/*
	 * Forwarding disabled on the ingress device: bpf_fib_lookup checks
	 * that before it looks at the destination, so local and non-local
	 * cannot be told apart. Local packets go to INPUT; non-local ones
	 * the kernel drops in ip_route_input (no hook sees them), so running
	 * INPUT on them changes no verdict, only INPUT's counters.
	 */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, FIB_RET_FWD_DISABLED, 0), input);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, FIB_RET_SUCCESS, 0), fwd);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, FIB_RET_NO_NEIGH, 0), fwd);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, FIB_RET_FRAG_NEEDED, 0), fwd);
	bf_emit_jmp(e, BPF_JMP_A(0), m->pass);

	bf_label_bind(e, input);
	if (!bf_gen_has_chain(g, NF_INET_LOCAL_IN)) {
		bf_emit_jmp(e, BPF_JMP_A(0), m->pass);
	} else {
		bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_HOOK, NF_INET_LOCAL_IN));
		bf_emit_jmp(e, BPF_JMP_A(0), m->chain_sel);
	}
	bf_label_bind(e, fwd);
	if (!bf_gen_has_chain(g, NF_INET_FORWARD)) {
		bf_emit_jmp(e, BPF_JMP_A(0), m->pass);
		return;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, p + 8));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_OIF));
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_HOOK, NF_INET_FORWARD));
	if (g->v6)
		bf_gen6_forward_hl(g, m);
	else
		gen_forward_ttl(g);
	bf_emit_jmp(e, BPF_JMP_A(0), m->chain_sel);
}

static void gen_decide_egress(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;

	bf_emit_mark(e, "chain: locally generated (ingress_ifindex == 0): OUTPUT");
	if (!bf_gen_has_chain(g, NF_INET_LOCAL_OUT)) {
		bf_emit_jmp(e, BPF_JMP_A(0), m->pass);
		return;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_INGRESS_IFINDEX));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), m->pass);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_IFINDEX));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_OIF));
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_HOOK, NF_INET_LOCAL_OUT));
	bf_emit_jmp(e, BPF_JMP_A(0), m->chain_sel);
}

static void gen_decide_forced(struct bf_gen *g, const struct gen_main *m)
{
	struct bf_emit *e = &g->e;
	uint32_t none = bf_label_new(e);

	bf_emit_mark(e, "chain: forced to hook %d, iif/oif from bpfilter_tst",
		     g->opts.force_hook);
	if (!bf_gen_has_chain(g, g->opts.force_hook)) {
		bf_emit_jmp(e, BPF_JMP_A(0), m->pass);
		return;
	}
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, 0));
	bf_emit_ld_map(e, R1, BF_MAP_TEST);
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, BF_PKT_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), none);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, 0));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_IIF));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, 4));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_OIF));
	bf_label_bind(e, none);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_HOOK, g->opts.force_hook));
	if (g->opts.force_hook == NF_INET_FORWARD && g->v6)
		bf_gen6_forward_hl(g, m);
	else if (g->opts.force_hook == NF_INET_FORWARD)
		gen_forward_ttl(g);
	bf_emit_jmp(e, BPF_JMP_A(0), m->chain_sel);
}

/*
 * -m addrtype: the type of the address at pkt + addr_off as
 * __inet_dev_addr_type() finds it, into pkt + type_off: RTN_* | BF_ADT_*
 * (is the route's device iif, oif, or is no device compared). 0.0.0.0/8
 * and 255.255.255.255 are BROADCAST, 224.0.0.0/4 MULTICAST, else the
 * longest prefix of BF_MAP_ADDRTYPE, else UNICAST. pkt->l4 is the lookup
 * key's scratch (before gen_copy_l4 fills it); iif/oif are known here.
 */
static void gen_addrtype_one(struct bf_gen *g, int addr_off, int type_off)
{
	struct bf_emit *e = &g->e;
	uint32_t bcast = bf_label_new(e), done = bf_label_new(e);
	uint32_t found = bf_label_new(e), store = bf_label_new(e);
	uint32_t not_in = bf_label_new(e), not_out = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, addr_off));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, -1, 0), bcast);
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU32_IMM(BPF_RSH, R2, 24));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R2, 0, 0), bcast);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, type_off, BF_ADT_NODEV | 5));	/* MULTICAST */
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R2, 0xf0));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R2, 0xe0, 0), done);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, type_off, BF_ADT_NODEV | 1));	/* UNICAST */
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L4, 32));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, addr_off));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_L4 + 4));
	bf_emit_ld_map(e, R1, BF_MAP_ADDRTYPE);
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, BF_PKT_L4));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), found);
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, found);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, 0));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, BF_ADT_TYPE));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R0, 4));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R2, 0, 0), not_in);
	bf_emit(e, BPF_ALU32_IMM(BPF_OR, R1, BF_ADT_NODEV));
	bf_emit_jmp(e, BPF_JMP_A(0), store);
	bf_label_bind(e, not_in);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_IIF));
	bf_emit_jmp(e, BPF_JMP32_REG(BPF_JNE, R2, R3, 0), not_out);
	bf_emit(e, BPF_ALU32_IMM(BPF_OR, R1, BF_ADT_IIF));
	bf_label_bind(e, not_out);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_OIF));
	bf_emit_jmp(e, BPF_JMP32_REG(BPF_JNE, R2, R3, 0), store);
	bf_emit(e, BPF_ALU32_IMM(BPF_OR, R1, BF_ADT_OIF));
	bf_label_bind(e, store);
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, type_off));
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, bcast);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, type_off, BF_ADT_NODEV | 3));	/* BROADCAST */
	bf_label_bind(e, done);
}

static void gen_addrtype_fill(struct bf_gen *g)
{
	bf_emit_mark(&g->e, "addrtype: types of saddr and daddr (BF_MAP_ADDRTYPE)");
	gen_addrtype_one(g, BF_PKT_SADDR, BF_PKT_STYPE);
	gen_addrtype_one(g, BF_PKT_DADDR, BF_PKT_DTYPE);
}

/*
 * ip6tables -m addrtype LOCAL/ANYCAST/UNREACHABLE: match_lookup_rt6()'s
 * bits for the address at pkt + addr_off into pkt + type_off: the longest
 * prefix of BF_MAP_ADDRTYPE6 in table local, then main (a throw route or
 * no route goes on), else UNREACHABLE. pkt->l4 is the key's scratch.
 */
static void gen6_addrtype_one(struct bf_gen *g, int addr_off, int type_off)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), unreach = bf_label_new(e);
	int tbl;

	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L4, 32 + 128));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, addr_off));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, BF_PKT_L4 + 8));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, addr_off + 8));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, BF_PKT_L4 + 16));
	for (tbl = 0; tbl < 2; tbl++) {
		uint32_t next = tbl ? unreach : bf_label_new(e);

		bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_L4 + 4, tbl));
		bf_emit_ld_map(e, R1, BF_MAP_ADDRTYPE6);
		bf_emit(e, BPF_MOV64_REG(R2, R7));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, BF_PKT_L4));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), next);
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, 0));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JSET, R1, BF_ADT6_THROW, 0), next);
		bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, type_off));
		bf_emit_jmp(e, BPF_JMP_A(0), done);
		if (!tbl)
			bf_label_bind(e, next);
	}
	bf_label_bind(e, unreach);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, type_off, 0x80));	/* UNREACHABLE */
	bf_label_bind(e, done);
}

static void gen6_addrtype_fill(struct bf_gen *g)
{
	bf_emit_mark(&g->e, "addrtype6: route types of saddr and daddr (BF_MAP_ADDRTYPE6)");
	gen6_addrtype_one(g, BF_PKT_SADDR6, BF_PKT_STYPE);
	gen6_addrtype_one(g, BF_PKT_DADDR6, BF_PKT_DTYPE);
}

/*
 * The skb mark does not exist at XDP: a table whose rules at this hook
 * use -m mark is refused, naming the first such rule (-EINVAL, as the
 * kernel refuses a match at a hook it cannot run at).
 */
static int gen_check_xdp_mark(struct bf_gen *g)
{
	const struct bf_ir *ir = g->ir;
	uint32_t c, r, k;

	if (!gen_is_xdp(g) || !g->uses_mark)
		return 0;
	for (c = 0; c < ir->n_chains; c++) {
		if (!g->chain_used[c])
			continue;
		for (r = 0; r < ir->chains[c].n_rules; r++) {
			const struct bf_rule *ru = &ir->chains[c].rules[r];

			for (k = 0; k < ru->n_preds; k++)
				if (ru->preds[k].field == BF_F_MARK)
					return bf_err_set(g->err, -EINVAL,
							  "chain %s rule %u: match 'mark' needs the skb mark, which XDP programs do not have: attach the table at tc",
							  ir->chains[c].name, ru->num);
		}
	}
	return 0;
}

/* pkt->l4 = the first min(l4_len, 64) bytes of L4, zero padded. */
static void gen_copy_l4(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), small = bf_label_new(e);

	bf_emit_mark(e, "copy the first L4 bytes inside the datagram");
	gen_zero(e, BF_PKT_L4, BF_PKT_L4 + BF_PKT_L4_MAX);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R4, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R4, BF_PKT_L4_MAX, 0), small);
	bf_emit(e, BPF_MOV64_IMM(R4, BF_PKT_L4_MAX));
	bf_label_bind(e, small);
	/* JLT, not JEQ: Linux 6.1's verifier learns umin >= 1 only from it */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R4, 1, 0), done);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4OFF));
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R3, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, BF_PKT_L4));
	bf_emit(e, BPF_EMIT_CALL(gen_is_xdp(g) ? BPF_FUNC_xdp_load_bytes :
				 BPF_FUNC_skb_load_bytes));
	bf_label_bind(e, done);
}

/* One step of tcp_find_option's walk; r8 = i, r9 = optlen. */
static void gen_tcpopt_step(struct bf_emit *e, uint32_t done)
{
	uint32_t adv1 = bf_label_new(e), next = bf_label_new(e);

	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGE, R8, R9, 0), done);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGT, R8, 39, 0), done);
	bf_emit(e, BPF_MOV64_REG(R1, R7));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R8));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R1, BF_PKT_L4 + 20));
	/* tcpopts[kind / 8] |= 1 << (kind % 8) */
	bf_emit(e, BPF_MOV64_REG(R3, R2));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R3, 3));
	bf_emit(e, BPF_MOV64_REG(R4, R7));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R4, R3));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R5, R4, BF_PKT_TCPOPTS));
	bf_emit(e, BPF_MOV64_REG(R3, R2));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R3, 7));
	bf_emit(e, BPF_MOV64_IMM(R0, 1));
	bf_emit(e, BPF_ALU64_REG(BPF_LSH, R0, R3));
	bf_emit(e, BPF_ALU64_REG(BPF_OR, R5, R0));
	bf_emit(e, BPF_STX_MEM(BPF_B, R4, R5, BF_PKT_TCPOPTS));
	/* kind 0/1: 1 byte; else the length byte, 0 counting as 1 */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 2, 0), adv1);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R3, R1, BF_PKT_L4 + 21));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R3, 0, 0), adv1);
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R8, R3));
	bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, adv1);
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R8, 1));
	bf_label_bind(e, next);
}

/*
 * The set of TCP option kinds tcp_find_option() would find, computed once:
 * the walk visits the same positions whatever kind it looks for, so "kind
 * K is found" == "K is in the set". Unreadable options set OPTDROP.
 */
static void gen_tcpopt_walk(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), bad = bf_label_new(e);
	int i;

	bf_emit_mark(e, "TCP options: the set of kinds present (tcp_find_option)");
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 6, 0), done);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), done);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 20, 0), done);
	/* r9 = doff * 4; < 20 or past the datagram: unreadable */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R9, R7, BF_PKT_L4 + 12));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R9, 4));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R9, 2));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R9, 20, 0), bad);
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R9, R2, 0), bad);
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, -20));
	bf_emit(e, BPF_MOV64_IMM(R8, 0));
	for (i = 0; i < 40; i++)
		gen_tcpopt_step(e, done);
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, bad);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, BF_PKT_OPTDROP, 1));
	bf_label_bind(e, done);
}

/* pkt->ifb_{in,out} = BF_MAP_IFBITS[iif / oif], zero when missing */
static void gen_ifbits(struct bf_gen *g, int key_off, int dst_off)
{
	struct bf_emit *e = &g->e;
	uint32_t none = bf_label_new(e);
	int i;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, key_off));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_KEY));
	bf_emit_ld_map(e, R1, BF_MAP_IFBITS);
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, BF_PKT_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), none);
	for (i = 0; i < BF_MAX_IFPATS / 8; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R0, i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, dst_off + i));
	}
	bf_label_bind(e, none);
}

/* `label: return code`, only if something jumps there */
static void gen_tail(struct bf_emit *e, uint32_t label, int code)
{
	if (!bf_label_used(e, label))
		return;
	bf_label_bind(e, label);
	bf_emit(e, BPF_MOV64_IMM(R0, code));
	bf_emit(e, BPF_EXIT_INSN());
}

static bool gen_uses_reject(const struct bf_gen *g)
{
	uint32_t c, k;

	for (c = 0; c < g->ir->n_chains; c++)
		for (k = 0; k < g->ir->chains[c].n_rules; k++)
			if (g->ir->chains[c].rules[k].verdict == BF_V_REJECT)
				return true;
	return false;
}

static void gen_dispatch(struct bf_gen *g, const struct gen_main *m)
{
	static const int hooks[] = {
		NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT,
	};
	struct bf_emit *e = &g->e;
	uint32_t i, tx = bf_label_new(e), acc = bf_label_new(e);

	bf_emit_mark(e, "call the chain, map its answer to the hook's code");
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		uint32_t skip = bf_label_new(e);

		if (!bf_gen_has_chain(g, hooks[i]) ||
		    !g->chain_used[g->ir->hook_chain[hooks[i]]])
			continue;
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, hooks[i], 0), skip);
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_REG(R2, R7));
		bf_emit_call(e, g->chain_label[g->ir->hook_chain[hooks[i]]]);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, BF_RET_DROP, 0), m->drop);
		if (gen_uses_reject(g))
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, BF_RET_TX, 0), tx);
		bf_emit_jmp(e, BPF_JMP_A(0), acc);
		bf_label_bind(e, skip);
	}
	bf_emit_jmp(e, BPF_JMP_A(0), acc);
	bf_label_bind(e, m->drop);
	bf_emit(e, BPF_MOV64_IMM(R0, gen_is_xdp(g) ? XDP_DROP : TC_ACT_SHOT));
	bf_emit(e, BPF_EXIT_INSN());
	/* accepted after the chains: what the kernel's conntrack will see */
	bf_label_bind(e, acc);
	bf_gen_ct_accept(g);
	bf_label_bind(e, m->pass);
	bf_emit(e, BPF_MOV64_IMM(R0, gen_is_xdp(g) ? XDP_PASS : TC_ACT_OK));
	bf_emit(e, BPF_EXIT_INSN());
	/* -j REJECT: the reply replaced the packet (gen_target.c) */
	gen_tail(e, tx, gen_is_xdp(g) ? XDP_TX : TC_ACT_REDIRECT);
}

static bool gen_runs_a_chain(const struct bf_gen *g)
{
	int h;

	for (h = 0; h < BF_NR_HOOKS; h++)
		if (bf_gen_has_chain(g, h) && g->chain_used[g->ir->hook_chain[h]])
			return true;
	return false;
}

/*
 * opts.observe (tc egress next to an XDP program): show the conntrack
 * ICMP query tracker the locally sent packets, run no chain, pass all.
 * A table without conntrack passes at once.
 */
static void gen_observe(struct bf_gen *g, struct gen_main *m)
{
	struct bf_emit *e = &g->e;

	if (!bf_ir_count_field(g->ir, BF_F_CTSTATE)) {
		bf_emit(e, BPF_MOV64_IMM(R0, TC_ACT_OK));
		bf_emit(e, BPF_EXIT_INSN());
		return;
	}
	bf_emit(e, BPF_MOV64_REG(R6, R1));
	bf_emit(e, BPF_MOV64_REG(R7, BPF_REG_10));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R7, -g->pkt_size));
	gen_zero(e, 0, g->pkt_size);
	if (g->v6)
		bf_gen6_parse(g, m);
	else
		gen_parse_ip(g, m);
	/* locally generated only (a forwarded packet was seen at ingress) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_INGRESS_IFINDEX));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), m->pass);
	gen_copy_l4(g);
	bf_gen_ct_observe(g);
	bf_label_bind(e, m->pass);
	bf_label_bind(e, m->drop);
	bf_label_bind(e, m->chain_sel);
	bf_emit(e, BPF_MOV64_IMM(R0, TC_ACT_OK));
	bf_emit(e, BPF_EXIT_INSN());
}

static void gen_main(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	struct gen_main m = {
		.pass = bf_label_new(e),
		.drop = bf_label_new(e),
		.chain_sel = bf_label_new(e),
	};

	bf_emit_func(e, "bpfilter_main");
	bf_emit_mark(e, "func bpfilter_main");
	if (g->opts.observe) {
		gen_observe(g, &m);
		return;
	}
	if (!gen_runs_a_chain(g)) {
		/* nothing to filter at this hook: the rest would be dead code */
		bf_emit(e, BPF_MOV64_IMM(R0, gen_is_xdp(g) ? XDP_PASS : TC_ACT_OK));
		bf_emit(e, BPF_EXIT_INSN());
		return;
	}
	bf_emit(e, BPF_MOV64_REG(R6, R1));
	bf_emit(e, BPF_MOV64_REG(R7, BPF_REG_10));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R7, -g->pkt_size));
	gen_zero(e, 0, g->pkt_size);
	if (g->v6)
		bf_gen6_parse(g, &m);
	else
		gen_parse_ip(g, &m);
	if (g->uses_mark && !gen_is_xdp(g)) {	/* refused at XDP */
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, SKB_MARK));
		bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, g->v6 ? BF_PKT6_MARK : BF_PKT_MARK));
	}
	if (g->opts.force_hook >= 0)
		gen_decide_forced(g, &m);
	else if (g->opts.hook == BF_HOOK_TC_EGRESS)
		gen_decide_egress(g, &m);
	else
		gen_decide_fib(g, &m);
	bf_label_bind(e, m.chain_sel);
	if (g->uses_addrtype)
		gen_addrtype_fill(g);
	if (g->uses_addrtype6)
		gen6_addrtype_fill(g);
	gen_copy_l4(g);
	if (g->uses_ct)
		bf_gen_ct_state(g);
	if (g->uses_tcpopt)
		gen_tcpopt_walk(g);
	if (g->ir->n_ifpats) {
		bf_emit_mark(e, "interface patterns matched by iif and oif");
		gen_ifbits(g, BF_PKT_IIF, BF_PKT_IFB_IN);
		gen_ifbits(g, BF_PKT_OIF, BF_PKT_IFB_OUT);
	}
	gen_dispatch(g, &m);
}

static int gen_check_args(const struct bf_ir *ir,
			  const struct bf_gen_opts *opts, struct bf_err *err)
{
	if (!ir || !opts || opts->sz < sizeof(*opts))
		return bf_err_set(err, -EINVAL, "bf_gen: bad arguments");
	if (opts->hook > BF_HOOK_TC_EGRESS)
		return bf_err_set(err, -EINVAL, "bf_gen: unknown hook %d",
				  opts->hook);
	if (opts->observe && (opts->hook != BF_HOOK_TC_EGRESS ||
			      opts->force_hook >= 0))
		return bf_err_set(err, -EINVAL, "bf_gen: an observer program is for tc egress only");
	if (opts->force_hook >= BF_NR_HOOKS || opts->force_hook < -1)
		return bf_err_set(err, -EINVAL, "bf_gen: bad force_hook %d",
				  opts->force_hook);
	if (ir->family != AF_INET && ir->family != AF_INET6)
		return bf_err_set(err, -EAFNOSUPPORT,
				  "table %s: address family %d is not supported",
				  ir->table, ir->family);
	if (ir->n_ifpats > BF_MAX_IFPATS)
		return bf_err_set(err, -E2BIG,
				  "table %s: %u interface patterns, at most %d supported",
				  ir->table, ir->n_ifpats, BF_MAX_IFPATS);
	return 0;
}

/* The chains this hook runs: INPUT+FORWARD or OUTPUT, or the forced one. */
static void gen_mark_used(struct bf_gen *g)
{
	int h;

	for (h = 0; h < BF_NR_HOOKS && !g->opts.observe; h++) {
		bool want;

		if (g->opts.force_hook >= 0)
			want = h == g->opts.force_hook;
		else if (g->opts.hook == BF_HOOK_TC_EGRESS)
			want = h == NF_INET_LOCAL_OUT;
		else
			want = h == NF_INET_LOCAL_IN || h == NF_INET_FORWARD;
		if (want && bf_gen_has_chain(g, h))
			bf_gen_reach(g, g->ir->hook_chain[h]);
	}
}

int bf_gen(const struct bf_ir *ir, const struct bf_gen_opts *opts,
	   struct bf_prog **progp, struct bf_err *err)
{
	struct bf_gen g = { .ir = ir, .err = err };
	uint32_t i;
	int ret;

	ret = gen_check_args(ir, opts, err);
	if (ret)
		return ret;
	g.v6 = ir->family == AF_INET6;
	g.pkt_size = g.v6 ? BF_PKT6_SIZE : BF_PKT_SIZE;
	g.opts = *opts;
	if (!g.opts.piece_rules)
		g.opts.piece_rules = BF_PIECE_RULES_DEFAULT;
	bf_emit_init(&g.e);
	g.chain_label = calloc(ir->n_chains + 1, sizeof(*g.chain_label));
	g.chain_used = calloc(ir->n_chains + 1, sizeof(*g.chain_used));
	g.inline_count = calloc(ir->n_chains + 1, sizeof(*g.inline_count));
	if (!g.chain_label || !g.chain_used || !g.inline_count) {
		ret = bf_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ir->n_chains; i++)
		g.chain_label[i] = bf_label_new(&g.e);
	gen_mark_used(&g);
	if (g.xh_overflow) {
		ret = bf_err_set(err, -E2BIG,
				 "table %s: more than %d different -m frag/hbh/dst matches, at most %d supported",
				 ir->table, BF_XH_MAX, BF_XH_MAX);
		goto out;
	}
	ret = gen_check_xdp_mark(&g);
	if (!ret)
		ret = bf_gen_check_depth(&g);
	if (ret)
		goto out;
	if (g.uses_ct) {
		ret = bf_gen_ct_check(&g);
		if (ret)
			goto out;
	}
	g.count_label = bf_label_new(&g.e);
	gen_main(&g);
	if (gen_runs_a_chain(&g))
		bf_gen_count_fn(&g);
	ret = bf_gen_chains(&g);
	if (ret)
		goto out;
	ret = bf_emit_finish(&g.e);
	if (ret) {
		bf_err_set(err, ret, "table %s: code generation failed: %s",
			   ir->table, g.e.errmsg);
		goto out;
	}
	ret = bf_emit_to_prog(&g.e, opts->hook, progp);
	if (!ret) {
		(*progp)->family = g.v6 ? AF_INET6 : AF_INET;
		if (g.uses_ct)
			(*progp)->ct_families = g.v6 ? BF_CT_FAM6 : BF_CT_FAM4;
	}
out:
	bf_emit_free(&g.e);
	free(g.chain_label);
	free(g.chain_used);
	free(g.inline_count);
	return ret;
}

void bf_prog_free(struct bf_prog *prog)
{
	uint32_t i;

	if (!prog)
		return;
	for (i = 0; i < prog->n_marks; i++)
		free(prog->marks[i].text);
	free(prog->insns);
	free(prog->funcs);
	free(prog->marks);
	free(prog->relocs);
	free(prog);
}
