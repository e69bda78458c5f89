// SPDX-License-Identifier: GPL-2.0
/*
 * Dead-code elimination for the emitter, run by bf_emit_finish() before the
 * fixups are patched. The verifier refuses unreachable instructions, and a
 * rule set makes them naturally: rules after an unconditional ACCEPT, a
 * chain end after an unconditional RETURN, a predicate that is always false.
 * Rather than special-casing each in the generator, walk the control flow
 * from every function start and drop what no path reaches. Labels, fixups,
 * hand-counted jumps, function starts, marks and map relocations are
 * renumbered; a label or mark on a dropped instruction moves to the next
 * kept one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

struct dce {
	struct bf_emit *e;
	int32_t *target;	/* insn -> jump/call target, -1 if none */
	uint8_t *live;
	uint32_t *stack;
	uint32_t n_stack;
	uint32_t *newidx;	/* old insn (0..n) -> new insn */
};

static bool dce_is_ldimm64(const struct bpf_insn *insn)
{
	return insn->code == (BPF_LD | BPF_IMM | BPF_DW);
}

static bool dce_is_jmp(const struct bpf_insn *insn)
{
	uint8_t cls = BPF_CLASS(insn->code);

	return cls == BPF_JMP || cls == BPF_JMP32;
}

static bool dce_is_pseudo_call(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) &&
	       insn->src_reg == BPF_PSEUDO_CALL;
}

/* Jump and call targets: from the fixups, else from the encoded offset. */
static void dce_targets(struct dce *d)
{
	struct bf_emit *e = d->e;
	uint32_t i;

	for (i = 0; i < e->n_insns; i++) {
		const struct bpf_insn *insn = &e->insns[i];

		d->target[i] = -1;
		if (!dce_is_jmp(insn))
			continue;
		if (dce_is_pseudo_call(insn))
			d->target[i] = (int32_t)i + 1 + insn->imm;
		else if (BPF_OP(insn->code) != BPF_CALL &&
			 BPF_OP(insn->code) != BPF_EXIT)
			d->target[i] = (int32_t)i + 1 + insn->off;
	}
	for (i = 0; i < e->n_fixups; i++) {
		const struct bf_fixup *f = &e->fixups[i];

		d->target[f->insn] = (int32_t)e->labels[f->label];
	}
}

static void dce_push(struct dce *d, int64_t insn)
{
	if (insn < 0 || insn >= d->e->n_insns || d->live[insn])
		return;
	d->live[insn] = 1;
	d->stack[d->n_stack++] = (uint32_t)insn;
}

static void dce_walk(struct dce *d)
{
	struct bf_emit *e = d->e;

	/*
	 * From the entry point only, calls being edges: a function nothing
	 * calls any more (its callers were dead) must go too, or the
	 * verifier finds more func_info entries than subprograms.
	 */
	dce_push(d, 0);
	while (d->n_stack) {
		uint32_t at = d->stack[--d->n_stack];
		const struct bpf_insn *insn = &e->insns[at];

		if (dce_is_ldimm64(insn)) {
			if (at + 1 < e->n_insns)
				d->live[at + 1] = 1;
			dce_push(d, at + 2);
			continue;
		}
		if (!dce_is_jmp(insn)) {
			dce_push(d, at + 1);
			continue;
		}
		if (BPF_OP(insn->code) == BPF_EXIT)
			continue;
		dce_push(d, d->target[at]);
		if (!(BPF_OP(insn->code) == BPF_JA && BPF_CLASS(insn->code) == BPF_JMP))
			dce_push(d, at + 1);
	}
}

/*
 * Functions whose first instruction is dead were never called: drop them
 * and the marks inside them (funcs and marks are sorted by insn).
 */
