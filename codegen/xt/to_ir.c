// SPDX-License-Identifier: GPL-2.0
/*
 * A validated filter blob to IR, with ipt_do_table()'s / ip6t_do_table()'s
 * semantics; the family's ip part is the descriptor's (ip4.c, ip6.c).
 *
 * bpfilter is stricter than ip_tables about the layout, because it turns
 * chains into functions; iptables (libiptc) always lays tables out this
 * way, so only hand-made blobs see these refusals (-EINVAL, with a
 * message):
 *   - built-in chains come first, in hook order, back to back: INPUT from
 *     entry 0 to its policy, FORWARD right after, then OUTPUT;
 *   - then user chains, each an unconditional ERROR entry (the name) and
 *     its rules; a chain whose last entry is an unconditional RETURN ends
 *     there (counted), any other falls into the next ERROR entry, which
 *     drops without counting, as ipt_error() does;
 *   - the table ends with an unconditional ERROR entry named "ERROR";
 *   - ERROR targets appear nowhere else;
 *   - a jump or goto targets the first entry of a user chain (the one
 *     right after its ERROR head), or the very next entry (libiptc's
 *     "no target" rule: BF_V_NEXT) - for unreachable rules too, which
 *     the kernel never looks at.
 * The QUEUE verdict is refused with -EOPNOTSUPP (no queue in BPF).
 * User chains may nest at most XT4_MAX_DEPTH levels below a built-in
 * chain (the BPF call stack: -E2BIG), and even unreachable chains may not
 * call each other in a loop (-ELOOP; the kernel only checks reachable
 * ones).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

#define XT4_MAX_DEPTH	6

struct xt4_tr {
	const struct xt4_blob *b;
	struct bf_ir *ir;
	int32_t *first_of;	/* entry index -> user chain starting there, -1 */
	uint32_t *first;	/* chain index -> first rule's entry index */
	struct bf_err *err;
};

static bool xt4_is_error_entry(const struct xt4_blob *b, uint32_t i)
{
	return xt4_is_error(xt4_target(b->fam, xt4_entry(b, i)));
}

/* The three built-in chains: back to back from entry 0, no ERROR inside. */
static int xt4_layout_builtins(struct xt4_tr *tr, uint32_t *next)
{
	const struct xt4_blob *b = tr->b;
	uint32_t at = 0, c = 0, i;
	int h;

	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		struct bf_chain *ch = &tr->ir->chains[c];
		int start, end;

		if (!(b->valid_hooks & (1U << h)))
			continue;
		start = xt4_index_of(b, b->hook_entry[h]);
		end = xt4_index_of(b, b->underflow[h]);
		if (start != (int)at || end < start)
			return bf_err_set(tr->err, -EINVAL, "chain %s: bpfilter needs built-in chains back to back from the start of the table",
					  xt4_hook_name(h));
		for (i = start; i < (uint32_t)end; i++) {
			if (xt4_is_error_entry(b, i))
				return bf_err_set(tr->err, -EINVAL, "%s: ERROR target inside a built-in chain",
						  xt4_where(b, i));
		}
		strcpy(ch->name, xt4_hook_name(h));
		ch->hook = h;
		ch->end = xt4_verdict(xt4_target(b->fam, xt4_entry(b, end))) == -NF_ACCEPT - 1 ?
			  BF_V_ACCEPT : BF_V_DROP;
		ch->end_index = end;
		ch->end_counts = true;
		ch->n_rules = end - start;
		tr->first[c] = start;
		tr->ir->hook_chain[h] = c;
		at = end + 1;
		c++;
	}
	*next = at;
	return 0;
}

/*
 * An unconditional standard RETURN, as the IR sees it (ip_ir_clean(): bits
 * the kernel never looks at make no predicate, so a RETURN carrying only
 * those must end its chain too, or a round trip turns the rule into the
 * chain's end; found by tests/fuzz/fuzz_xt): a user chain's end.
 */
static bool xt4_is_return_end(const struct xt4_blob *b, uint32_t i)
{
	const uint8_t *e = xt4_entry(b, i);
	const uint8_t *t = xt4_target(b->fam, e);

	return xt4_ir_unconditional(b->fam, e) && xt4_is_std(t) && xt4_verdict(t) == XT_RETURN;
}

