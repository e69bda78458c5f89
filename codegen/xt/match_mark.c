// SPDX-License-Identifier: GPL-2.0
/*
 * -m mark --mark value[/mask] (xt_mark, revision 1, every family; no
 * checkentry): (skb->mark & mask) == mark, `!` inverts. The kernel XORs
 * the raw u8 `invert` into the answer, so a value other than 0 or 1 would
 * make the match always true; iptables never writes one and bpfilter
 * refuses it. Where the mark exists: BF_F_MARK in include/bpfilter/ir.h.
 */
#include <errno.h>
#include <linux/netfilter/xt_mark.h>

#include "xt4.h"

static int mark_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_mark_mtinfo1 *info = data;
	struct bf_pred *p;

	if (info->invert > 1) {
		rb->why = "match 'mark': invert other than 0 or 1 is not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_MARK);
	if (!p)
		return -ENOMEM;
	p->value = info->mark;
	p->mask = info->mask;
	p->inv = info->invert;
	return 0;
}

static bool mark_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_MARK;
}

static int mark_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_mark_mtinfo1 *info = data;

	if (n != 1)
		return -EINVAL;
	info->mark = preds[0].value;
	info->mask = preds[0].mask;
	info->invert = preds[0].inv;
	return 0;
}

const struct xt4_match_ops xt4_match_mark = {
	.name = "mark",
	.revision = 1,
	.data_size = sizeof(struct xt_mark_mtinfo1),
	.unspec = true,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.to_ir = mark_to_ir,
	.claims = mark_claims,
	.from_ir = mark_from_ir,
};
