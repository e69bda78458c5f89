// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_xt: bytes as an IPT_SO_SET_REPLACE buffer -> bf_xt4_translate(),
 * or after a leading '6' as an IP6T_SO_SET_REPLACE buffer ->
 * bf_xt6_translate() (fz_family()). A refusal is a negative errno with a
 * message. When it succeeds: every rule's text (bf_ir_rule_str()'s
 * snprintf contract), then bf_xt{4,6}_from_ir() and a second translation,
 * which must succeed and give the same IR text, and serialise to the same
 * blob, byte for byte.
 */
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return 0;
}

static struct ipt_replace *fx_rebuild(const struct ipt_replace *orig,
				      const void *blob, uint32_t size,
				      uint32_t n, const uint32_t *he,
				      const uint32_t *uf, size_t *lenp)
{
	struct ipt_replace *r = calloc(1, sizeof(*r) + size);

	if (!r)
		abort();
	memcpy(r, orig, sizeof(*r));
	r->size = size;
	r->num_entries = n;
	memcpy(r->hook_entry, he, sizeof(r->hook_entry));
	memcpy(r->underflow, uf, sizeof(r->underflow));
	memcpy(r->entries, blob, size);
	*lenp = sizeof(*r) + size;
	return r;
}

static void fx_round_trip(const struct fz_fam *fam,
			  const struct ipt_replace *repl, const struct bf_ir *ir)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	uint32_t size2, n2, he2[BF_NR_HOOKS], uf2[BF_NR_HOOKS];
	struct bf_err err = { 0 };
	struct ipt_replace *again;
	struct bf_ir *ir2 = NULL;
	void *blob, *blob2;
	char *t1, *t2;
	size_t len;
	int ret;

	t1 = fz_ir_text(ir);
	ret = fam->from_ir(ir, &blob, &size, &n, he, uf);
	if (ret)
		fz_fail("%s from_ir: %d on an IR the front-end built:\n%s",
			fam->name, ret, t1);
	if (n != ir->n_entries)
		fz_fail("%s from_ir: %u entries, IR has %u", fam->name, n,
			ir->n_entries);
	again = fx_rebuild(repl, blob, size, n, he, uf, &len);
	ret = fam->translate(again, len, &ir2, &err);
	if (ret)
		fz_fail("%s: re-translation of from_ir's blob: %d (%s)\nIR:\n%s",
			fam->name, ret, err.msg, t1);
	t2 = fz_ir_text(ir2);
	if (strcmp(t1, t2))
		fz_fail("%s: round trip changed the IR\nbefore:\n%s\nafter:\n%s",
			fam->name, t1, t2);
	ret = fam->from_ir(ir2, &blob2, &size2, &n2, he2, uf2);
	if (ret || size2 != size || n2 != n || memcmp(blob, blob2, size) ||
	    memcmp(he, he2, sizeof(he)) || memcmp(uf, uf2, sizeof(uf)))
		fz_fail("%s from_ir is not stable (ret %d, size %u/%u)\n%s",
			fam->name, ret, size, size2, t1);
	free(blob2);
	free(t2);
	bf_ir_free(ir2);
	free(again);
	free(blob);
	free(t1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct fz_fam *fam = fz_family(&data, &len);
	struct ipt_replace *repl = fz_copy(data, len);
	struct bf_err err = { 0 };
	struct bf_ir *ir = NULL;

	if (!fz_translate(fam, repl, len, &ir, &err))
		fx_round_trip(fam, repl, ir);
	bf_ir_free(ir);
	bf_err_clear(&err);
	free(repl);
	return 0;
}
