// SPDX-License-Identifier: GPL-2.0
/* The BPF emitter: buffer, labels, fixups, marks. See emit.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

void bf_emit_init(struct bf_emit *e)
{
	memset(e, 0, sizeof(*e));
	e->last_bound = BF_LABEL_UNBOUND;
}

void bf_emit_free(struct bf_emit *e)
{
	uint32_t i;

	for (i = 0; i < e->n_marks; i++)
		free(e->marks[i].text);
	free(e->insns);
	free(e->labels);
	free(e->label_refs);
	free(e->fixups);
	free(e->marks);
	free(e->funcs);
	free(e->relocs);
	memset(e, 0, sizeof(*e));
}

void bf_emit_fail(struct bf_emit *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e->err)
		return;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof(e->errmsg), fmt, ap);
	va_end(ap);
}

/* Make room for one more element of `size` bytes in *arr; false on error. */
static bool emit_grow(struct bf_emit *e, void **arr, uint32_t n, uint32_t *cap,
		      size_t size)
{
	uint32_t ncap;
	void *p;

	if (e->err)
		return false;
	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, (size_t)ncap * size);
	if (!p) {
		bf_emit_fail(e, -ENOMEM, "out of memory");
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

uint32_t bf_emit(struct bf_emit *e, struct bpf_insn insn)
{
	if (!emit_grow(e, (void **)&e->insns, e->n_insns, &e->cap_insns,
		       sizeof(insn)))
		return e->n_insns;
	e->insns[e->n_insns] = insn;
	return e->n_insns++;
}

void bf_emit_ld_imm64(struct bf_emit *e, int reg, uint64_t imm)
{
	bf_emit(e, BPF_LD_IMM64_RAW_LO(reg, 0, imm));
	bf_emit(e, BPF_LD_IMM64_RAW_HI(imm));
}

void bf_emit_ld_map(struct bf_emit *e, int reg, enum bf_map_id map)
{
	if (!emit_grow(e, (void **)&e->relocs, e->n_relocs, &e->cap_relocs,
		       sizeof(*e->relocs)))
		return;
	e->relocs[e->n_relocs].insn = e->n_insns;
	e->relocs[e->n_relocs].map = map;
	e->n_relocs++;
	/* imm is the map id until the loader puts the map fd there */
	bf_emit(e, BPF_LD_IMM64_RAW_LO(reg, BPF_PSEUDO_MAP_FD, map));
	bf_emit(e, BPF_LD_IMM64_RAW_HI(0));
}

uint32_t bf_label_new(struct bf_emit *e)
{
	if (!emit_grow(e, (void **)&e->labels, e->n_labels, &e->cap_labels,
		       sizeof(*e->labels)) ||
	    !emit_grow(e, (void **)&e->label_refs, e->n_labels, &e->cap_refs,
		       sizeof(*e->label_refs)))
		return 0;
	e->labels[e->n_labels] = BF_LABEL_UNBOUND;
	e->label_refs[e->n_labels] = 0;
	return e->n_labels++;
}

void bf_label_bind(struct bf_emit *e, uint32_t label)
{
	if (e->err)
		return;
	if (label >= e->n_labels || e->labels[label] != BF_LABEL_UNBOUND) {
		bf_emit_fail(e, -EINVAL, "label %u bound twice or unknown",
			     label);
		return;
	}
	e->labels[label] = e->n_insns;
	e->last_bound = e->n_insns;
}

bool bf_label_used(const struct bf_emit *e, uint32_t label)
{
	return label < e->n_labels && e->label_refs[label];
}

static void emit_fixup(struct bf_emit *e, uint32_t label, bool call)
{
	if (!e->err && label < e->n_labels)
		e->label_refs[label]++;
	if (!emit_grow(e, (void **)&e->fixups, e->n_fixups, &e->cap_fixups,
		       sizeof(*e->fixups)))
		return;
	e->fixups[e->n_fixups].insn = e->n_insns;
	e->fixups[e->n_fixups].label = label;
	e->fixups[e->n_fixups].call = call;
	e->n_fixups++;
}

void bf_emit_jmp(struct bf_emit *e, struct bpf_insn insn, uint32_t label)
{
	emit_fixup(e, label, false);
	bf_emit(e, insn);
}

void bf_emit_call(struct bf_emit *e, uint32_t label)
{
	emit_fixup(e, label, true);
	bf_emit(e, BPF_CALL_REL(0));
}

void bf_emit_func(struct bf_emit *e, const char *name)
{
	struct bf_func *f;

	if (!emit_grow(e, (void **)&e->funcs, e->n_funcs, &e->cap_funcs,
		       sizeof(*e->funcs)))
		return;
	f = &e->funcs[e->n_funcs++];
	*f = (struct bf_func){ .insn = e->n_insns };
	snprintf(f->name, sizeof(f->name), "%s", name);
}

void bf_emit_mark(struct bf_emit *e, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int ret;

	if (!emit_grow(e, (void **)&e->marks, e->n_marks, &e->cap_marks,
		       sizeof(*e->marks)))
		return;
	va_start(ap, fmt);
	ret = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		bf_emit_fail(e, -ENOMEM, "out of memory");
		return;
	}
	e->marks[e->n_marks].insn = e->n_insns;
	e->marks[e->n_marks].text = text;
	e->n_marks++;
}

static void emit_patch(struct bf_emit *e, const struct bf_fixup *f)
{
	uint32_t target = e->labels[f->label];
	int64_t off;

	if (target == BF_LABEL_UNBOUND) {
		bf_emit_fail(e, -EINVAL, "insn %u: jump to unbound label %u",
			     f->insn, f->label);
		return;
	}
	off = (int64_t)target - ((int64_t)f->insn + 1);
	if (f->call) {
		if (off < INT32_MIN || off > INT32_MAX) {
			bf_emit_fail(e, -E2BIG, "insn %u: call offset %lld does not fit in 32 bits",
				     f->insn, (long long)off);
			return;
		}
		e->insns[f->insn].imm = (int32_t)off;
		return;
	}
	if (off < INT16_MIN || off > INT16_MAX) {
		bf_emit_fail(e, -E2BIG, "insn %u: jump offset %lld does not fit in 16 bits",
			     f->insn, (long long)off);
		return;
	}
	e->insns[f->insn].off = (int16_t)off;
}

int bf_emit_finish(struct bf_emit *e)
{
	uint32_t i;

	bf_emit_dce(e);
	for (i = 0; i < e->n_fixups && !e->err; i++) {
		if (e->fixups[i].label >= e->n_labels) {
			bf_emit_fail(e, -EINVAL, "insn %u: unknown label %u",
				     e->fixups[i].insn, e->fixups[i].label);
			break;
		}
		emit_patch(e, &e->fixups[i]);
	}
	return e->err;
}

int bf_emit_to_prog(struct bf_emit *e, enum bf_hook hook,
		    struct bf_prog **progp)
{
	struct bf_prog *prog;

	if (e->err)
		return e->err;
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	prog->hook = hook;
	prog->insns = e->insns;
	prog->n_insns = e->n_insns;
	prog->funcs = e->funcs;
	prog->n_funcs = e->n_funcs;
	prog->marks = e->marks;
	prog->n_marks = e->n_marks;
	prog->relocs = e->relocs;
	prog->n_relocs = e->n_relocs;
	e->insns = NULL;
	e->funcs = NULL;
	e->marks = NULL;
	e->relocs = NULL;
	e->n_insns = e->n_funcs = e->n_marks = e->n_relocs = 0;
	bf_emit_free(e);
	*progp = prog;
	return 0;
}
