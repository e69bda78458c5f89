// SPDX-License-Identifier: GPL-2.0
/*
 * Chains, pieces and rules: one global subprogram per chain, split into
 * pieces of opts.piece_rules rules when longer. See gen.h for the register
 * and stack contract; return codes are BF_RET_*.
 *
 * Inside a function every rule is: its predicates in order, each jumping to
 * the next rule's label when false; the counter bump; the verdict.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter_ipv6/ip6t_rt.h>

#include "gen.h"

/* Labels of the function being generated. */
struct gen_fn {
	uint32_t hotdrop;	/* r0 = DROP; exit (no counter) */
	uint32_t ret;		/* what a RETURN verdict does here */
	const struct bf_chain *chain;
};

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

/* BPF_ATOMIC: linux/bpf.h has the opcodes, insn.h no macro */
#define BF_ATOMIC(sz, dst, src, off, op) \
	BF_INSN(BPF_STX | BPF_SIZE(sz) | BPF_ATOMIC, dst, src, off, op)

/* -m limit: cmpxchg attempts before giving up (no match) */
#define BF_LIMIT_TRIES	4

static void gen_ret_imm(struct bf_emit *e, int code)
{
	bf_emit(e, BPF_MOV64_IMM(R0, code));
	bf_emit(e, BPF_EXIT_INSN());
}

/* `label: return code` at a function's end, only if something jumps there */
static void gen_tail(struct bf_emit *e, uint32_t label, int code)
{
	if (!bf_label_used(e, label))
		return;
	bf_label_bind(e, label);
	gen_ret_imm(e, code);
}

/*
 * Counter slot `index`: pkt->key = index, then call bpfilter_count. One
 * global function holds the only map lookup of the counters: the verifier
 * inlines every lookup call site by patching the program, at a cost that
 * grows with the program's size, so one lookup per rule made loading
 * quadratic.
 */
static void gen_count_body(struct bf_emit *e, uint32_t out);

static void gen_counter(struct bf_gen *g, const struct bf_chain *c,
			uint32_t index)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, index));
	if (g->inline_count[c - g->ir->chains]) {
		/* at the deepest call frame: no frame left for bpfilter_count */
		uint32_t skip = bf_label_new(e);

		gen_count_body(e, skip);
		bf_label_bind(e, skip);
		return;
	}
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit_call(e, g->count_label);
}

/* Look up slot pkt->key (r7 = pkt) and bump it; jumps to `out` if absent. */
static void gen_count_body(struct bf_emit *e, uint32_t out)
{
	/* 6.1 takes no map key from a global function's pointer argument */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_KEY));
	bf_emit(e, BPF_STX_MEM(BPF_W, BPF_REG_10, R1, -8));
	bf_emit_ld_map(e, R1, BF_MAP_COUNTERS);
	bf_emit(e, BPF_MOV64_REG(R2, BPF_REG_10));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, -8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R0, 0));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R0, R1, 0));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R0, 8));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_LEN));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R2));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R0, R1, 8));
}

/* int bpfilter_count(ctx, pkt): packets += 1, bytes += pkt->len at pkt->key */
void bf_gen_count_fn(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t out = bf_label_new(e);

	bf_label_bind(e, g->count_label);
	bf_emit_func(e, "bpfilter_count");
	bf_emit_mark(e, "func bpfilter_count: counter slot pkt->key");
	bf_emit(e, BPF_MOV64_REG(R7, BPF_REG_2));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R7, 0, 0), out);
	gen_count_body(e, out);
	bf_label_bind(e, out);
	gen_ret_imm(e, 0);
}

/* Jump to `next` when (r1 == value) != want (32-bit compare). */
static void gen_eq32(struct bf_emit *e, uint32_t value, bool want,
		     uint32_t next)
{
	bf_emit_jmp(e, BPF_JMP32_IMM(want ? BPF_JNE : BPF_JEQ, R1,
				     (int32_t)value, 0), next);
}

/* Jump to `next` unless (lo <= r1 <= hi) != inv. */
static void gen_range(struct bf_emit *e, uint32_t lo, uint32_t hi, bool inv,
		      uint32_t next)
{
	uint32_t in;

	if (!inv) {
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, (int32_t)lo, 0), next);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGT, R1, (int32_t)hi, 0), next);
		return;
	}
	in = bf_label_new(e);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, (int32_t)lo, 0), in);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGT, R1, (int32_t)hi, 0), in);
	bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, in);
}

/* Jump to `next` unless bit `bit` of the bitmap at pkt + off is set != inv. */
static void gen_bit(struct bf_emit *e, int off, uint32_t bit, bool inv,
		    uint32_t next)
{
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, off + (int)(bit / 8)));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, 1 << (bit % 8)));
	bf_emit_jmp(e, BPF_JMP32_IMM(inv ? BPF_JNE : BPF_JEQ, R1, 0, 0), next);
}

static void gen_l4hdr(struct bf_emit *e, const struct bf_pred *p,
		      const struct gen_fn *fn, uint32_t next)
{
	uint32_t first = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 0, 0), first);
	if (p->flags & BF_L4_EVIL_FRAG)
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 1, 0), fn->hotdrop);
	bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, first);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, (int32_t)p->lo, 0),
		    fn->hotdrop);
}

static void gen_port(struct bf_emit *e, const struct bf_pred *p, int off,
		     uint32_t next)
{
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + off));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	gen_range(e, p->lo, p->hi, p->inv, next);
}

/*
 * The type/code test both families share (icmp_type_code_match(),
 * icmp6_type_code_match()): (type == value && lo <= code <= hi) XOR inv on
 * the first two bytes of the ICMP / ICMPv6 header; jump to `next` when
 * that is false.
 */
static void gen_icmp_type_code(struct bf_emit *e, const struct bf_pred *p,
			       uint32_t next)
{
	uint32_t yes = bf_label_new(e), no = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, (int32_t)p->value, 0), no);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 1));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, (int32_t)p->lo, 0), no);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JGT, R1, (int32_t)p->hi, 0), no);
	bf_emit_jmp(e, BPF_JMP_A(0), p->inv ? next : yes);
	bf_label_bind(e, no);
	if (!p->inv)
		bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, yes);
}