/* User chain c from its ERROR head at entry i; *next = the next head. */
static int xt4_layout_user(struct xt4_tr *tr, uint32_t c, uint32_t i,
			   uint32_t *next)
{
	const struct xt4_blob *b = tr->b;
	struct bf_chain *ch = &tr->ir->chains[c];
	uint32_t j = i + 1;

	while (j < b->n && !xt4_is_error_entry(b, j))
		j++;
	memcpy(ch->name, xt4_errorname(xt4_target(b->fam, xt4_entry(b, i))),
	       XT_FUNCTION_MAXNAMELEN);
	ch->hook = BF_HOOK_NONE;
	ch->head_index = i;
	tr->first[c] = i + 1;
	tr->first_of[i + 1] = c;
	if (j > i + 1 && xt4_is_return_end(b, j - 1)) {
		ch->end = BF_V_RETURN;
		ch->end_index = j - 1;
		ch->end_counts = true;
		ch->n_rules = j - 1 - (i + 1);
	} else {
		/* Falls into the next ERROR entry: ipt_error() drops. */
		ch->end = BF_V_DROP;
		ch->end_index = j;
		ch->end_counts = false;
		ch->n_rules = j - (i + 1);
	}
	*next = j;
	return 0;
}

static int xt4_check_error_entries(const struct xt4_tr *tr, uint32_t from)
{
	const struct xt4_blob *b = tr->b;
	uint32_t i;

	if (from >= b->n || !xt4_is_error_entry(b, b->n - 1) ||
	    strcmp(xt4_errorname(xt4_target(b->fam, xt4_entry(b, b->n - 1))), XT_ERROR_TARGET))
		return bf_err_set(tr->err, -EINVAL, "bpfilter needs the table to end with an ERROR entry named \"ERROR\"");
	if (!xt4_is_error_entry(b, from))
		return bf_err_set(tr->err, -EINVAL, "%s: entries after the built-in chains must start with a user chain's ERROR head",
				  xt4_where(b, from));
	for (i = from; i < b->n; i++) {
		if (xt4_is_error_entry(b, i) && !xt4_unconditional(b->fam, xt4_entry(b, i)))
			return bf_err_set(tr->err, -EINVAL, "entry %u: bpfilter needs ERROR entries to be unconditional",
					  i);
	}
	return 0;
}

static uint32_t xt4_count_user_chains(const struct xt4_blob *b, uint32_t from)
{
	uint32_t i, n = 0;

	for (i = from; i + 1 < b->n; i++)
		n += xt4_is_error_entry(b, i);
	return n;
}

static int xt4_layout(struct xt4_tr *tr)
{
	const struct xt4_blob *b = tr->b;
	uint32_t at = 0, c, n_user, nb = __builtin_popcount(b->valid_hooks);
	int ret;

	/* Before the builtins are known to be sane, look only at the tail. */
	tr->ir->chains = xt4_calloc(nb, sizeof(struct bf_chain));
	tr->first = xt4_calloc(nb, sizeof(uint32_t));
	if (!tr->ir->chains || !tr->first)
		return bf_err_set(tr->err, -ENOMEM, "out of memory");
	tr->ir->n_chains = nb;
	ret = xt4_layout_builtins(tr, &at);
	if (ret)
		return ret;
	ret = xt4_check_error_entries(tr, at);
	if (ret)
		return ret;
	n_user = xt4_count_user_chains(b, at);
	if (n_user) {
		struct bf_chain *chains = xt4_realloc(tr->ir->chains, (nb + n_user) * sizeof(*chains));
		uint32_t *first = xt4_realloc(tr->first, (nb + n_user) * sizeof(*first));

		if (chains)
			tr->ir->chains = chains;
		if (first)
			tr->first = first;
		if (!chains || !first)
			return bf_err_set(tr->err, -ENOMEM, "out of memory");
		memset(chains + nb, 0, n_user * sizeof(*chains));
	}
	tr->ir->n_chains = nb + n_user;
	for (c = nb; c < nb + n_user; c++)
		xt4_layout_user(tr, c, at, &at);
	return 0;
}

