/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the libFuzzer harnesses in tests/fuzz/: a quiet log, the
 * family of an input, blob copies, a text form of a whole IR (for
 * round-trip comparisons) and a static sanity check of generated programs.
 *
 * Family: fuzz_xt, fuzz_gen and fuzz_load read an input that starts with
 * '6' as IPv6 (ip6_tables blobs, IPv6 packets) with the rest of the bytes
 * as their usual input; any other input is IPv4, whole (the IPv4 corpora
 * predate the prefix).
 *
 * A harness reports a bug with fz_fail(): the message on stderr, then
 * abort(), which libFuzzer turns into a crash file.
 */
#ifndef BF_FUZZ_UTIL_H
#define BF_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/bpf.h>

#include "bpfilter/codegen.h"
#include "bpfilter/log.h"

/* Set FUZZ_VERBOSE=1 in the environment to see bpfilter's own messages. */
static inline void fz_log_sink(enum bf_log_level level, const char *line)
{
	(void)level;
	(void)line;
}

static inline void fz_quiet(void)
{
	const char *v = getenv("FUZZ_VERBOSE");

	if (!v || !*v || *v == '0')
		bf_log_set_sink(fz_log_sink);
}

static inline void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ BUG: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/*
 * One family's front-end. struct ip6t_replace is laid out as struct
 * ipt_replace (only the entries differ), so the harnesses edit the header
 * of either through struct ipt_replace.
 */
_Static_assert(sizeof(struct ip6t_replace) == sizeof(struct ipt_replace) &&
	       offsetof(struct ip6t_replace, entries) ==
	       offsetof(struct ipt_replace, entries),
	       "ip6t_replace and ipt_replace share their header");

struct fz_fam {
	int family;		/* AF_INET, AF_INET6 */
	const char *name;	/* for messages */
	int (*translate)(void *repl, size_t len, struct bf_ir **irp,
			 struct bf_err *err);
	int (*from_ir)(const struct bf_ir *ir, void **blobp, uint32_t *sizep,
		       uint32_t *num_entries, uint32_t hook_entry[BF_NR_HOOKS],
		       uint32_t underflow[BF_NR_HOOKS]);
};

static inline int fz_xt4_translate(void *repl, size_t len, struct bf_ir **irp,
				   struct bf_err *err)
{
	return bf_xt4_translate(repl, len, irp, err);
}

static inline int fz_xt6_translate(void *repl, size_t len, struct bf_ir **irp,
				   struct bf_err *err)
{
	return bf_xt6_translate(repl, len, irp, err);
}

static const struct fz_fam fz_fam4 = {
	AF_INET, "ipv4", fz_xt4_translate, bf_xt4_from_ir,
};
static const struct fz_fam fz_fam6 = {
	AF_INET6, "ipv6", fz_xt6_translate, bf_xt6_from_ir,
};

/* The family of an input; a leading '6' is consumed. */
static inline const struct fz_fam *fz_family(const uint8_t **data, size_t *len)
{
	if (*len && (*data)[0] == '6') {
		(*data)++;
		(*len)--;
		return &fz_fam6;
	}
	return &fz_fam4;
}

/*
 * What translate() does with the input: it may refuse it, but only with a
 * negative errno, no IR and a message.
 */
static inline int fz_translate(const struct fz_fam *fam, void *repl, size_t len,
			       struct bf_ir **irp, struct bf_err *err)
{
	int ret;

	*irp = NULL;
	ret = fam->translate(repl, len, irp, err);
	if (ret && (ret > 0 || *irp || !err->msg[0]))
		fz_fail("bf_xt%c_translate: %d with ir %p, message '%s'",
			fam->family == AF_INET6 ? '6' : '4', ret, (void *)*irp,
			err->msg);
	if (!ret && (!*irp || (*irp)->family != fam->family))
		fz_fail("bf_xt%c_translate: 0 with ir %p of family %d",
			fam->family == AF_INET6 ? '6' : '4', (void *)*irp,
			*irp ? (*irp)->family : -1);
	return ret;
}

/* A malloc'ed (so aligned) copy of the input, as the umh would hold it. */
static inline struct ipt_replace *fz_copy(const uint8_t *data, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, data, len);
	return p;
}

/* A growing string. */
struct fz_str {
	char *s;
	size_t n, cap;
};

static inline void fz_put(struct fz_str *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void fz_put(struct fz_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, n + 1, fmt, ap);
	va_end(ap);
	b->n += n;
}

/*
 * One rule's text, checking bf_ir_rule_str()'s snprintf contract with a
 * short buffer and a big one.
 */
