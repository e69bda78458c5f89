// SPDX-License-Identifier: GPL-2.0
/*
 * IR back to an IPv4 or IPv6 entries blob, laid out as libiptc lays tables out:
 * built-in chains (rules, then the policy), user chains (ERROR head named
 * after the chain, rules, RETURN), and the ERROR "ERROR" terminator.
 * Counters are zero and comefrom is what the kernel would set, so the
 * result equals what GET_ENTRIES returns for the same rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

struct xt4_fixup {
	uint32_t at;		/* offset of the verdict to patch */
	uint32_t chain;
};

struct xt4_out {
	const struct xt4_fam *fam;
	uint8_t *buf;
	uint32_t len;
	uint32_t cap;
	uint32_t n;		/* entries written */
	struct xt4_fixup *fx;
	uint32_t n_fx;
	uint32_t cap_fx;
	uint32_t *chain_first;	/* chain -> offset of its first rule */
};

/* size zeroed bytes at the end of the blob; their offset or -ENOMEM. */
static int64_t xt4_out_grow(struct xt4_out *o, uint32_t size)
{
	uint32_t at = o->len;

	if ((uint64_t)o->len + size > XT4_MAX_TABLE)
		return -ENOMEM;
	if (o->len + size > o->cap) {
		uint32_t cap = o->cap ? o->cap : 4096;
		uint8_t *n;

		while (cap < o->len + size)
			cap *= 2;
		n = xt4_realloc(o->buf, cap);
		if (!n)
			return -ENOMEM;
		o->buf = n;
		o->cap = cap;
	}
	memset(o->buf + at, 0, size);
	o->len += size;
	o->n++;
	return at;
}

static void xt4_set_ext(uint8_t *ext, uint16_t size, const char *name)
{
	memcpy(ext + offsetof(struct xt_entry_target, u.user.target_size), &size,
	       sizeof(size));
	strcpy((char *)ext + offsetof(struct xt_entry_target, u.user.name), name);
}

static void xt4_set_offsets(const struct xt4_fam *f, uint8_t *e, uint16_t toff,
			    uint16_t noff)
{
	memcpy(e + f->off_toff, &toff, sizeof(toff));
	memcpy(e + f->off_noff, &noff, sizeof(noff));
}

/* An unconditional entry with a standard target. */
static int xt4_out_std(struct xt4_out *o, int32_t verdict)
{
	const struct xt4_fam *f = o->fam;
	int64_t at = xt4_out_grow(o, f->entry_sz + XT4_STD_SZ);
	uint8_t *e;

	if (at < 0)
		return at;
	e = o->buf + at;
	xt4_set_offsets(f, e, f->entry_sz, f->entry_sz + XT4_STD_SZ);
	xt4_set_ext(xt4_target(f, e), XT4_STD_SZ, XT_STANDARD_TARGET);
	xt4_wr32(xt4_target(f, e) + offsetof(struct xt_standard_target, verdict), verdict);
	return 0;
}

static int xt4_out_error(struct xt4_out *o, const char *name)
{
	const struct xt4_fam *f = o->fam;
	int64_t at = xt4_out_grow(o, f->entry_sz + XT4_ERR_SZ);
	uint8_t *e;

	if (at < 0)
		return at;
	e = o->buf + at;
	xt4_set_offsets(f, e, f->entry_sz, f->entry_sz + XT4_ERR_SZ);
	xt4_set_ext(xt4_target(f, e), XT4_ERR_SZ, XT_ERROR_TARGET);
	strncpy((char *)xt4_target(f, e) + offsetof(struct xt_error_target, errorname),
		name, XT_FUNCTION_MAXNAMELEN - 1);
	return 0;
}

int xt4_iface_from_ir(const struct bf_ir *ir, const struct bf_pred *p,
		      char *name, unsigned char *mask)
{
	const struct bf_ifpat *pat;

	if (p->value >= ir->n_ifpats)
		return -EINVAL;
	pat = &ir->ifpats[p->value];
	memcpy(name, pat->name, IFNAMSIZ);
	memcpy(mask, pat->mask, IFNAMSIZ);
	return 0;
}

/*
 * The match predicates [*start, *start + *cnt) that follow *pos, and the
 * match they belong to. Returns 1 when there is one, 0 at the end.
 */
static int xt4_next_slice(const struct xt4_fam *f, const struct bf_rule *r,
			  uint32_t *pos, const struct xt4_match_ops **ops,
			  uint32_t *start, uint32_t *cnt)
{
	uint32_t i = *pos;

	while (i < r->n_preds && f->ip_field(r->preds[i].field))
		i++;
	if (i == r->n_preds)
		return 0;
	*ops = xt4_match_claiming_fam(f->bit, &r->preds[i]);
	if (!*ops)
		return -EINVAL;
	*start = i++;
	while (i < r->n_preds && !xt4_match_claiming_fam(f->bit, &r->preds[i]) &&
	       !f->ip_field(r->preds[i].field))
		i++;
	*cnt = i - *start;
	*pos = i;
	return 1;
}