static int xt4_ifpat(struct bf_ir *ir, const char *name,
		     const unsigned char *mask, uint32_t *idx)
{
	struct bf_ifpat pat, *n;
	uint32_t i;

	memcpy(pat.name, name, sizeof(pat.name));
	memcpy(pat.mask, mask, sizeof(pat.mask));
	for (i = 0; i < ir->n_ifpats; i++) {
		if (!memcmp(&ir->ifpats[i], &pat, sizeof(pat))) {
			*idx = i;
			return 0;
		}
	}
	n = xt4_realloc(ir->ifpats, (ir->n_ifpats + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ir->ifpats = n;
	ir->ifpats[ir->n_ifpats] = pat;
	*idx = ir->n_ifpats++;
	return 0;
}

int xt4_iface_to_ir(struct bf_ir *ir, struct xt4_rb *rb, enum bf_field f,
		    const char *name, const unsigned char *mask, bool inv)
{
	static const char zero[IFNAMSIZ];
	struct bf_pred *p;
	uint32_t idx;
	int ret;

	/* Kept with a non-empty name ("-i +"), so it round-trips. */
	if (!memcmp(name, zero, IFNAMSIZ) && !memcmp(mask, zero, IFNAMSIZ) && !inv)
		return 0;
	ret = xt4_ifpat(ir, name, mask, &idx);
	if (ret)
		return ret;
	p = xt4_rb_add(rb, f);
	if (!p)
		return -ENOMEM;
	p->value = idx;
	p->inv = inv;
	return 0;
}

static int xt4_matches_to_ir(const struct xt4_fam *f, struct xt4_rb *rb,
			     const uint8_t *e)
{
	const struct xt4_match_ops *ops;
	uint32_t pos;
	int ret;

	for (pos = f->entry_sz; pos < xt4_toff(f, e); pos += xt4_ext_size(e + pos)) {
		const uint8_t *m = e + pos;

		ret = xt4_match_find_fam(f->bit, xt4_ext_name(m), xt4_ext_rev(m), false, &ops);
		if (!ret)
			ret = ops->to_ir(rb, m + sizeof(struct xt_entry_match));
		if (ret)
			return ret;
		/*
		 * The kernel-private tail (usersize): read by to_ir, then
		 * zeroed as GET_ENTRIES shows it (the blob is the caller's).
		 */
		if (ops->user_size)
			memset((uint8_t *)m + sizeof(struct xt_entry_match) + ops->user_size,
			       0, ops->data_size - ops->user_size);
	}
	return 0;
}

static int xt4_verdict_to_ir(struct xt4_tr *tr, uint32_t i, struct bf_rule *r)
{
	const uint8_t *e = xt4_entry(tr->b, i);
	int32_t v = xt4_verdict(xt4_target(tr->b->fam, e));
	int j;

	switch (v) {
	case -NF_ACCEPT - 1:
		r->verdict = BF_V_ACCEPT;
		return 0;
	case -NF_DROP - 1:
		r->verdict = BF_V_DROP;
		return 0;
	case XT_RETURN:
		r->verdict = BF_V_RETURN;
		return 0;
	case -NF_QUEUE - 1:
		return bf_err_set(tr->err, -EOPNOTSUPP, "%s: verdict QUEUE is not supported",
				  xt4_where(tr->b, i));
	}
	/* A jump: validated to be an entry's offset by xt4_mark() if reachable. */
	if ((uint32_t)v == tr->b->offs[i] + xt4_noff(tr->b->fam, e)) {
		r->verdict = BF_V_NEXT;
		return 0;
	}
	j = xt4_index_of(tr->b, v);
	if (v < 0 || j < 0 || tr->first_of[j] < 0)
		return bf_err_set(tr->err, -EINVAL, "%s: bpfilter only jumps to the first rule of a user chain (offset %d is not one)",
				  xt4_where(tr->b, i), v);
	r->verdict = tr->b->fam->ip_is_goto(e) ? BF_V_GOTO : BF_V_JUMP;
	r->target = tr->first_of[j];
	return 0;
}

static int xt4_rule_to_ir(struct xt4_tr *tr, uint32_t i, struct bf_rule *r)
{
	const struct xt4_fam *f = tr->b->fam;
	const uint8_t *e = xt4_entry(tr->b, i);
	struct xt4_rb rb = { 0 };
	int ret;

	r->index = i;
	ret = f->ip_to_ir(tr->ir, &rb, e);
	if (!ret)
		ret = xt4_matches_to_ir(f, &rb, e);
	if (ret && rb.why) {
		ret = bf_err_set(tr->err, ret, "%s: %s", xt4_where(tr->b, i), rb.why);
		xt4_rb_release(&rb);
		return ret;
	}
	if (ret) {
		xt4_rb_release(&rb);
		return bf_err_set(tr->err, ret, "%s: out of memory", xt4_where(tr->b, i));
	}
	r->preds = rb.preds;
	r->n_preds = rb.n;
	if (!xt4_is_std(xt4_target(f, e)))
		return xt4_target_to_ir(tr->b, i, r, tr->err);
	return xt4_verdict_to_ir(tr, i, r);
}

static int xt4_chain_to_ir(struct xt4_tr *tr, uint32_t c)
{
	struct bf_chain *ch = &tr->ir->chains[c];
	uint32_t k;
	int ret;

	if (!ch->n_rules)
		return 0;
	ch->rules = xt4_calloc(ch->n_rules, sizeof(*ch->rules));
	if (!ch->rules)
		return bf_err_set(tr->err, -ENOMEM, "out of memory");
	for (k = 0; k < ch->n_rules; k++) {
		ch->rules[k].num = k + 1;
		ret = xt4_rule_to_ir(tr, tr->first[c] + k, &ch->rules[k]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Nesting depth of user chains: built-ins are level 0, a chain is one
 * level below its deepest caller (an uncalled one is level 1). Gotos count
 * too: bpfilter turns them into calls. Kahn's order finds loops.
 */
static int xt4_check_depth(struct xt4_tr *tr)
{
	struct bf_ir *ir = tr->ir;
	uint32_t *indeg, *level, *queue, head = 0, tail = 0, c, k, done = 0;
	int ret = 0;

	indeg = xt4_calloc(ir->n_chains, sizeof(*indeg));
	level = xt4_calloc(ir->n_chains, sizeof(*level));
	queue = xt4_calloc(ir->n_chains, sizeof(*queue));
	if (!indeg || !level || !queue) {
		ret = bf_err_set(tr->err, -ENOMEM, "out of memory");
		goto out_free;
	}
	for (c = 0; c < ir->n_chains; c++)
		for (k = 0; k < ir->chains[c].n_rules; k++)
			if (xt4_is_jump(ir->chains[c].rules[k].verdict))
				indeg[ir->chains[c].rules[k].target]++;
	for (c = 0; c < ir->n_chains; c++) {
		if (indeg[c])
			continue;
		level[c] = ir->chains[c].hook == BF_HOOK_NONE;
		queue[tail++] = c;
	}
	while (head < tail) {
		const struct bf_chain *ch = &ir->chains[queue[head]];
		uint32_t from = level[queue[head++]];

		done++;
		for (k = 0; k < ch->n_rules; k++) {
			uint32_t t = ch->rules[k].target;

			if (!xt4_is_jump(ch->rules[k].verdict))
				continue;
			if (level[t] < from + 1)
				level[t] = from + 1;
			if (--indeg[t] == 0)
				queue[tail++] = t;
		}
	}
	for (c = 0; c < ir->n_chains && !ret; c++) {
		if (done < ir->n_chains && indeg[c])
			ret = bf_err_set(tr->err, -ELOOP, "chain %s: user chains jump to each other in a loop",
					 ir->chains[c].name);
		else if (level[c] > XT4_MAX_DEPTH)
			ret = bf_err_set(tr->err, -E2BIG, "chain %s: nested %u levels below a built-in chain; bpfilter supports %d (BPF call depth)",
					 ir->chains[c].name, level[c], XT4_MAX_DEPTH);
	}
out_free:
	free(indeg);
	free(level);
	free(queue);
	return ret;
}

int xt4_to_ir(const struct xt4_blob *b, struct bf_ir **irp, struct bf_err *err)
{
	struct xt4_tr tr = { .b = b, .err = err };
	uint32_t c, h;
	int ret;

	tr.ir = xt4_calloc(1, sizeof(*tr.ir));
	tr.first_of = xt4_malloc(b->n * sizeof(*tr.first_of) + 1);
	if (!tr.ir || !tr.first_of) {
		ret = bf_err_set(err, -ENOMEM, "out of memory");
		goto out_free;
	}
	memset(tr.first_of, 0xff, b->n * sizeof(*tr.first_of));
	tr.ir->family = b->fam->af;
	strcpy(tr.ir->table, "filter");
	tr.ir->valid_hooks = b->valid_hooks;
	tr.ir->n_entries = b->n;
	for (h = 0; h < BF_NR_HOOKS; h++)
		tr.ir->hook_chain[h] = -1;
	ret = xt4_layout(&tr);
	for (c = 0; !ret && c < tr.ir->n_chains; c++)
		ret = xt4_chain_to_ir(&tr, c);
	if (!ret)
		ret = xt4_check_depth(&tr);
out_free:
	free(tr.first_of);
	free(tr.first);
	if (ret) {
		bf_ir_free(tr.ir);
		return ret;
	}
	*irp = tr.ir;
	return 0;
}
