// SPDX-License-Identifier: GPL-2.0
/*
 * bf_prog_dump(): a disassembly in the spirit of bpftool's xlated dump,
 *     12: (bf) r6 = r1
 *     13: (85) call bpf_map_lookup_elem#1
 *     14: (15) if r0 == 0x0 goto pc+3 <L 18>
 * with map loads by name, calls to subprograms by function name, and the
 * generator's marks (rule boundaries) as "; ..." comment lines.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const char *dump_helper(int32_t id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem: return "bpf_map_lookup_elem";
	case BPF_FUNC_skb_load_bytes: return "bpf_skb_load_bytes";
	case BPF_FUNC_csum_diff: return "bpf_csum_diff";
	case BPF_FUNC_fib_lookup: return "bpf_fib_lookup";
	case BPF_FUNC_xdp_get_buff_len: return "bpf_xdp_get_buff_len";
	case BPF_FUNC_xdp_load_bytes: return "bpf_xdp_load_bytes";
	case BPF_FUNC_jiffies64: return "bpf_jiffies64";
	case BPF_FUNC_ringbuf_reserve: return "bpf_ringbuf_reserve";
	case BPF_FUNC_ringbuf_submit: return "bpf_ringbuf_submit";
	case BPF_FUNC_ringbuf_discard: return "bpf_ringbuf_discard";
	case BPF_FUNC_xdp_adjust_head: return "bpf_xdp_adjust_head";
	case BPF_FUNC_xdp_adjust_tail: return "bpf_xdp_adjust_tail";
	case BPF_FUNC_xdp_store_bytes: return "bpf_xdp_store_bytes";
	case BPF_FUNC_skb_change_tail: return "bpf_skb_change_tail";
	case BPF_FUNC_skb_store_bytes: return "bpf_skb_store_bytes";
	case BPF_FUNC_redirect: return "bpf_redirect";
	case BPF_FUNC_get_prandom_u32: return "bpf_get_prandom_u32";
	}
	return "helper";
}

static const char *dump_map(int32_t id)
{
	switch (id) {
	case BF_MAP_COUNTERS: return "bpfilter_cnt";
	case BF_MAP_IFBITS: return "bpfilter_ifb";
	case BF_MAP_TEST: return "bpfilter_tst";
	case BF_MAP_LIMIT: return "bpfilter_lim";
	case BF_MAP_ADDRTYPE: return "bpfilter_adt";
	case BF_MAP_LOG: return "bpfilter_log";
	case BF_MAP_SCRATCH: return "bpfilter_scr";
	case BF_MAP_ICMPCT: return "bpfilter_icq";
	case BF_MAP_ICMPRL: return "bpfilter_irl";
	case BF_MAP_ADDRTYPE6: return "bpfilter_ad6";
	}
	return "?";
}

static const char *dump_size(int size)
{
	switch (size) {
	case BPF_B: return "u8";
	case BPF_H: return "u16";
	case BPF_W: return "u32";
	}
	return "u64";
}

static const char *const alu_ops[16] = {
	[BPF_ADD >> 4] = "+=", [BPF_SUB >> 4] = "-=", [BPF_MUL >> 4] = "*=",
	[BPF_DIV >> 4] = "/=", [BPF_OR >> 4] = "|=", [BPF_AND >> 4] = "&=",
	[BPF_LSH >> 4] = "<<=", [BPF_RSH >> 4] = ">>=", [BPF_MOD >> 4] = "%=",
	[BPF_XOR >> 4] = "^=", [BPF_MOV >> 4] = "=", [BPF_ARSH >> 4] = "s>>=",
};

static const char *const jmp_ops[16] = {
	[BPF_JEQ >> 4] = "==", [BPF_JGT >> 4] = ">", [BPF_JGE >> 4] = ">=",
	[BPF_JSET >> 4] = "&", [BPF_JNE >> 4] = "!=", [BPF_JSGT >> 4] = "s>",
	[BPF_JSGE >> 4] = "s>=", [BPF_JLT >> 4] = "<", [BPF_JLE >> 4] = "<=",
	[BPF_JSLT >> 4] = "s<", [BPF_JSLE >> 4] = "s<=",
};

static const char *dump_func_at(const struct bf_prog *prog, uint32_t insn)
{
	uint32_t i;

	for (i = 0; i < prog->n_funcs; i++)
		if (prog->funcs[i].insn == insn)
			return prog->funcs[i].name;
	return "?";
}

static void dump_alu(const struct bpf_insn *in, char *buf, size_t len)
{
	bool is64 = BPF_CLASS(in->code) == BPF_ALU64;
	char r = is64 ? 'r' : 'w';
	const char *op = alu_ops[BPF_OP(in->code) >> 4];

	if (BPF_OP(in->code) == BPF_END) {
		snprintf(buf, len, "r%d = %s%d r%d",
			 in->dst_reg, BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le",
			 in->imm, in->dst_reg);
	} else if (BPF_OP(in->code) == BPF_NEG) {
		snprintf(buf, len, "%c%d = -%c%d", r, in->dst_reg, r,
			 in->dst_reg);
	} else if (BPF_SRC(in->code) == BPF_X) {
		snprintf(buf, len, "%c%d %s %c%d", r, in->dst_reg,
			 op ? op : "?", r, in->src_reg);
	} else {
		snprintf(buf, len, "%c%d %s %d", r, in->dst_reg,
			 op ? op : "?", in->imm);
	}
}

static void dump_jmp(const struct bf_prog *prog, uint32_t pc,
		     const struct bpf_insn *in, char *buf, size_t len)
{
	char r = BPF_CLASS(in->code) == BPF_JMP32 ? 'w' : 'r';
	uint32_t target = pc + 1 + in->off;
	int op = BPF_OP(in->code);

	if (op == BPF_EXIT) {
		snprintf(buf, len, "exit");
	} else if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL) {
		snprintf(buf, len, "call pc%+d <%s>", in->imm,
			 dump_func_at(prog, pc + 1 + in->imm));
	} else if (op == BPF_CALL) {
		snprintf(buf, len, "call %s#%d", dump_helper(in->imm), in->imm);
	} else if (op == BPF_JA) {
		snprintf(buf, len, "goto pc%+d <L %u>", in->off, target);
	} else if (BPF_SRC(in->code) == BPF_X) {
		snprintf(buf, len, "if %c%d %s %c%d goto pc%+d <L %u>", r,
			 in->dst_reg, jmp_ops[op >> 4] ? jmp_ops[op >> 4] : "?",
			 r, in->src_reg, in->off, target);
	} else {
		snprintf(buf, len, "if %c%d %s 0x%x goto pc%+d <L %u>", r,
			 in->dst_reg, jmp_ops[op >> 4] ? jmp_ops[op >> 4] : "?",
			 (uint32_t)in->imm, in->off, target);
	}
}

/* Returns the number of instructions consumed (2 for LD_IMM64). */
static int dump_insn(const struct bf_prog *prog, uint32_t pc, char *buf,
		     size_t len)
{
	const struct bpf_insn *in = &prog->insns[pc];
	int sz = BPF_SIZE(in->code);

	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		dump_alu(in, buf, len);
		return 1;
	case BPF_JMP:
	case BPF_JMP32:
		dump_jmp(prog, pc, in, buf, len);
		return 1;
	case BPF_LDX:
		snprintf(buf, len, "r%d = *(%s *)(r%d %+d)", in->dst_reg,
			 dump_size(sz), in->src_reg, in->off);
		return 1;
	case BPF_STX:
		if (BPF_MODE(in->code) == BPF_ATOMIC && in->imm == BPF_XCHG) {
			snprintf(buf, len, "r%d = atomic_xchg((%s *)(r%d %+d), r%d)",
				 in->src_reg, dump_size(sz), in->dst_reg, in->off,
				 in->src_reg);
			return 1;
		}
		if (BPF_MODE(in->code) == BPF_ATOMIC && in->imm == BPF_CMPXCHG) {
			snprintf(buf, len, "r0 = atomic_cmpxchg((%s *)(r%d %+d), r0, r%d)",
				 dump_size(sz), in->dst_reg, in->off, in->src_reg);
			return 1;
		}
		snprintf(buf, len, "*(%s *)(r%d %+d) = r%d", dump_size(sz),
			 in->dst_reg, in->off, in->src_reg);
		return 1;
	case BPF_ST:
		snprintf(buf, len, "*(%s *)(r%d %+d) = %d", dump_size(sz),
			 in->dst_reg, in->off, in->imm);
		return 1;
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_DW | BPF_IMM) &&
		    pc + 1 < prog->n_insns) {
			if (in->src_reg == BPF_PSEUDO_MAP_FD)
				snprintf(buf, len, "r%d = map[%s]", in->dst_reg,
					 dump_map(in->imm));
			else
				snprintf(buf, len, "r%d = 0x%llx", in->dst_reg,
					 (unsigned long long)(uint32_t)in->imm |
					 ((unsigned long long)(uint32_t)in[1].imm << 32));
			return 2;
		}
		break;
	}
	snprintf(buf, len, "unknown opcode 0x%02x", in->code);
	return 1;
}

void bf_prog_dump(const struct bf_prog *prog,
		  void (*out)(void *ctx, const char *line), void *ctx)
{
	uint32_t pc = 0, m = 0, f = 0;
	char line[640], text[512];
	int n;

	while (pc < prog->n_insns) {
		for (; f < prog->n_funcs && prog->funcs[f].insn <= pc; f++) {
			snprintf(line, sizeof(line), "%s:", prog->funcs[f].name);
			out(ctx, line);
		}
		for (; m < prog->n_marks && prog->marks[m].insn <= pc; m++) {
			snprintf(line, sizeof(line), "; %s", prog->marks[m].text);
			out(ctx, line);
		}
		n = dump_insn(prog, pc, text, sizeof(text));
		snprintf(line, sizeof(line), "%5u: (%02x) %s", pc,
			 prog->insns[pc].code, text);
		out(ctx, line);
		pc += n;
	}
}
