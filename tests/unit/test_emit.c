// SPDX-License-Identifier: GPL-2.0
/* The emitter: labels, fixups, offset limits, first-error recording. */
#include <errno.h>

#include "unit.h"
#include "emit.h"

START_TEST(forward_label)
{
	struct bf_emit e;
	uint32_t l;

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_emit_jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0), l);
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 1));
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 2));
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 3));
	bf_label_bind(&e, l);
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_label_used(&e, l), 1);
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_int_eq(e.insns[0].off, 3);
	ck_assert_int_eq(e.insns[0].code, BPF_JMP | BPF_JEQ | BPF_K);
	bf_emit_free(&e);
}
END_TEST

START_TEST(backward_label_and_call)
{
	struct bf_emit e;
	uint32_t top, fn;

	bf_emit_init(&e);
	top = bf_label_new(&e);
	fn = bf_label_new(&e);
	ck_assert_int_eq(bf_label_used(&e, fn), 0);
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_label_bind(&e, top);
	bf_emit(&e, BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1));	/* 1 */
	bf_emit_call(&e, fn);					/* 2 */
	bf_emit_jmp(&e, BPF_JMP_IMM(BPF_JGT, BPF_REG_0, 9, 0), top); /* 3 */
	bf_emit(&e, BPF_EXIT_INSN());				/* 4 */
	bf_label_bind(&e, fn);
	bf_emit(&e, BPF_EXIT_INSN());				/* 5 */
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_int_eq(e.insns[3].off, -3);
	ck_assert_int_eq(e.insns[2].imm, 2);
	ck_assert_int_eq(e.insns[2].src_reg, BPF_PSEUDO_CALL);
	bf_emit_free(&e);
}
END_TEST

START_TEST(offset_too_far)
{
	struct bf_emit e;
	uint32_t l, i;

	bf_emit_init(&e);
	l = bf_label_new(&e);
	/* conditional: the dead-code pass must keep what it jumps over */
	bf_emit_jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0), l);
	for (i = 0; i < 32767; i++)
		bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_label_bind(&e, l);
	bf_emit(&e, BPF_EXIT_INSN());
	/* exactly 32767 fits */
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_int_eq(e.insns[0].off, 32767);
	bf_emit_free(&e);

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_emit_jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0), l);
	for (i = 0; i < 32768; i++)
		bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_label_bind(&e, l);
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_emit_finish(&e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.errmsg, "16 bits"));
	bf_emit_free(&e);
}
END_TEST

START_TEST(far_backward)
{
	struct bf_emit e;
	uint32_t l, i;

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_label_bind(&e, l);
	for (i = 0; i < 40000; i++)
		bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	/* a call that far is fine: 32-bit imm */
	bf_emit_call(&e, l);
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_int_eq(e.insns[40000].imm, -40001);
	bf_emit_free(&e);

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_label_bind(&e, l);
	for (i = 0; i < 40000; i++)
		bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_emit_jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0), l);
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_emit_finish(&e), -E2BIG);
	bf_emit_free(&e);
}
END_TEST

START_TEST(unbound_and_double_bind)
{
	struct bf_emit e;
	uint32_t l;

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_emit_jmp(&e, BPF_JMP_A(0), l);
	ck_assert_int_eq(bf_emit_finish(&e), -EINVAL);
	bf_emit_free(&e);

	bf_emit_init(&e);
	l = bf_label_new(&e);
	bf_label_bind(&e, l);
	bf_label_bind(&e, l);
	ck_assert_int_eq(e.err, -EINVAL);
	bf_emit_free(&e);
}
END_TEST

START_TEST(first_error_sticks)
{
	struct bf_emit e;
	uint32_t n;

	bf_emit_init(&e);
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_emit_fail(&e, -ENOSPC, "first %d", 1);
	bf_emit_fail(&e, -EINVAL, "second");
	n = e.n_insns;
	bf_emit(&e, BPF_EXIT_INSN());
	bf_emit_mark(&e, "ignored");
	ck_assert_uint_eq(e.n_insns, n);
	ck_assert_uint_eq(e.n_marks, 0);
	ck_assert_int_eq(bf_emit_finish(&e), -ENOSPC);
	ck_assert_str_eq(e.errmsg, "first 1");
	bf_emit_free(&e);
}
END_TEST

START_TEST(map_reloc_and_prog)
{
	struct bf_prog *prog = NULL;
	struct bf_emit e;

	bf_emit_init(&e);
	bf_emit_func(&e, "f");
	bf_emit_mark(&e, "rule %d", 7);
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_emit_ld_map(&e, BPF_REG_1, BF_MAP_IFBITS);
	bf_emit_ld_imm64(&e, BPF_REG_2, 0x1122334455667788ull);
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_int_eq(bf_emit_to_prog(&e, BF_HOOK_TC_EGRESS, &prog), 0);
	ck_assert_uint_eq(prog->n_insns, 6);
	ck_assert_uint_eq(prog->n_relocs, 1);
	ck_assert_uint_eq(prog->relocs[0].insn, 1);
	ck_assert_int_eq(prog->relocs[0].map, BF_MAP_IFBITS);
	ck_assert_int_eq(prog->insns[1].src_reg, BPF_PSEUDO_MAP_FD);
	ck_assert_int_eq(prog->insns[3].imm, 0x55667788);
	ck_assert_int_eq(prog->insns[4].imm, 0x11223344);
	ck_assert_str_eq(prog->marks[0].text, "rule 7");
	ck_assert_str_eq(prog->funcs[0].name, "f");
	bf_prog_free(prog);
	bf_emit_free(&e);
}
END_TEST

START_TEST(dead_code_drops_relocs)
{
	struct bf_emit e;

	bf_emit_init(&e);
	bf_emit_func(&e, "f");
	bf_emit(&e, BPF_MOV64_IMM(BPF_REG_0, 0));
	bf_emit(&e, BPF_EXIT_INSN());
	bf_emit_mark(&e, "dead");
	bf_emit_ld_map(&e, BPF_REG_1, BF_MAP_COUNTERS);	/* unreachable */
	bf_emit(&e, BPF_EXIT_INSN());
	ck_assert_int_eq(bf_emit_finish(&e), 0);
	ck_assert_uint_eq(e.n_insns, 2);
	ck_assert_uint_eq(e.n_relocs, 0);
	bf_emit_free(&e);
}
END_TEST

static Suite *emit_suite(void)
{
	Suite *s = suite_create("codegen_emit");
	TCase *tc = tcase_create("emit");

	tcase_add_test(tc, forward_label);
	tcase_add_test(tc, backward_label_and_call);
	tcase_add_test(tc, offset_too_far);
	tcase_add_test(tc, far_backward);
	tcase_add_test(tc, unbound_and_double_bind);
	tcase_add_test(tc, first_error_sticks);
	tcase_add_test(tc, map_reloc_and_prog);
	tcase_add_test(tc, dead_code_drops_relocs);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(emit_suite);