/* ipt_icmp: type 0xff is "any" (icmp_type_code_match()), else the shared test */
static void gen_icmp(struct bf_emit *e, const struct bf_pred *p,
		     uint32_t next)
{
	if (p->value == 0xff) {
		if (p->inv)
			bf_emit_jmp(e, BPF_JMP_A(0), next);
		return;
	}
	gen_icmp_type_code(e, p, next);
}

/* Jump to `next` unless (lo <= r1 <= hi) != inv, 32-bit unsigned. */
static void gen_range32(struct bf_emit *e, uint32_t lo, uint32_t hi, bool inv,
			uint32_t next)
{
	uint32_t in;

	if (!inv) {
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, (int32_t)lo, 0), next);
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JGT, R1, (int32_t)hi, 0), next);
		return;
	}
	in = bf_label_new(e);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, (int32_t)lo, 0), in);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JGT, R1, (int32_t)hi, 0), in);
	bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, in);
}

/* ipt_ttl: mode 0 ==, 1 !=, 2 <, 3 >; other modes never match. */
static void gen_ttl(struct bf_emit *e, const struct bf_pred *p, uint32_t next)
{
	static const uint8_t fail_op[] = { BPF_JNE, BPF_JEQ, BPF_JGE, BPF_JLE };

	if (p->flags >= sizeof(fail_op) || p->value > 0xff) {
		bf_emit_jmp(e, BPF_JMP_A(0), next);
		return;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_TTL));
	bf_emit_jmp(e, BPF_JMP32_IMM(fail_op[p->flags], R1, (int32_t)p->value, 0),
		    next);
}

/* r1 (r2 for the second port) in item [lo, hi]: jump to `yes`. */
static void gen_mport_item(struct bf_emit *e, int reg, const struct bf_pred *it,
			   uint32_t yes)
{
	uint32_t skip;

	if (!(it->flags & BF_MPORT_RANGE)) {
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, reg, (int32_t)it->lo, 0), yes);
		return;
	}
	skip = bf_label_new(e);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, reg, (int32_t)it->lo, 0), skip);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, reg, (int32_t)it->hi, 0), yes);
	bf_label_bind(e, skip);
}

/*
 * xt_multiport v1: fragments never match, < 4 L4 bytes hotdrop; then the
 * items (p[1] .. p[p->lo], checked by the caller) against r1 = sport and
 * r2 = dport.
 */
static void gen_mport(struct bf_emit *e, const struct bf_pred *p,
		      const struct gen_fn *fn, uint32_t next)
{
	uint32_t yes = bf_label_new(e), i;
	bool src = p->value != 1, dst = p->value != 0;

	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, 0, 0), next);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R1, 4, 0), fn->hotdrop);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, BF_PKT_L4 + 2));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R2, 16));
	for (i = 1; i <= p->lo; i++) {
		if (src)
			gen_mport_item(e, R1, &p[i], p->inv ? next : yes);
		if (dst)
			gen_mport_item(e, R2, &p[i], p->inv ? next : yes);
	}
	if (!p->inv)
		bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, yes);
}

/* Ethernet source == value:lo, != when inverted. */
static void gen_smac(struct bf_emit *e, const struct bf_pred *p, uint32_t next)
{
	uint32_t differ = p->inv ? bf_label_new(e) : next;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_SMAC));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, (int32_t)p->value, 0), differ);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_SMAC + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, (int32_t)p->lo, 0), differ);
	if (p->inv) {
		bf_emit_jmp(e, BPF_JMP_A(0), next);
		bf_label_bind(e, differ);
	}
}

/*
 * One attempt of limit_mt()'s loop; r8 = &bucket, credit_increase at
 * fp - 16. Ends with r5 = the answer and a jump to `done` when the
 * cmpxchg stored the new credit; falls through when it lost a race.
 */
static void gen_limit_try(struct bf_emit *e, const struct bf_pred *p,
			  uint32_t done)
{
	uint32_t capped = bf_label_new(e), poor = bf_label_new(e);

	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_jiffies64));
	bf_emit(e, BPF_MOV64_REG(R2, R0));
	bf_emit(e, BF_ATOMIC(BPF_DW, R8, R0, 0, BPF_XCHG));	/* r0 = old prev */
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R2, R0));
	bf_emit(e, BPF_ALU64_IMM(BPF_MUL, R2, BF_LIMIT_CREDITS_PER_JIFFY));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, BPF_REG_10, -16));
	bf_emit(e, BPF_ALU32_REG(BPF_ADD, R3, R2));
	bf_emit(e, BPF_STX_MEM(BPF_W, BPF_REG_10, R3, -16));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R0, R8, 8));		/* old_credit */
	bf_emit(e, BPF_MOV32_REG(R4, R0));
	bf_emit(e, BPF_ALU32_REG(BPF_ADD, R4, R3));		/* new_credit */
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLE, R4, (int32_t)p->mask, 0), capped);
	bf_emit(e, BPF_MOV32_IMM(R4, (int32_t)p->mask));
	bf_label_bind(e, capped);
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R4, (int32_t)p->hi, 0), poor);
	bf_emit(e, BPF_ALU32_IMM(BPF_SUB, R4, (int32_t)p->hi));
	bf_emit(e, BPF_MOV64_IMM(R5, 1));
	bf_label_bind(e, poor);
	bf_emit(e, BPF_MOV32_REG(R1, R0));
	bf_emit(e, BF_ATOMIC(BPF_W, R8, R4, 8, BPF_CMPXCHG));	/* r0 = what was there */
	bf_emit_jmp(e, BPF_JMP32_REG(BPF_JEQ, R0, R1, 0), done);
}

/*
 * xt_limit's limit_mt() on bucket `slot` of BF_MAP_LIMIT: the fast path
 * (credit < cost in the jiffy of the last update: no match), then up to
 * BF_LIMIT_TRIES rounds of xchg(prev, now) and cmpxchg(credit), as the
 * kernel's lockless loop; a packet that loses every round does not match.
 */