static int xt4_rule_matches_size(const struct xt4_fam *f, const struct bf_rule *r,
				 uint32_t *size)
{
	const struct xt4_match_ops *ops;
	uint32_t pos = 0, start, cnt;
	int ret;

	*size = 0;
	while ((ret = xt4_next_slice(f, r, &pos, &ops, &start, &cnt)) > 0)
		*size += sizeof(struct xt_entry_match) + XT_ALIGN(ops->data_size);
	return ret;
}

static int xt4_rule_matches(const struct xt4_fam *f, const struct bf_rule *r,
			    uint8_t *m)
{
	const struct xt4_match_ops *ops;
	uint32_t pos = 0, start, cnt;
	int ret;

	while ((ret = xt4_next_slice(f, r, &pos, &ops, &start, &cnt)) > 0) {
		uint16_t msz = sizeof(struct xt_entry_match) + XT_ALIGN(ops->data_size);

		xt4_set_ext(m, msz, ops->name);
		m[offsetof(struct xt_entry_match, u.user.revision)] = ops->revision;
		ret = ops->from_ir(&r->preds[start], cnt, m + sizeof(struct xt_entry_match));
		if (ret)
			return ret;
		m += msz;
	}
	return ret;
}

static int xt4_rule_verdict(struct xt4_out *o, const struct bf_ir *ir,
			    const struct bf_rule *r, uint8_t *e,
			    uint32_t at, int32_t *v)
{
	struct xt4_fixup *fx;

	switch (r->verdict) {
	case BF_V_ACCEPT:
		*v = -NF_ACCEPT - 1;
		return 0;
	case BF_V_DROP:
		*v = -NF_DROP - 1;
		return 0;
	case BF_V_RETURN:
		*v = XT_RETURN;
		return 0;
	case BF_V_NEXT:
		*v = at + xt4_noff(o->fam, e);
		return 0;
	case BF_V_GOTO:
		o->fam->ip_set_goto(e);
		/* fall through */
	case BF_V_JUMP:
		if (r->target >= ir->n_chains || ir->chains[r->target].hook != BF_HOOK_NONE)
			return -EINVAL;
		if (o->n_fx == o->cap_fx) {
			uint32_t cap = o->cap_fx ? o->cap_fx * 2 : 64;

			fx = xt4_realloc(o->fx, cap * sizeof(*fx));
			if (!fx)
				return -ENOMEM;
			o->fx = fx;
			o->cap_fx = cap;
		}
		fx = o->fx;
		fx[o->n_fx].at = at + xt4_toff(o->fam, e) +
				 offsetof(struct xt_standard_target, verdict);
		fx[o->n_fx++].chain = r->target;
		*v = 0;
		return 0;
	case BF_V_LOG:		/* written by their target ops */
	case BF_V_REJECT:
		break;
	}
	return -EINVAL;
}

static int xt4_out_rule(struct xt4_out *o, const struct bf_ir *ir,
			const struct bf_rule *r)
{
	const struct xt4_fam *f = o->fam;
	uint32_t msz;
	int64_t at;
	uint8_t *e;
	int32_t v;
	int ret;

	const struct xt4_target_ops *tops = xt4_target_of_fam(f->bit, r->verdict);
	uint32_t tsz = tops ? XT4_HDR_SZ + XT_ALIGN(tops->data_size) : XT4_STD_SZ;

	ret = xt4_rule_matches_size(f, r, &msz);
	if (ret)
		return ret;
	if (f->entry_sz + msz + tsz > 0xffff)
		return -E2BIG;
	at = xt4_out_grow(o, f->entry_sz + msz + tsz);
	if (at < 0)
		return at;
	e = o->buf + at;
	xt4_set_offsets(f, e, f->entry_sz + msz, f->entry_sz + msz + tsz);
	ret = f->ip_from_ir(ir, r, e);
	if (!ret)
		ret = xt4_rule_matches(f, r, e + f->entry_sz);
	if (!ret && tops) {
		uint8_t *t = xt4_target(f, e);

		xt4_set_ext(t, tsz, tops->name);
		t[offsetof(struct xt_entry_target, u.user.revision)] = tops->revision;
		return tops->from_ir(r, t + XT4_HDR_SZ);
	}
	if (!ret)
		ret = xt4_rule_verdict(o, ir, r, e, at, &v);
	if (ret)
		return ret;
	xt4_set_ext(xt4_target(f, e), XT4_STD_SZ, XT_STANDARD_TARGET);
	xt4_wr32(xt4_target(f, e) + offsetof(struct xt_standard_target, verdict), v);
	return 0;
}