static inline void fz_rule_str(const struct bf_ir *ir, const struct bf_chain *c,
			       const struct bf_rule *r, struct fz_str *out)
{
	char small[24], big[4096];
	int n1, n2;

	memset(small, 0x5a, sizeof(small));
	n1 = bf_ir_rule_str(ir, c, r, small, 16);
	n2 = bf_ir_rule_str(ir, c, r, big, sizeof(big));
	if (n1 < 0 || n1 != n2)
		fz_fail("bf_ir_rule_str: %d with 16 bytes, %d with 4096", n1, n2);
	if ((size_t)n2 < sizeof(big) && strlen(big) != (size_t)n2)
		fz_fail("bf_ir_rule_str returned %d, wrote %zu: %s", n2, strlen(big), big);
	if (strlen(small) != (size_t)(n1 < 15 ? n1 : 15) || small[16] != 0x5a)
		fz_fail("bf_ir_rule_str overran or mis-terminated a 16-byte buffer");
	if (strncmp(small, big, strlen(small)))
		fz_fail("bf_ir_rule_str: short and long forms differ");
	fz_put(out, "%s\n", big);
}

/* The whole IR as text: header, chains, every rule. */
static inline char *fz_ir_text(const struct bf_ir *ir)
{
	struct fz_str out = { 0 };
	uint32_t i, k;

	fz_put(&out, "table %s family %d hooks 0x%x entries %u ifpats %u\n",
	       ir->table, ir->family, ir->valid_hooks, ir->n_entries,
	       ir->n_ifpats);
	for (i = 0; i < BF_NR_HOOKS; i++)
		fz_put(&out, "hook %u -> %d\n", i, ir->hook_chain[i]);
	for (i = 0; i < ir->n_ifpats; i++) {
		const struct bf_ifpat *p = &ir->ifpats[i];

		fz_put(&out, "ifpat %u %.16s/", i, p->name);
		for (k = 0; k < 16; k++)
			fz_put(&out, "%02x", p->mask[k]);
		fz_put(&out, "\n");
	}
	for (i = 0; i < ir->n_chains; i++) {
		const struct bf_chain *c = &ir->chains[i];

		fz_put(&out, "chain %u %s hook %d end %d@%u counts %d head %u rules %u\n",
		       i, c->name, c->hook, c->end, c->end_index, c->end_counts,
		       c->head_index, c->n_rules);
		for (k = 0; k < c->n_rules; k++)
			fz_rule_str(ir, c, &c->rules[k], &out);
	}
	return out.s;
}

static inline bool fz_is_jmp(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL &&
	       op != BPF_EXIT;
}

/*
 * What the verifier would refuse outright, checked without loading: jumps
 * and calls inside the program, functions and marks in range and sorted,
 * relocations on the first half of a BPF_LD_IMM64, a last insn that ends
 * the program.
 */
static inline void fz_check_prog(const struct bf_prog *p, const char *what)
{
	uint32_t i;

	if (!p->n_insns || !p->n_funcs || p->funcs[0].insn != 0)
		fz_fail("%s: %u insns, %u funcs, first func at %u", what,
			p->n_insns, p->n_funcs, p->n_funcs ? p->funcs[0].insn : 0);
	for (i = 1; i < p->n_funcs; i++)
		if (p->funcs[i].insn <= p->funcs[i - 1].insn ||
		    p->funcs[i].insn >= p->n_insns)
			fz_fail("%s: func %u (%s) at insn %u", what, i,
				p->funcs[i].name, p->funcs[i].insn);
	for (i = 0; i < p->n_marks; i++)
		if (p->marks[i].insn > p->n_insns ||
		    (i && p->marks[i].insn < p->marks[i - 1].insn) ||
		    !p->marks[i].text)
			fz_fail("%s: mark %u at insn %u out of order", what, i,
				p->marks[i].insn);
	for (i = 0; i < p->n_relocs; i++) {
		uint32_t at = p->relocs[i].insn;

		if (at + 1 >= p->n_insns ||
		    p->insns[at].code != (BPF_LD | BPF_DW | BPF_IMM) ||
		    p->insns[at].src_reg != BPF_PSEUDO_MAP_FD ||
		    (unsigned int)p->relocs[i].map >= BF_MAP_NR)
			fz_fail("%s: reloc %u at insn %u is not a map load", what,
				i, at);
	}
	for (i = 0; i < p->n_insns; i++) {
		const struct bpf_insn *in = &p->insns[i];
		int64_t to;

		if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			i++;
			continue;
		}
		if (fz_is_jmp(in) || (in->code == (BPF_JMP | BPF_CALL) &&
				      in->src_reg == BPF_PSEUDO_CALL)) {
			to = (int64_t)i + 1 + (in->code == (BPF_JMP | BPF_CALL) ?
					       in->imm : in->off);
			if (to < 0 || to >= p->n_insns)
				fz_fail("%s: insn %u jumps to %lld of %u", what,
					i, (long long)to, p->n_insns);
		}
	}
	i = p->n_insns - 1;
	if (p->insns[i].code != (BPF_JMP | BPF_EXIT) &&
	    !(BPF_CLASS(p->insns[i].code) == BPF_JMP &&
	      BPF_OP(p->insns[i].code) == BPF_JA))
		fz_fail("%s: last insn %u (code 0x%02x) falls off the end", what,
			i, p->insns[i].code);
}

static inline void fz_dump_line(void *ctx, const char *line)
{
	size_t *n = ctx;

	*n += strlen(line) + 1;
}

#endif /* BF_FUZZ_UTIL_H */