static void gen_limit(struct bf_emit *e, const struct bf_pred *p,
		      uint32_t slot, uint32_t next)
{
	uint32_t slow = bf_label_new(e), done = bf_label_new(e);
	int i;

	bf_emit(e, BPF_ST_MEM(BPF_W, BPF_REG_10, -8, (int32_t)slot));
	bf_emit_ld_map(e, R1, BF_MAP_LIMIT);
	bf_emit(e, BPF_MOV64_REG(R2, BPF_REG_10));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, -8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), next);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_jiffies64));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, 8));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JGE, R1, (int32_t)p->hi, 0), slow);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R8, 0));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JEQ, R1, R0, 0), next);
	bf_label_bind(e, slow);
	bf_emit(e, BPF_ST_MEM(BPF_DW, BPF_REG_10, -16, 0));
	for (i = 0; i < BF_LIMIT_TRIES; i++)
		gen_limit_try(e, p, done);
	bf_emit_jmp(e, BPF_JMP_A(0), next);
	bf_label_bind(e, done);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R5, 0, 0), next);
}

/*
 * -m addrtype: (source == 0 || type(saddr) in source, XOR flag 1) &&
 * (dest == 0 || type(daddr) in dest, XOR flag 2); the type is UNICAST
 * when a device is compared (flags 4: iif, 8: oif) and the route's
 * device is another one (BF_ADT_* of pkt's type bytes).
 */
static void gen_addrtype_side(struct bf_emit *e, const struct bf_pred *p,
			      bool dst, uint32_t next)
{
	uint32_t mask = dst ? p->hi : p->lo, same = bf_label_new(e);
	bool inv = p->flags & (dst ? 2 : 1);

	if (!mask)
		return;
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, dst ? BF_PKT_DTYPE : BF_PKT_STYPE));
	if (p->flags & 0xc) {
		bf_emit(e, BPF_MOV64_REG(R2, R1));
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R2, BF_ADT_NODEV |
					 (p->flags & 4 ? BF_ADT_IIF : BF_ADT_OIF)));
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, BF_ADT_TYPE));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R2, 0, 0), same);
		bf_emit(e, BPF_MOV64_IMM(R1, 1));	/* another device: RTN_UNICAST */
	} else {
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, BF_ADT_TYPE));
	}
	bf_label_bind(e, same);
	bf_emit(e, BPF_MOV64_IMM(R2, 1));
	bf_emit(e, BPF_ALU64_REG(BPF_LSH, R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, (int32_t)(mask & 0xffff)));
	bf_emit_jmp(e, BPF_JMP_IMM(inv ? BPF_JNE : BPF_JEQ, R2, 0, 0), next);
}

/* A multiport group: p->lo items follow it inside the rule. */
static bool gen_mport_ok(const struct bf_rule *r, uint32_t i)
{
	const struct bf_pred *p = &r->preds[i];
	uint32_t k;

	if (p->value > 2 || p->lo >= r->n_preds - i)
		return false;
	for (k = 1; k <= p->lo; k++)
		if (p[k].field != BF_F_MPORT_ITEM || p[k].lo > 0xffff ||
		    p[k].hi > 0xffff)
			return false;
	return true;
}

/* 32-bit word i of a 16-byte address as a little-endian load sees it */
static uint32_t gen6_word(const uint8_t *a, int i)
{
	return (uint32_t)a[4 * i] | (uint32_t)a[4 * i + 1] << 8 |
	       (uint32_t)a[4 * i + 2] << 16 | (uint32_t)a[4 * i + 3] << 24;
}

/*
 * ip6_packet_match's ipv6_masked_addr_cmp(): ((addr ^ a6) & b6) == 0,
 * XOR inv. Words whose mask is 0 are not compared; the others from the
 * last one, which tells the addresses of one prefix apart soonest.
 */
static void gen6_addr(struct bf_emit *e, const struct bf_pred *p, int off,
		      uint32_t next)
{
	uint32_t differ = p->inv ? bf_label_new(e) : next;
	int i;

	for (i = 3; i >= 0; i--) {
		uint32_t m = gen6_word(p->b6, i), v = gen6_word(p->a6, i) & m;

		if (!m)
			continue;
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, off + 4 * i));
		if (m != UINT32_MAX)
			bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, (int32_t)m));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, (int32_t)v, 0), differ);
	}
	if (p->inv) {
		bf_emit_jmp(e, BPF_JMP_A(0), next);
		if (bf_label_used(e, differ))
			bf_label_bind(e, differ);
	}
}

/* Big-endian word i of a 16-byte address as a number */
static uint32_t gen6_be_word(const uint8_t *a, int i)
{
	return (uint32_t)a[4 * i] << 24 | (uint32_t)a[4 * i + 1] << 16 |
	       (uint32_t)a[4 * i + 2] << 8 | a[4 * i + 3];
}

/*
 * Jump to `lt` when (addr at pkt + off) < c (want_lt) or c < addr
 * (!want_lt), as 128-bit big-endian numbers; fall through otherwise.
 */
static void gen6_cmp128(struct bf_emit *e, int off, const uint8_t *c,
			bool addr_lt, uint32_t yes)
{
	uint32_t no = bf_label_new(e);
	int i;

	for (i = 0; i < 4; i++) {
		int32_t w = (int32_t)gen6_be_word(c, i);

		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, off + 4 * i));
		bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
		bf_emit_jmp(e, BPF_JMP32_IMM(addr_lt ? BPF_JLT : BPF_JGT, R1, w, 0),
			    yes);
		if (i < 3)
			bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, w, 0), no);
	}
	bf_label_bind(e, no);
}

/*
 * xt_iprange for IPv6: m = addr < a6 || b6 < addr; match when m == inv.
 */
static void gen6_range(struct bf_emit *e, const struct bf_pred *p, int off,
		       uint32_t next)
{
	uint32_t out = p->inv ? bf_label_new(e) : next;

	gen6_cmp128(e, off, p->a6, true, out);
	gen6_cmp128(e, off, p->b6, false, out);
	if (p->inv) {
		bf_emit_jmp(e, BPF_JMP_A(0), next);
		bf_label_bind(e, out);
	}
}

/*
 * ip6_packet_match's protocol test (ir.h BF_F_PROTO6): a failed walk
 * hotdrops (its fragment offset is always 0), else
 * proto == value ? !inv : (value == 0 || inv).
 */