static int xt4_out_chain(struct xt4_out *o, const struct bf_ir *ir, uint32_t c,
			 uint32_t hook_entry[BF_NR_HOOKS],
			 uint32_t underflow[BF_NR_HOOKS])
{
	const struct bf_chain *ch = &ir->chains[c];
	bool builtin = ch->hook != BF_HOOK_NONE;
	uint32_t k;
	int ret;

	if (builtin && (ch->hook < 0 || ch->hook >= BF_NR_HOOKS ||
			(ch->end != BF_V_ACCEPT && ch->end != BF_V_DROP)))
		return -EINVAL;
	if (!builtin) {
		ret = xt4_out_error(o, ch->name);
		if (ret)
			return ret;
	}
	o->chain_first[c] = o->len;
	if (builtin)
		hook_entry[ch->hook] = o->len;
	for (k = 0; k < ch->n_rules; k++) {
		ret = xt4_out_rule(o, ir, &ch->rules[k]);
		if (ret)
			return ret;
	}
	if (builtin) {
		underflow[ch->hook] = o->len;
		return xt4_out_std(o, ch->end == BF_V_ACCEPT ? -NF_ACCEPT - 1 : -NF_DROP - 1);
	}
	if (ch->end == BF_V_RETURN)
		return xt4_out_std(o, XT_RETURN);
	return 0;
}

/* comefrom as the kernel sets it: run its walk over the result. */
static int xt4_out_comefrom(struct xt4_out *o, uint32_t valid_hooks,
			    const uint32_t hook_entry[BF_NR_HOOKS],
			    const uint32_t underflow[BF_NR_HOOKS])
{
	struct xt4_blob b = { 0 };
	struct ipt_replace *repl;
	int ret;

	repl = xt4_calloc(1, sizeof(*repl) + o->len);
	if (!repl)
		return -ENOMEM;
	repl->valid_hooks = valid_hooks;
	repl->num_entries = o->n;
	repl->size = o->len;
	memcpy(repl->hook_entry, hook_entry, sizeof(repl->hook_entry));
	memcpy(repl->underflow, underflow, sizeof(repl->underflow));
	memcpy(repl->entries, o->buf, o->len);
	ret = xt4_walk_fam(&b, o->fam, repl, NULL);
	if (!ret)
		ret = xt4_mark(&b, NULL);
	if (!ret)
		memcpy(o->buf, repl->entries, o->len);
	xt4_blob_release(&b);
	free(repl);
	return ret;
}

static int xt4_out_table(struct xt4_out *o, const struct bf_ir *ir,
			 uint32_t hook_entry[BF_NR_HOOKS],
			 uint32_t underflow[BF_NR_HOOKS])
{
	uint32_t c, i;
	int ret;

	for (c = 0; c < ir->n_chains; c++) {
		ret = xt4_out_chain(o, ir, c, hook_entry, underflow);
		if (ret)
			return ret;
	}
	ret = xt4_out_error(o, XT_ERROR_TARGET);
	if (ret)
		return ret;
	for (i = 0; i < o->n_fx; i++)
		xt4_wr32(o->buf + o->fx[i].at, o->chain_first[o->fx[i].chain]);
	return xt4_out_comefrom(o, ir->valid_hooks, hook_entry, underflow);
}

int xt4_from_ir_fam(const struct xt4_fam *f, const struct bf_ir *ir,
		    void **blobp, uint32_t *sizep, uint32_t *num_entries,
		    uint32_t hook_entry[BF_NR_HOOKS],
		    uint32_t underflow[BF_NR_HOOKS])
{
	struct xt4_out o = { .fam = f };
	int h, ret;

	if (!ir || !blobp || !sizep || !num_entries || !hook_entry || !underflow)
		return -EINVAL;
	if (ir->family != f->af)
		return -EAFNOSUPPORT;
	for (h = 0; h < BF_NR_HOOKS; h++) {
		hook_entry[h] = ~0U;
		underflow[h] = ~0U;
	}
	o.chain_first = xt4_calloc(ir->n_chains + 1, sizeof(*o.chain_first));
	if (!o.chain_first)
		return -ENOMEM;
	ret = xt4_out_table(&o, ir, hook_entry, underflow);
	free(o.chain_first);
	free(o.fx);
	if (ret) {
		free(o.buf);
		return ret;
	}
	*blobp = o.buf;
	*sizep = o.len;
	*num_entries = o.n;
	return 0;
}

int bf_xt4_from_ir(const struct bf_ir *ir, void **blobp, uint32_t *sizep,
		   uint32_t *num_entries, uint32_t hook_entry[BF_NR_HOOKS],
		   uint32_t underflow[BF_NR_HOOKS])
{
	return xt4_from_ir_fam(&xt4_fam_ipv4, ir, blobp, sizep, num_entries,
			       hook_entry, underflow);
}

int bf_xt6_from_ir(const struct bf_ir *ir, void **blobp, uint32_t *sizep,
		   uint32_t *num_entries, uint32_t hook_entry[BF_NR_HOOKS],
		   uint32_t underflow[BF_NR_HOOKS])
{
	return xt4_from_ir_fam(&xt4_fam_ipv6, ir, blobp, sizep, num_entries,
			       hook_entry, underflow);
}
