// SPDX-License-Identifier: GPL-2.0
/*
 * -m frag (ip6t_frag, IPv6 only, revision 0): the first fragment header,
 * found as ipv6_find_hdr(skb, &ptr, NEXTHDR_FRAGMENT, NULL, NULL) finds
 * it. checkentry: invflags beyond IP6T_FRAG_INV_MASK are -EINVAL; every
 * flag bit is accepted (--fraglen is kept but never compared, as in
 * frag_mt6()). BF_F_FRAG6 in include/bpfilter/ir.h says how it is
 * evaluated. Nothing is refused: the whole struct, its two trailing pad
 * bytes included, survives blob -> IR -> blob.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/netfilter_ipv6/ip6t_frag.h>

#include "xt4.h"

#define FRAG_PAD_OFF	(offsetof(struct ip6t_frag, invflags) + 1)

static int frag_check(const void *data)
{
	const struct ip6t_frag *info = data;

	if (info->invflags & ~IP6T_FRAG_INV_MASK)
		return -EINVAL;
	return 0;
}

static int frag_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct ip6t_frag *info = data;
	const uint8_t *pad = (const uint8_t *)data + FRAG_PAD_OFF;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_FRAG6);
	if (!p)
		return -ENOMEM;
	p->lo = info->ids[0];
	p->hi = info->ids[1];
	p->mask = info->hdrlen;
	p->flags = info->flags | (uint32_t)info->invflags << 8 |
		   (uint32_t)pad[0] << 16 | (uint32_t)pad[1] << 24;
	return 0;
}

static bool frag_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_FRAG6;
}

static int frag_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct ip6t_frag *info = data;
	uint8_t *pad = (uint8_t *)data + FRAG_PAD_OFF;

	if (n != 1 || preds[0].inv)
		return -EINVAL;
	info->ids[0] = preds[0].lo;
	info->ids[1] = preds[0].hi;
	info->hdrlen = preds[0].mask;
	info->flags = (uint8_t)preds[0].flags;
	info->invflags = (uint8_t)(preds[0].flags >> 8);
	pad[0] = (uint8_t)(preds[0].flags >> 16);
	pad[1] = (uint8_t)(preds[0].flags >> 24);
	return 0;
}

const struct xt4_match_ops xt6_match_frag = {
	.name = "frag",
	.revision = 0,
	.data_size = sizeof(struct ip6t_frag),
	.families = XT4_FAM_V6,
	.check = frag_check,
	.to_ir = frag_to_ir,
	.claims = frag_claims,
	.from_ir = frag_from_ir,
};