static void gen6_proto(struct bf_emit *e, const struct bf_pred *p,
		       const struct gen_fn *fn, uint32_t next)
{
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_WALKERR));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, 0, 0), fn->hotdrop);
	if (!p->inv && p->value == 0)	/* "all": every protocol */
		return;
	if (p->value > 0xff) {	/* no protocol equals it: inv decides */
		if (!p->inv)
			bf_emit_jmp(e, BPF_JMP_A(0), next);
		return;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	gen_eq32(e, p->value, !p->inv, next);
}

/* ip6t_rt (ir.h BF_F_RT) on what the walk recorded (gen.h BF_PKT6_RT) */
static void gen6_rt(struct bf_emit *e, const struct bf_pred *p,
		    const struct gen_fn *fn, uint32_t next)
{
	uint32_t f = p->flags & 0xff, inv = p->flags >> 8;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RT));
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R2, BF_RT6_ERR | BF_RT6_SHORT));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R2, 0, 0), fn->hotdrop);
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R2, BF_RT6_FOUND));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R2, 0, 0), next);
	if (f & IP6T_RT_RES) {
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, BF_RT6_RESNZ));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, 0, 0), next);
	}
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RTSEGS));
	gen_range32(e, p->lo, p->hi, inv & IP6T_RT_INV_SGS, next);
	if (f & IP6T_RT_LEN) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RTLEN));
		bf_emit(e, BPF_ALU32_IMM(BPF_ADD, R1, 1));
		bf_emit(e, BPF_ALU32_IMM(BPF_LSH, R1, 3));
		gen_eq32(e, p->mask, !(inv & IP6T_RT_INV_LEN), next);
	}
	if (f & IP6T_RT_TYP) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_RTTYPE));
		gen_eq32(e, p->value, !(inv & IP6T_RT_INV_TYP), next);
	}
}

/*
 * -m frag / -m hbh / -m dst (ir.h BF_F_FRAG6, BF_F_OPTS6): bpfilter_main
 * evaluated the predicate's slot (gen.h BF_PKT6_XMATCH).
 */
static int gen6_xh_pred(struct bf_gen *g, const struct bf_pred *p,
			const struct gen_fn *fn, uint32_t next)
{
	struct bf_emit *e = &g->e;
	int slot = bf_gen6_xh_slot(g, p);

	if (slot < 0 || p->inv || (p->field == BF_F_OPTS6 && p->hi > 16))
		return -EINVAL;
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_XDROP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R1, 1 << slot, 0), fn->hotdrop);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT6_XMATCH));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, 1 << slot));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 0, 0), next);
	return 0;
}

/* XT_ADDRTYPE_UNSPEC, _UNICAST, _MULTICAST: what BF_F_ADDRTYPE6 decides */
#define BF_ADT6_TYPES	(0x01 | 0x02 | 0x20)
/* XT_ADDRTYPE_LOCAL, _ANYCAST, _UNREACHABLE: the route lookup's bits */
#define BF_ADT6_LOOKUP	(0x04 | 0x10 | 0x80)

/*
 * match_type6() for the bits in `mask` (ir.h BF_F_ADDRTYPE6) on the
 * address at pkt + off: to `fail` unless all hold.
 */
static void gen6_addrtype_side(struct bf_emit *e, int off, uint32_t mask,
			       uint32_t fail)
{
	uint32_t unicast = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, off));
	if (mask & 0x20)	/* MULTICAST: ff00::/8 */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0xff, 0), fail);
	if (!(mask & 0x03))
		return;
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xff, 0), fail);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, off));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R2, R7, off + 8));
	bf_emit(e, BPF_MOV64_REG(R3, R1));
	bf_emit(e, BPF_ALU64_REG(BPF_OR, R3, R2));
	if (mask & 0x01) {	/* UNSPEC: :: (and so not UNICAST) */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R3, 0, 0), fail);
		if (mask & 0x02)
			bf_emit_jmp(e, BPF_JMP_A(0), fail);
		return;
	}
	/* UNICAST: not ::, not ::ffff:0:0/96 */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R3, 0, 0), fail);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), unicast);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R2, (int32_t)htonl(0x0000ffff), 0), fail);
	bf_label_bind(e, unicast);
}

/*
 * match_type6()'s lookup part: !!(mask & match_lookup_rt6()), the bits
 * bpfilter_main stored at pkt + type_off (gen6_addrtype_fill()).
 */
static void gen6_addrtype_lookup(struct bf_emit *e, int type_off,
				 uint32_t mask, uint32_t fail)
{
	mask &= BF_ADT6_LOOKUP;
	if (!mask)
		return;
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, type_off));
	bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, mask));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, 0, 0), fail);
}

/* addrtype_mt6() (ir.h BF_F_ADDRTYPE6) */
static void gen6_addrtype(struct bf_emit *e, const struct bf_pred *p,
			  uint32_t next)
{
	int side;

	for (side = 0; side < 2; side++) {
		uint32_t mask = side ? p->hi : p->lo;
		bool inv = p->flags & (side ? 2 : 1);
		uint32_t fail = bf_label_new(e), done = bf_label_new(e);

		if (!mask)
			continue;
		gen6_addrtype_side(e, side ? BF_PKT_DADDR6 : BF_PKT_SADDR6, mask,
				   inv ? fail : next);
		gen6_addrtype_lookup(e, side ? BF_PKT_DTYPE : BF_PKT_STYPE, mask,
				     inv ? fail : next);
		if (inv)
			bf_emit_jmp(e, BPF_JMP_A(0), next);
		bf_label_bind(e, fail);
		bf_label_bind(e, done);
	}
}

/* Is `f` a field of this family's programs? */
static bool gen_field_ok(const struct bf_gen *g, enum bf_field f)
{
	switch (f) {
	case BF_F_SADDR4:
	case BF_F_DADDR4:
	case BF_F_PROTO:
	case BF_F_FRAG:
	case BF_F_ICMP:
	case BF_F_SRANGE4:
	case BF_F_DRANGE4:
	case BF_F_ADDRTYPE:	/* IPv4's inet_dev_addr_type(), IPv4 addresses */
		return !g->v6;
	case BF_F_SADDR6:
	case BF_F_DADDR6:
	case BF_F_PROTO6:
	case BF_F_ICMP6:
	case BF_F_SRANGE6:
	case BF_F_DRANGE6:
	case BF_F_RT:
	case BF_F_FRAG6:
	case BF_F_OPTS6:
	case BF_F_ADDRTYPE6:
		return g->v6;
	default:
		return true;
	}
}

