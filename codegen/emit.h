/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF emitter: an instruction buffer with labels and fixups, marks
 * (rule boundaries for dumps), function starts (for BTF func info) and map
 * relocations.
 *
 * Every emit function records the first error (allocation failure, a jump
 * whose offset does not fit in 16 bits, a call whose offset does not fit in
 * 32 bits, an unbound label) in e->err and becomes a no-op afterwards;
 * callers check once, in bf_emit_finish(), as libbpf's gen_loader does.
 * Jump offsets are never counted by hand: jump to a label, bind the label
 * where it belongs, and bf_emit_finish() patches the offsets.
 */
#ifndef BF_EMIT_H
#define BF_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "bpfilter/codegen.h"
#include "insn.h"

struct bf_fixup {
	uint32_t insn;
	uint32_t label;
	bool call;		/* BPF_PSEUDO_CALL: patch imm (s32), else off (s16) */
};

struct bf_emit {
	struct bpf_insn *insns;
	uint32_t n_insns, cap_insns;
	uint32_t *labels;	/* label -> insn, BF_LABEL_UNBOUND */
	uint32_t *label_refs;	/* label -> number of jumps/calls to it */
	uint32_t n_labels, cap_labels, cap_refs;
	struct bf_fixup *fixups;
	uint32_t n_fixups, cap_fixups;
	struct bf_mark *marks;
	uint32_t n_marks, cap_marks;
	struct bf_func *funcs;
	uint32_t n_funcs, cap_funcs;
	struct bf_map_reloc *relocs;
	uint32_t n_relocs, cap_relocs;
	uint32_t last_bound;	/* insn where the latest label was bound */
	int err;		/* first error, 0 or -errno */
	char errmsg[160];
};

#define BF_LABEL_UNBOUND	UINT32_MAX

void bf_emit_init(struct bf_emit *e);
void bf_emit_free(struct bf_emit *e);

/* Append one instruction; returns its index. */
uint32_t bf_emit(struct bf_emit *e, struct bpf_insn insn);
/* Two-instruction loads. */
void bf_emit_ld_imm64(struct bf_emit *e, int reg, uint64_t imm);
void bf_emit_ld_map(struct bf_emit *e, int reg, enum bf_map_id map);

uint32_t bf_label_new(struct bf_emit *e);
void bf_label_bind(struct bf_emit *e, uint32_t label);
/* Has anything jumped to `label` so far? (The verifier refuses dead code.) */
bool bf_label_used(const struct bf_emit *e, uint32_t label);
/* A conditional or unconditional jump (off is patched) to `label`. */
void bf_emit_jmp(struct bf_emit *e, struct bpf_insn insn, uint32_t label);
/* A BPF-to-BPF call to the function starting at `label`. */
void bf_emit_call(struct bf_emit *e, uint32_t label);

/* A function starts at the next instruction. */
void bf_emit_func(struct bf_emit *e, const char *name);
/* A mark (rule boundary) before the next instruction. */
void bf_emit_mark(struct bf_emit *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record an error by hand (the generator's own checks). */
void bf_emit_fail(struct bf_emit *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Drop instructions no path from a function start reaches (the verifier
 * refuses them); renumbers labels, fixups, funcs, marks and relocations.
 * Called by bf_emit_finish().
 */
int bf_emit_dce(struct bf_emit *e);
/* Drop dead code, then patch every fixup; returns e->err. */
int bf_emit_finish(struct bf_emit *e);

/* Move the result into a struct bf_prog (the emitter is left empty). */
int bf_emit_to_prog(struct bf_emit *e, enum bf_hook hook,
		    struct bf_prog **progp);

#endif /* BF_EMIT_H */
