// SPDX-License-Identifier: GPL-2.0
/*
 * -m length (xt_length, revision 0): min <= IPv4 total length <= max,
 * `!` inverts. The kernel has no checkentry; it XORs the raw invert byte
 * into the answer, so an invert byte other than 0 or 1 would make the
 * match always true. iptables never writes one; bpfilter refuses it.
 */
#include <errno.h>
#include <linux/netfilter/xt_length.h>

#include "xt4.h"

static int length_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_length_info *info = data;
	struct bf_pred *p;

	if (info->invert > 1) {
		rb->why = "match 'length': invert byte other than 0 or 1 is not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_LENGTH);
	if (!p)
		return -ENOMEM;
	p->lo = info->min;
	p->hi = info->max;
	p->inv = info->invert;
	return 0;
}

static bool length_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_LENGTH;
}

static int length_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_length_info *info = data;

	if (n != 1 || preds[0].lo > 0xffff || preds[0].hi > 0xffff)
		return -EINVAL;
	info->min = preds[0].lo;
	info->max = preds[0].hi;
	info->invert = preds[0].inv;
	return 0;
}

const struct xt4_match_ops xt4_match_length = {
	.name = "length",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_length_info),
	.to_ir = length_to_ir,
	.claims = length_claims,
	.from_ir = length_from_ir,
};