static int gen_pred(struct bf_gen *g, const struct bf_pred *p,
		    const struct gen_fn *fn, uint32_t next)
{
	struct bf_emit *e = &g->e;

	/*
	 * A predicate false for every packet (icmp ! any) jumps to `next`
	 * unconditionally; what follows is dead code that bf_emit_finish()
	 * drops. The predicates before it still run: a guard may hotdrop.
	 */
	if (!gen_field_ok(g, p->field))
		return -EINVAL;
	switch (p->field) {
	case BF_F_SADDR4:
	case BF_F_DADDR4:
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, p->field == BF_F_SADDR4 ?
				       BF_PKT_SADDR : BF_PKT_DADDR));
		if (p->mask != UINT32_MAX)
			bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, (int32_t)p->mask));
		gen_eq32(e, p->value, !p->inv, next);
		return 0;
	case BF_F_IIF:
	case BF_F_OIF:
		if (p->value >= BF_MAX_IFPATS || p->value >= g->ir->n_ifpats)
			return -EINVAL;
		gen_bit(e, p->field == BF_F_IIF ? BF_PKT_IFB_IN : BF_PKT_IFB_OUT,
			p->value, p->inv, next);
		return 0;
	case BF_F_PROTO:
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
		gen_eq32(e, p->value, !p->inv, next);
		return 0;
	case BF_F_FRAG:
		bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
		/* true when fragoff != 0 */
		gen_eq32(e, 0, p->inv, next);
		return 0;
	case BF_F_L4HDR:
		gen_l4hdr(e, p, fn, next);
		return 0;
	case BF_F_SPORT:
	case BF_F_DPORT:
		gen_port(e, p, p->field == BF_F_SPORT ? 0 : 2, next);
		return 0;
	case BF_F_TCPFLAGS:
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 13));
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, (int32_t)(p->mask & 0xff)));
		gen_eq32(e, p->value, !p->inv, next);
		return 0;
	case BF_F_TCPOPT:
		if (p->value > 255)
			return -EINVAL;
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_OPTDROP));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JNE, R1, 0, 0), fn->hotdrop);
		gen_bit(e, BF_PKT_TCPOPTS, p->value, p->inv, next);
		return 0;
	case BF_F_ICMP:
		gen_icmp(e, p, next);
		return 0;
	case BF_F_COMMENT:
	case BF_F_IPRANGE:
	case BF_F_MPORT_ITEM:
		return 0;
	case BF_F_LENGTH:
		if (g->v6)	/* xt_length: (u16)(payload_len + 40) */
			bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_LEN6));
		else
			bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_LEN));
		gen_range32(e, p->lo, p->hi, p->inv, next);
		return 0;
	case BF_F_TTL:
		if (p->inv)
			return -EINVAL;
		gen_ttl(e, p, next);
		return 0;
	case BF_F_SRANGE4:
	case BF_F_DRANGE4:
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, p->field == BF_F_SRANGE4 ?
				       BF_PKT_SADDR : BF_PKT_DADDR));
		bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
		gen_range32(e, p->lo, p->hi, p->inv, next);
		return 0;
	case BF_F_MPORT:
		gen_mport(e, p, fn, next);
		return 0;
	case BF_F_PKTTYPE:
		if (p->value > 0xff) {	/* no packet has that type */
			if (!p->inv)
				bf_emit_jmp(e, BPF_JMP_A(0), next);
			return 0;
		}
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PKTTYPE));
		gen_eq32(e, p->value, !p->inv, next);
		return 0;
	case BF_F_SMAC:
		if (p->lo > 0xffff)
			return -EINVAL;
		gen_smac(e, p, next);
		return 0;
	case BF_F_MARK:
		if (p->value & ~p->mask) {	/* no mark passes the mask */
			if (!p->inv)
				bf_emit_jmp(e, BPF_JMP_A(0), next);
			return 0;
		}
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, g->v6 ? BF_PKT6_MARK : BF_PKT_MARK));
		if (p->mask != UINT32_MAX)
			bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, (int32_t)p->mask));
		gen_eq32(e, p->value, !p->inv, next);
		return 0;
	case BF_F_LIMIT: {
		int32_t slot = bf_ir_pred_ordinal(g->ir, p);

		if (p->inv || slot < 0)
			return -EINVAL;
		gen_limit(e, p, (uint32_t)slot, next);
		return 0;
	}
	case BF_F_ADDRTYPE:
		if (p->inv)
			return -EINVAL;
		gen_addrtype_side(e, p, false, next);
		gen_addrtype_side(e, p, true, next);
		return 0;
	case BF_F_CTSTATE:
		/* a packet has one state bit: (bit & value) != 0, XOR inv */
		bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_CTSTATE));
		bf_emit(e, BPF_ALU32_IMM(BPF_AND, R1, (int32_t)p->value));
		bf_emit_jmp(e, BPF_JMP32_IMM(p->inv ? BPF_JNE : BPF_JEQ, R1, 0, 0),
			    next);
		return 0;
	case BF_F_SADDR6:
	case BF_F_DADDR6:
		gen6_addr(e, p, p->field == BF_F_SADDR6 ? BF_PKT_SADDR6 :
			  BF_PKT_DADDR6, next);
		return 0;
	case BF_F_PROTO6:
		gen6_proto(e, p, fn, next);
		return 0;
	case BF_F_ICMP6:
		if (p->value > 0xff || p->lo > 0xff || p->hi > 0xff)
			return -EINVAL;
		gen_icmp_type_code(e, p, next);	/* icmp6_match(): no "any" type */
		return 0;
	case BF_F_SRANGE6:
	case BF_F_DRANGE6:
		gen6_range(e, p, p->field == BF_F_SRANGE6 ? BF_PKT_SADDR6 :
			   BF_PKT_DADDR6, next);
		return 0;
	case BF_F_RT:
		if (p->inv || (p->flags & IP6T_RT_FST))
			return -EINVAL;
		gen6_rt(e, p, fn, next);
		return 0;
	case BF_F_FRAG6:
	case BF_F_OPTS6:
		return gen6_xh_pred(g, p, fn, next);
	case BF_F_ADDRTYPE6:
		if (p->inv || ((p->lo | p->hi) & ~(BF_ADT6_TYPES | BF_ADT6_LOOKUP)))
			return -EINVAL;
		/* the device-strict lookup (--limit-iface-*) is not modelled */
		if (((p->lo | p->hi) & BF_ADT6_LOOKUP) && (p->flags & 0x0c))
			return -EINVAL;
		gen6_addrtype(e, p, next);
		return 0;
	}
	return -EINVAL;
}