static void dce_drop_dead_funcs(struct dce *d)
{
	struct bf_emit *e = d->e;
	uint32_t f, m = 0, nf = 0, nm = 0;

	for (f = 0; f < e->n_funcs; f++) {
		uint32_t start = e->funcs[f].insn;
		uint32_t end = f + 1 < e->n_funcs ? e->funcs[f + 1].insn :
			       e->n_insns;
		bool dead = start < e->n_insns && !d->live[start];

		for (; m < e->n_marks && e->marks[m].insn < end; m++) {
			if (dead && e->marks[m].insn >= start) {
				free(e->marks[m].text);
				continue;
			}
			e->marks[nm++] = e->marks[m];
		}
		if (!dead)
			e->funcs[nf++] = e->funcs[f];
	}
	for (; m < e->n_marks; m++)
		e->marks[nm++] = e->marks[m];
	e->n_funcs = nf;
	e->n_marks = nm;
}

static void dce_compact(struct dce *d)
{
	struct bf_emit *e = d->e;
	uint32_t i, n = 0;

	for (i = 0; i <= e->n_insns; i++) {
		d->newidx[i] = n;
		if (i < e->n_insns && d->live[i])
			n++;
	}
	/* re-encode hand-counted relative jumps and calls of kept insns */
	for (i = 0; i < e->n_insns; i++) {
		struct bpf_insn *insn = &e->insns[i];
		int64_t off;

		if (!d->live[i] || d->target[i] < 0)
			continue;
		off = (int64_t)d->newidx[d->target[i]] - d->newidx[i] - 1;
		if (dce_is_pseudo_call(insn))
			insn->imm = (int32_t)off;
		else
			insn->off = (int16_t)off;
	}
	for (i = 0, n = 0; i < e->n_insns; i++)
		if (d->live[i])
			e->insns[n++] = e->insns[i];
	for (i = 0; i < e->n_labels; i++)
		if (e->labels[i] != BF_LABEL_UNBOUND)
			e->labels[i] = d->newidx[e->labels[i]];
	for (i = 0, n = 0; i < e->n_fixups; i++) {
		if (!d->live[e->fixups[i].insn])
			continue;
		e->fixups[n] = e->fixups[i];
		e->fixups[n++].insn = d->newidx[e->fixups[i].insn];
	}
	e->n_fixups = n;
	dce_drop_dead_funcs(d);
	for (i = 0; i < e->n_funcs; i++)
		e->funcs[i].insn = d->newidx[e->funcs[i].insn];
	for (i = 0; i < e->n_marks; i++)
		e->marks[i].insn = d->newidx[e->marks[i].insn];
	/* a relocation belongs to its instruction: dropped with it */
	for (i = 0, n = 0; i < e->n_relocs; i++) {
		if (!d->live[e->relocs[i].insn])
			continue;
		e->relocs[n] = e->relocs[i];
		e->relocs[n++].insn = d->newidx[e->relocs[i].insn];
	}
	e->n_relocs = n;
	e->n_insns = d->newidx[e->n_insns];
}

int bf_emit_dce(struct bf_emit *e)
{
	struct dce d = { .e = e };
	uint32_t i;
	int ret = -ENOMEM;

	if (e->err || !e->n_insns)
		return e->err;
	for (i = 0; i < e->n_fixups; i++)
		if (e->fixups[i].label >= e->n_labels ||
		    e->labels[e->fixups[i].label] == BF_LABEL_UNBOUND)
			return 0;	/* bf_emit_finish() reports it */
	d.target = calloc(e->n_insns, sizeof(*d.target));
	d.live = calloc(e->n_insns, 1);
	d.stack = calloc(e->n_insns, sizeof(*d.stack));
	d.newidx = calloc(e->n_insns + 1, sizeof(*d.newidx));
	if (!d.target || !d.live || !d.stack || !d.newidx)
		goto out;
	dce_targets(&d);
	dce_walk(&d);
	dce_compact(&d);
	ret = 0;
out:
	free(d.target);
	free(d.live);
	free(d.stack);
	free(d.newidx);
	if (ret)
		bf_emit_fail(e, ret, "dead-code pass: out of memory");
	return ret;
}
