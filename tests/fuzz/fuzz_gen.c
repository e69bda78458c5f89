// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_gen: bytes as an IPT_SO_SET_REPLACE buffer -> bf_xt4_translate(),
 * or after a leading '6' (fz_family()) as an IP6T_SO_SET_REPLACE buffer
 * -> bf_xt6_translate(); then bf_gen() for XDP, tc ingress and tc egress,
 * each with force_hook -1, INPUT, FORWARD and OUTPUT, with the default
 * piece size and with one rule per piece -> bf_prog_dump(). Nothing is
 * loaded: generated programs are checked statically (fz_check_prog())
 * and must be of the table's family. bf_gen() may refuse a table (nesting
 * limits) but only with a message.
 */
#include <linux/netfilter.h>

#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return 0;
}

static void fg_one(const struct bf_ir *ir, enum bf_hook hook, int force,
		   uint32_t piece)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = hook,
				 .force_hook = force, .piece_rules = piece };
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	char what[64];
	size_t n = 0;
	int ret;

	snprintf(what, sizeof(what), "hook %d force %d piece %u", hook, force, piece);
	ret = bf_gen(ir, &o, &prog, &err);
	if (ret) {
		if (ret > 0 || prog || !err.msg[0])
			fz_fail("bf_gen %s: %d, prog %p, message '%s'", what, ret,
				(void *)prog, err.msg);
		bf_err_clear(&err);
		return;
	}
	fz_check_prog(prog, what);
	if ((prog->family ? prog->family : AF_INET) != ir->family)
		fz_fail("bf_gen %s: a program of family %d for a table of family %d",
			what, prog->family, ir->family);
	bf_prog_dump(prog, fz_dump_line, &n);
	if (!n)
		fz_fail("bf_prog_dump %s: no output", what);
	bf_prog_free(prog);
	bf_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int forces[] = {
		-1, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT,
	};
	static const enum bf_hook hooks[] = {
		BF_HOOK_XDP, BF_HOOK_TC_INGRESS, BF_HOOK_TC_EGRESS,
	};
	const struct fz_fam *fam = fz_family(&data, &len);
	struct ipt_replace *repl = fz_copy(data, len);
	struct bf_err err = { 0 };
	struct bf_ir *ir = NULL;
	unsigned int h, f;

	if (!fz_translate(fam, repl, len, &ir, &err)) {
		for (h = 0; h < 3; h++)
			for (f = 0; f < 4; f++) {
				fg_one(ir, hooks[h], forces[f], 0);
				fg_one(ir, hooks[h], forces[f], 1);
			}
	}
	bf_ir_free(ir);
	bf_err_clear(&err);
	free(repl);
	return 0;
}