static int gen_verdict(struct bf_gen *g, const struct bf_rule *r,
		       const struct gen_fn *fn, uint32_t next)
{
	struct bf_emit *e = &g->e;

	switch (r->verdict) {
	case BF_V_NEXT:
		return 0;
	case BF_V_ACCEPT:
		gen_ret_imm(e, BF_RET_ACCEPT);
		return 0;
	case BF_V_DROP:
		gen_ret_imm(e, BF_RET_DROP);
		return 0;
	case BF_V_RETURN:
		bf_emit_jmp(e, BPF_JMP_A(0), fn->ret);
		return 0;
	case BF_V_LOG:
		return bf_gen_log(g, r);
	case BF_V_REJECT:
		return bf_gen_reject(g, r, fn->chain->name);
	case BF_V_JUMP:
	case BF_V_GOTO:
		if (r->target >= g->ir->n_chains)
			return -EINVAL;
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_REG(R2, R7));
		bf_emit_call(e, g->chain_label[r->target]);
		if (r->verdict == BF_V_JUMP) {
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), next);
			bf_emit(e, BPF_EXIT_INSN());
			return 0;
		}
		/* goto: the target's RETURN is our RETURN */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), fn->ret);
		bf_emit(e, BPF_EXIT_INSN());
		return 0;
	}
	return -EINVAL;
}

/*
 * Rules are laid out hot/cold: the predicates of every rule follow each
 * other (a matching rule jumps out to its "hit" block), and the hit
 * blocks (counter and verdict) come after the function's fall-off code.
 * The path a non-matching packet takes stays short and dense in the
 * instruction cache.
 */
struct gen_hits {
	uint32_t *hit;		/* per rule: label of its hit block */
	uint32_t *next;		/* per rule: label of the next rule */
};

/* The opposite condition, or 0 if there is none (JSET). */
static uint8_t gen_jmp_inverse(uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JNE: return BPF_JEQ;
	case BPF_JLT: return BPF_JGE;
	case BPF_JGE: return BPF_JLT;
	case BPF_JGT: return BPF_JLE;
	case BPF_JLE: return BPF_JGT;
	}
	return 0;
}

/*
 * "if (c) goto next; goto hit; next:" becomes "if (!c) goto hit; next:"
 * when the last instruction is a conditional jump to `next`: one
 * instruction less, and a packet the rule does not match falls through.
 */
static bool gen_flip_last(struct bf_emit *e, uint32_t next, uint32_t hit)
{
	struct bf_fixup *f;
	struct bpf_insn *in;
	uint8_t inv;

	/* a label right after the jump would move from `hit` to `next` */
	if (e->err || !e->n_fixups || !e->n_insns ||
	    e->last_bound == e->n_insns)
		return false;
	f = &e->fixups[e->n_fixups - 1];
	in = &e->insns[e->n_insns - 1];
	if (f->call || f->label != next || f->insn != e->n_insns - 1 ||
	    (BPF_CLASS(in->code) != BPF_JMP && BPF_CLASS(in->code) != BPF_JMP32))
		return false;
	inv = gen_jmp_inverse(BPF_OP(in->code));
	if (!inv)
		return false;
	in->code = BPF_CLASS(in->code) | BPF_SRC(in->code) | inv;
	f->label = hit;
	e->label_refs[next]--;
	e->label_refs[hit]++;
	return true;
}

static int gen_rule_hot(struct bf_gen *g, const struct bf_rule *r,
			const struct gen_fn *fn, uint32_t hit, uint32_t next)
{
	struct bf_emit *e = &g->e;
	char text[512];
	uint32_t i;
	int ret;

	bf_ir_rule_str(g->ir, fn->chain, r, text, sizeof(text));
	bf_emit_mark(e, "%s", text);
	for (i = 0; i < r->n_preds; i++) {
		ret = 0;
		if (r->preds[i].field == BF_F_MPORT && !gen_mport_ok(r, i))
			ret = -EINVAL;
		if (!ret)
			ret = gen_pred(g, &r->preds[i], fn, next);
		if (ret)
			return bf_err_set(g->err, ret,
					  "chain %s rule %u: predicate %u (field %d) cannot be generated",
					  fn->chain->name, r->num, i,
					  r->preds[i].field);
	}
	if (!gen_flip_last(e, next, hit))
		bf_emit_jmp(e, BPF_JMP_A(0), hit);
	bf_label_bind(e, next);
	return 0;
}

static int gen_rule_cold(struct bf_gen *g, const struct bf_rule *r,
			 const struct gen_fn *fn, uint32_t hit, uint32_t next)
{
	struct bf_emit *e = &g->e;
	int ret;

	bf_label_bind(e, hit);
	bf_emit_mark(e, "%s#%u [%u] matched", fn->chain->name, r->num,
		     r->index);
	gen_counter(g, fn->chain, r->index);
	ret = gen_verdict(g, r, fn, next);
	if (ret == -EOPNOTSUPP)		/* refused with its own message */
		return ret;
	if (ret)
		return bf_err_set(g->err, ret,
				  "chain %s rule %u: bad verdict %d or target %u",
				  fn->chain->name, r->num, r->verdict,
				  r->target);
	if (r->verdict == BF_V_NEXT || r->verdict == BF_V_LOG)
		bf_emit_jmp(e, BPF_JMP_A(0), next);
	return 0;
}

static void gen_prologue(struct bf_emit *e)
{
	uint32_t ok = bf_label_new(e);

	bf_emit(e, BPF_MOV64_REG(R6, BPF_REG_1));
	bf_emit(e, BPF_MOV64_REG(R7, BPF_REG_2));
	/* the verifier sees a nullable pointer to struct bf_pkt */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R7, 0, 0), ok);
	gen_ret_imm(e, BF_RET_NONE);
	bf_label_bind(e, ok);
}

