// SPDX-License-Identifier: GPL-2.0
/*
 * Targets with side effects, emitted inline in a rule's hit block of a
 * chain or piece function (r6 = ctx, r7 = pkt; see gen.h), after its
 * counter:
 *
 * -j LOG: reserve a struct bf_logrec in the table's ring buffer
 *   (BF_MAP_LOG), fill it (rule, devices, mark, hook, level, flags, prefix
 *   as immediates, the Ethernet header at ingress, the first
 *   BF_LOGREC_CAP bytes of the datagram) and submit it; the packet then
 *   goes on with the next rule. A full ring loses the record (the kernel's
 *   printk can lose lines too); the verdict never depends on it. r8 holds
 *   the record (chain functions keep nothing else in r8).
 */
#include <errno.h>
#include <string.h>
#include <linux/netfilter.h>

#include "bpfilter/logrec.h"
#include "gen.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R6 BPF_REG_6
#define R7 BPF_REG_7
#define R8 BPF_REG_8

#define GEN_ETH_HLEN	14

static int gen_load_fn(const struct bf_gen *g)
{
	return g->opts.hook == BF_HOOK_XDP ? BPF_FUNC_xdp_load_bytes :
					     BPF_FUNC_skb_load_bytes;
}

/* The constant part of the record: rule, level, flags, prefix. */
static void gen_log_consts(struct bf_gen *g, const struct bf_rule *r)
{
	struct bf_emit *e = &g->e;
	char prefix[32] = { 0 };
	uint32_t w;
	int i;

	memcpy(prefix, r->log.prefix, strnlen(r->log.prefix, sizeof(r->log.prefix)));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_RULE, r->index));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_LEVEL, r->log.level));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_FLAGS, r->log.flags));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_HASMAC,
			      g->opts.hook != BF_HOOK_TC_EGRESS));
	for (i = 0; i < 32; i += 4) {
		memcpy(&w, prefix + i, 4);
		bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_PREFIX + i, (int32_t)w));
	}
}

/* Devices, hook, mark and lengths from pkt and ctx. */
static void gen_log_pkt(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_IIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_IIF));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_OIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_OIF));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
	bf_emit(e, BPF_STX_MEM(BPF_B, R8, R1, BF_LOGREC_OFF_HOOK));
	if (g->opts.hook == BF_HOOK_XDP) {
		bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_MARK, 0));
	} else {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, offsetof(struct __sk_buff, mark)));
		bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_MARK));
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_LEN));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, BF_LOGREC_OFF_TOTLEN));
}

/* mac[] = the Ethernet header (ingress) or zeroes; r0 != 0 on failure. */
static void gen_log_mac(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, BF_LOGREC_OFF_MAC, 0));
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, BF_LOGREC_OFF_MAC + 8, 0));
	if (g->opts.hook == BF_HOOK_TC_EGRESS) {
		bf_emit(e, BPF_MOV64_IMM(R0, 0));
		return;
	}
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, BF_LOGREC_OFF_MAC));
	bf_emit(e, BPF_MOV64_IMM(R4, GEN_ETH_HLEN));
	bf_emit(e, BPF_EMIT_CALL(gen_load_fn(g)));
}

/* data[] = min(totlen, CAP) bytes from the IPv4 header; r0 != 0 on failure. */
static void gen_log_data(struct bf_gen *g, uint32_t fail)
{
	struct bf_emit *e = &g->e;
	uint32_t ok = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R4, R7, BF_PKT_LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R4, BF_LOGREC_CAP, 0), ok);
	bf_emit(e, BPF_MOV64_IMM(R4, BF_LOGREC_CAP));
	bf_label_bind(e, ok);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R4, 1, 0), fail);
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R4, BF_LOGREC_OFF_CAPLEN));
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L3OFF));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, BF_LOGREC_OFF_DATA));
	bf_emit(e, BPF_EMIT_CALL(gen_load_fn(g)));
}

int bf_gen_log(struct bf_gen *g, const struct bf_rule *r)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), fail = bf_label_new(e);

	if (r->log.level >= 8)
		return -EINVAL;
	bf_emit_ld_map(e, R1, BF_MAP_LOG);
	bf_emit(e, BPF_MOV64_IMM(R2, BF_LOGREC_SIZE));
	bf_emit(e, BPF_MOV64_IMM(R3, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_reserve));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), done);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	gen_log_consts(g, r);
	gen_log_pkt(g);
	gen_log_mac(g);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	gen_log_data(g, fail);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_submit));
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, fail);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_discard));
	bf_label_bind(e, done);
	return 0;
}

int bf_gen_reject(struct bf_gen *g, const struct bf_rule *r, const char *chain)
{
	return bf_err_set(g->err, -EOPNOTSUPP,
			  "chain %s rule %u: REJECT (--reject-with %u) is not implemented yet",
			  chain, r->num, r->reject_with);
}
