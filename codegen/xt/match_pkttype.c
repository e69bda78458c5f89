// SPDX-License-Identifier: GPL-2.0
/*
 * -m pkttype (xt_pkttype, revision 0, every family): the packet's
 * skb->pkt_type is `pkttype` (0 unicast, 1 broadcast, 2 multicast), `!`
 * inverts. How bpfilter finds the type at each hook: BF_F_PKTTYPE in
 * include/bpfilter/ir.h. No checkentry: any type is accepted (one no
 * packet has never matches). The kernel XORs the raw int `invert` into
 * the answer, so a value other than 0 or 1 would make the match always
 * true; iptables never writes one and bpfilter refuses it.
 */
#include <errno.h>
#include <linux/netfilter/xt_pkttype.h>

#include "xt4.h"

static int pkttype_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_pkttype_info *info = data;
	struct bf_pred *p;

	if (info->invert != 0 && info->invert != 1) {
		rb->why = "match 'pkttype': invert other than 0 or 1 is not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_PKTTYPE);
	if (!p)
		return -ENOMEM;
	p->value = (uint32_t)info->pkttype;
	p->inv = info->invert;
	return 0;
}

static bool pkttype_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_PKTTYPE;
}

static int pkttype_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_pkttype_info *info = data;

	if (n != 1)
		return -EINVAL;
	info->pkttype = (int)preds[0].value;
	info->invert = preds[0].inv;
	return 0;
}

const struct xt4_match_ops xt4_match_pkttype = {
	.name = "pkttype",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_pkttype_info),
	.unspec = true,
	.to_ir = pkttype_to_ir,
	.claims = pkttype_claims,
	.from_ir = pkttype_from_ir,
};