static bool chain_builtin(const struct bf_chain *c)
{
	return c->hook != BF_HOOK_NONE;
}

/* End of a chain: the policy, or a user chain's RETURN / ERROR fall-through */
static void gen_chain_end(struct bf_gen *g, const struct bf_chain *c,
			  uint32_t end)
{
	struct bf_emit *e = &g->e;

	bf_label_bind(e, end);
	if (chain_builtin(c)) {
		gen_counter(g, c, c->end_index);
		gen_ret_imm(e, c->end == BF_V_DROP ? BF_RET_DROP : BF_RET_ACCEPT);
		return;
	}
	if (!c->end_counts) {
		gen_ret_imm(e, BF_RET_DROP);
		return;
	}
	gen_counter(g, c, c->end_index);
	gen_ret_imm(e, BF_RET_NONE);
}

static int gen_rules_hot(struct bf_gen *g, const struct bf_chain *c,
			 uint32_t from, uint32_t to, const struct gen_fn *fn,
			 struct gen_hits *h)
{
	uint32_t i;
	int ret;

	h->hit = calloc(to - from + 1, sizeof(*h->hit));
	h->next = calloc(to - from + 1, sizeof(*h->next));
	if (!h->hit || !h->next)
		return bf_err_set(g->err, -ENOMEM, "out of memory");
	for (i = from; i < to; i++) {
		h->hit[i - from] = bf_label_new(&g->e);
		h->next[i - from] = bf_label_new(&g->e);
		ret = gen_rule_hot(g, &c->rules[i], fn, h->hit[i - from],
				   h->next[i - from]);
		if (ret)
			return ret;
	}
	return 0;
}

/* After the function's fall-off code; frees `h`. */
static int gen_rules_cold(struct bf_gen *g, const struct bf_chain *c,
			  uint32_t from, uint32_t to, const struct gen_fn *fn,
			  struct gen_hits *h)
{
	uint32_t i;
	int ret = 0;

	for (i = from; i < to && !ret && h->hit; i++)
		ret = gen_rule_cold(g, &c->rules[i], fn, h->hit[i - from],
				    h->next[i - from]);
	free(h->hit);
	free(h->next);
	h->hit = h->next = NULL;
	return ret;
}

/* A chain that fits in one function. */
static int gen_chain_whole(struct bf_gen *g, uint32_t ci)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	struct bf_emit *e = &g->e;
	struct gen_fn fn = { .chain = c };
	uint32_t end = bf_label_new(e);
	struct gen_hits h = { 0 };
	int ret;

	fn.hotdrop = bf_label_new(e);
	fn.ret = chain_builtin(c) ? end : bf_label_new(e);
	gen_prologue(e);
	ret = gen_rules_hot(g, c, 0, c->n_rules, &fn, &h);
	if (!ret) {
		gen_chain_end(g, c, end);
		ret = gen_rules_cold(g, c, 0, c->n_rules, &fn, &h);
	}
	if (ret) {
		gen_rules_cold(g, c, 0, 0, &fn, &h);
		return ret;
	}
	gen_tail(e, fn.hotdrop, BF_RET_DROP);
	if (!chain_builtin(c))
		gen_tail(e, fn.ret, BF_RET_NONE);
	return 0;
}

static int gen_piece(struct bf_gen *g, uint32_t ci, uint32_t p,
		     uint32_t label)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	uint32_t n = g->opts.piece_rules, to;
	struct bf_emit *e = &g->e;
	struct gen_fn fn = { .chain = c };
	struct gen_hits h = { 0 };
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "bpfilter_c%u_p%u", ci, p);
	bf_label_bind(e, label);
	bf_emit_func(e, name);
	bf_emit_mark(e, "func %s: chain %s piece %u", name, c->name, p);
	fn.hotdrop = bf_label_new(e);
	fn.ret = bf_label_new(e);
	gen_prologue(e);
	to = (p + 1) * n < c->n_rules ? (p + 1) * n : c->n_rules;
	ret = gen_rules_hot(g, c, p * n, to, &fn, &h);
	if (!ret) {
		gen_ret_imm(e, BF_RET_NONE);
		ret = gen_rules_cold(g, c, p * n, to, &fn, &h);
	}
	if (ret) {
		gen_rules_cold(g, c, 0, 0, &fn, &h);
		return ret;
	}
	gen_tail(e, fn.hotdrop, BF_RET_DROP);
	gen_tail(e, fn.ret, BF_RET_RETURN);
	return 0;
}

static uint32_t chain_pieces(const struct bf_gen *g, const struct bf_chain *c)
{
	uint32_t n = g->opts.piece_rules;

	return c->n_rules <= n ? 1 : (c->n_rules + n - 1) / n;
}

/* A long chain: a function calling its pieces in order. */
static int gen_chain_split(struct bf_gen *g, uint32_t ci)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	uint32_t np = chain_pieces(g, c), p, *labels;
	struct bf_emit *e = &g->e;
	uint32_t end = bf_label_new(e), ret_label = bf_label_new(e);
	int ret = 0;

	labels = calloc(np, sizeof(*labels));
	if (!labels)
		return -ENOMEM;
	gen_prologue(e);
	for (p = 0; p < np; p++) {
		uint32_t cont = bf_label_new(e);

		labels[p] = bf_label_new(e);
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_REG(R2, R7));
		bf_emit_call(e, labels[p]);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, BF_RET_NONE, 0), cont);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, BF_RET_RETURN, 0),
			    chain_builtin(c) ? end : ret_label);
		bf_emit(e, BPF_EXIT_INSN());
		bf_label_bind(e, cont);
	}
	gen_chain_end(g, c, end);
	gen_tail(e, ret_label, BF_RET_NONE);
	for (p = 0; p < np && !ret; p++)
		ret = gen_piece(g, ci, p, labels[p]);
	free(labels);
	return ret;
}

