/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF instruction constructors, with the names and meanings the kernel uses
 * in its internal filter.h (the UAPI headers do not ship them). Each macro
 * is an expression of type struct bpf_insn; BPF_LD_IMM64 and BPF_LD_MAP_FD
 * are two instructions and are used through bf_emit_ld_imm64() and
 * bf_emit_ld_map() (codegen/emit.h), which take care of the second half.
 */
#ifndef BF_INSN_H
#define BF_INSN_H

#include <linux/bpf.h>

#define BF_INSN(c, d, s, o, i)						\
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s),\
			    .off = (o), .imm = (i) })

/* dst op= src / imm, 64 and 32 bit */
#define BPF_ALU64_REG(op, d, s)	BF_INSN(BPF_ALU64 | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define BPF_ALU64_IMM(op, d, i)	BF_INSN(BPF_ALU64 | BPF_OP(op) | BPF_K, d, 0, 0, i)
#define BPF_ALU32_REG(op, d, s)	BF_INSN(BPF_ALU | BPF_OP(op) | BPF_X, d, s, 0, 0)
#define BPF_ALU32_IMM(op, d, i)	BF_INSN(BPF_ALU | BPF_OP(op) | BPF_K, d, 0, 0, i)

#define BPF_MOV64_REG(d, s)	BF_INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define BPF_MOV64_IMM(d, i)	BF_INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define BPF_MOV32_REG(d, s)	BF_INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define BPF_MOV32_IMM(d, i)	BF_INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)

/* byte swap: BPF_ENDIAN(BPF_TO_BE, dst, 16|32|64) */
#define BPF_ENDIAN(t, d, bits)	BF_INSN(BPF_ALU | BPF_END | (t), d, 0, 0, bits)

/* dst = *(size *)(src + off); *(size *)(dst + off) = src / imm */
#define BPF_LDX_MEM(sz, d, s, o) BF_INSN(BPF_LDX | BPF_SIZE(sz) | BPF_MEM, d, s, o, 0)
#define BPF_STX_MEM(sz, d, s, o) BF_INSN(BPF_STX | BPF_SIZE(sz) | BPF_MEM, d, s, o, 0)
#define BPF_ST_MEM(sz, d, o, i)	BF_INSN(BPF_ST | BPF_SIZE(sz) | BPF_MEM, d, 0, o, i)

/* if (dst op src / imm) goto pc + off + 1 */
#define BPF_JMP_REG(op, d, s, o) BF_INSN(BPF_JMP | BPF_OP(op) | BPF_X, d, s, o, 0)
#define BPF_JMP_IMM(op, d, i, o) BF_INSN(BPF_JMP | BPF_OP(op) | BPF_K, d, 0, o, i)
#define BPF_JMP32_REG(op, d, s, o) BF_INSN(BPF_JMP32 | BPF_OP(op) | BPF_X, d, s, o, 0)
#define BPF_JMP32_IMM(op, d, i, o) BF_INSN(BPF_JMP32 | BPF_OP(op) | BPF_K, d, 0, o, i)
#define BPF_JMP_A(o)		BF_INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)

/* two-instruction 64-bit immediate load; src = BPF_PSEUDO_* for maps */
#define BPF_LD_IMM64_RAW_LO(d, s, i)					\
	BF_INSN(BPF_LD | BPF_DW | BPF_IMM, d, s, 0, (__s32)(__u32)(i))
#define BPF_LD_IMM64_RAW_HI(i)	BF_INSN(0, 0, 0, 0, (__s32)((__u64)(i) >> 32))

/* helper call by id; BPF-to-BPF call, imm = pc-relative offset */
#define BPF_EMIT_CALL(id)	BF_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define BPF_CALL_REL(i)		BF_INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, i)
#define BPF_EXIT_INSN()		BF_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif /* BF_INSN_H */
