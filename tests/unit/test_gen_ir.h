/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand-built IR for codegen tests (unit tests and tests/tools/progtest.c).
 * Chains are added in blob order; tb_finish() numbers the entries the way
 * the xt front-end does (user chain: ERROR head, rules, RETURN; built-in:
 * rules, policy; final ERROR entry).
 */
#ifndef BF_TEST_GEN_IR_H
#define BF_TEST_GEN_IR_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpfilter/ir.h"

#define TB_MAX_CHAINS	16

static inline struct bf_ir *tb_new(void)
{
	struct bf_ir *ir = calloc(1, sizeof(*ir));
	int h;

	if (!ir)
		abort();
	ir->family = AF_INET;
	strcpy(ir->table, "filter");
	ir->chains = calloc(TB_MAX_CHAINS, sizeof(*ir->chains));
	ir->ifpats = calloc(256, sizeof(*ir->ifpats));
	if (!ir->chains || !ir->ifpats)
		abort();
	for (h = 0; h < BF_NR_HOOKS; h++)
		ir->hook_chain[h] = -1;
	return ir;
}

/* Returns the chain index. */
static inline uint32_t tb_chain(struct bf_ir *ir, const char *name, int hook,
				enum bf_verdict end, bool end_counts)
{
	struct bf_chain *c;

	if (ir->n_chains == TB_MAX_CHAINS)
		abort();
	c = &ir->chains[ir->n_chains];
	strncpy(c->name, name, sizeof(c->name) - 1);
	c->hook = hook;
	c->end = end;
	c->end_counts = end_counts;
	if (hook >= 0) {
		ir->hook_chain[hook] = ir->n_chains;
		ir->valid_hooks |= 1u << hook;
	}
	return ir->n_chains++;
}

static inline struct bf_rule *tb_rule(struct bf_ir *ir, uint32_t chain,
				      enum bf_verdict v, uint32_t target)
{
	struct bf_chain *c = &ir->chains[chain];
	struct bf_rule *r;

	c->rules = realloc(c->rules, (c->n_rules + 1) * sizeof(*c->rules));
	if (!c->rules)
		abort();
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	r->num = c->n_rules;
	r->verdict = v;
	r->target = target;
	return r;
}

static inline struct bf_pred *tb_pred(struct bf_rule *r, enum bf_field f,
				      bool inv, uint32_t value, uint32_t mask,
				      uint32_t lo, uint32_t hi, uint32_t flags)
{
	struct bf_pred *p;

	r->preds = realloc(r->preds, (r->n_preds + 1) * sizeof(*r->preds));
	if (!r->preds)
		abort();
	p = &r->preds[r->n_preds++];
	memset(p, 0, sizeof(*p));
	p->field = f;
	p->inv = inv;
	p->value = value;
	p->mask = mask;
	p->lo = lo;
	p->hi = hi;
	p->flags = flags;
	return p;
}

/* Device pattern: "eth0" exact, "eth+" prefix; returns its number. */
static inline uint32_t tb_ifpat(struct bf_ir *ir, const char *pat)
{
	struct bf_ifpat *p = &ir->ifpats[ir->n_ifpats];
	size_t n = strlen(pat), i;

	memset(p, 0, sizeof(*p));
	if (n && pat[n - 1] == '+') {
		n--;
		memcpy(p->name, pat, n);
		for (i = 0; i < n; i++)
			p->mask[i] = 0xff;
	} else {
		memcpy(p->name, pat, n);
		for (i = 0; i <= n && i < 16; i++)
			p->mask[i] = 0xff;
	}
	return ir->n_ifpats++;
}

static inline void tb_finish(struct bf_ir *ir)
{
	uint32_t idx = 0, i, k;

	for (i = 0; i < ir->n_chains; i++) {
		struct bf_chain *c = &ir->chains[i];

		if (c->hook < 0)
			c->head_index = idx++;
		for (k = 0; k < c->n_rules; k++)
			c->rules[k].index = idx++;
		c->end_index = idx++;
	}
	ir->n_entries = idx + 1;
}

static inline void tb_free(struct bf_ir *ir)
{
	uint32_t i, k, p;

	if (!ir)
		return;
	for (i = 0; i < ir->n_chains; i++) {
		for (k = 0; k < ir->chains[i].n_rules; k++) {
			struct bf_rule *r = &ir->chains[i].rules[k];

			for (p = 0; p < r->n_preds; p++)
				free(r->preds[p].text);
			free(r->preds);
		}
		free(ir->chains[i].rules);
	}
	free(ir->chains);
	free(ir->ifpats);
	free(ir);
}

#endif /* BF_TEST_GEN_IR_H */