static int gen_chain(struct bf_gen *g, uint32_t ci)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	char name[48];

	snprintf(name, sizeof(name), "bpfilter_c%u", ci);
	bf_label_bind(&g->e, g->chain_label[ci]);
	bf_emit_func(&g->e, name);
	bf_emit_mark(&g->e, "func %s: chain %s", name, c->name);
	if (chain_pieces(g, c) > 1)
		return gen_chain_split(g, ci);
	return gen_chain_whole(g, ci);
}

int bf_gen_chains(struct bf_gen *g)
{
	uint32_t i;
	int ret;

	for (i = 0; i < g->ir->n_chains; i++) {
		if (!g->chain_used[i])
			continue;
		ret = gen_chain(g, i);
		if (ret)
			return ret;
	}
	return 0;
}

void bf_gen_reach(struct bf_gen *g, uint32_t ci)
{
	const struct bf_chain *c;
	uint32_t i;

	if (ci >= g->ir->n_chains || g->chain_used[ci])
		return;
	g->chain_used[ci] = true;
	c = &g->ir->chains[ci];
	for (i = 0; i < c->n_rules; i++) {
		const struct bf_rule *r = &c->rules[i];
		uint32_t k;

		if (r->verdict == BF_V_JUMP || r->verdict == BF_V_GOTO)
			bf_gen_reach(g, r->target);
		for (k = 0; k < r->n_preds; k++) {
			if (r->preds[k].field == BF_F_TCPOPT)
				g->uses_tcpopt = true;
			if (r->preds[k].field == BF_F_TTL)
				g->uses_ttl = true;
			if (r->preds[k].field == BF_F_PKTTYPE)
				g->uses_pkttype = true;
			if (r->preds[k].field == BF_F_SMAC)
				g->uses_smac = true;
			if (r->preds[k].field == BF_F_MARK)
				g->uses_mark = true;
			if (r->preds[k].field == BF_F_LIMIT)
				g->uses_limit = true;
			if (r->preds[k].field == BF_F_ADDRTYPE)
				g->uses_addrtype = true;
			if (r->preds[k].field == BF_F_ADDRTYPE6 &&
			    ((r->preds[k].lo | r->preds[k].hi) & BF_ADT6_LOOKUP))
				g->uses_addrtype6 = true;
			if (r->preds[k].field == BF_F_RT)
				g->uses_rt = true;
			if (r->preds[k].field == BF_F_CTSTATE)
				g->uses_ct = true;
			if (r->preds[k].field == BF_F_FRAG6 ||
			    r->preds[k].field == BF_F_OPTS6)
				bf_gen6_xh_add(g, &r->preds[k]);
		}
	}
}

/*
 * Call frames a call to chain `ci` needs (its own, its pieces', and the
 * deepest chain it jumps to); -ELOOP on a cycle.
 */
static int chain_depth(const struct bf_gen *g, uint32_t ci, uint8_t *state,
		       int *depth)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	int best = 0, d, ret;
	uint32_t i;

	if (state[ci] == 2)
		return depth[ci];
	if (state[ci] == 1)
		return -ELOOP;
	state[ci] = 1;
	for (i = 0; i < c->n_rules; i++) {
		const struct bf_rule *r = &c->rules[i];

		if (r->verdict != BF_V_JUMP && r->verdict != BF_V_GOTO)
			continue;
		if (r->target >= g->ir->n_chains)
			return -EINVAL;
		ret = chain_depth(g, r->target, state, depth);
		if (ret < 0)
			return ret;
		d = ret;
		if (d > best)
			best = d;
	}
	depth[ci] = 1 + (chain_pieces(g, c) > 1) + best;
	state[ci] = 2;
	return depth[ci];
}

/* Deepest frame (main = 1) at which chain `ci`'s function runs. */
static void chain_frames(const struct bf_gen *g, uint32_t ci, int frame,
			 int *entry)
{
	const struct bf_chain *c = &g->ir->chains[ci];
	int split = chain_pieces(g, c) > 1;
	uint32_t i;

	if (frame <= entry[ci] || frame > BF_MAX_FRAMES + 1)
		return;
	entry[ci] = frame;
	for (i = 0; i < c->n_rules; i++)
		if (c->rules[i].verdict == BF_V_JUMP ||
		    c->rules[i].verdict == BF_V_GOTO)
			chain_frames(g, c->rules[i].target, frame + split + 1,
				     entry);
}

/*
 * Loops are refused; every function must run within BPF's 8 call frames.
 * A chain whose counting call to bpfilter_count would need a ninth frame
 * counts inline instead (g->inline_count).
 */
int bf_gen_check_depth(struct bf_gen *g)
{
	uint32_t n = g->ir->n_chains, i;
	uint8_t *state = calloc(n ? n : 1, 1);
	int *depth = calloc(n ? n : 1, sizeof(int));
	int *entry = calloc(n ? n : 1, sizeof(int));
	int ret = 0, d, h, split;

	if (!state || !depth || !entry) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !ret; i++) {
		if (!g->chain_used[i])
			continue;
		d = chain_depth(g, i, state, depth);
		if (d == -ELOOP)
			ret = bf_err_set(g->err, -ELOOP,
					 "chain %s: jumps form a loop",
					 g->ir->chains[i].name);
		else if (d < 0)
			ret = bf_err_set(g->err, d, "chain %s: bad jump target",
					 g->ir->chains[i].name);
	}
	if (ret)
		goto out;
	for (h = 0; h < BF_NR_HOOKS; h++) {
		int32_t c = g->ir->hook_chain[h];

		if (c >= 0 && (uint32_t)c < n && g->chain_used[c])
			chain_frames(g, c, 2, entry);
	}
	for (i = 0; i < n && !ret; i++) {
		if (!g->chain_used[i])
			continue;
		split = chain_pieces(g, &g->ir->chains[i]) > 1;
		if (entry[i] + split > BF_MAX_FRAMES)
			ret = bf_err_set(g->err, -E2BIG,
					 "chain %s: reached through too many nested user chains: it needs BPF call frame %d, BPF allows %d (bpfilter_main, the built-in chain and 6 levels of user chains)",
					 g->ir->chains[i].name, entry[i] + split,
					 BF_MAX_FRAMES);
		g->inline_count[i] = entry[i] + split + 1 > BF_MAX_FRAMES;
	}
out:
	free(state);
	free(depth);
	free(entry);
	return ret;
}
