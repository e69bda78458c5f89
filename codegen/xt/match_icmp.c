// SPDX-License-Identifier: GPL-2.0
/*
 * -m icmp (revision 0): type and code range, type 0xff = any. A non-first
 * fragment never matches; fewer than 8 bytes (a whole struct icmphdr, as
 * the kernel reads it) drops.
 */
#include <errno.h>

#include "xt4.h"

static int icmp_check(const void *data)
{
	const struct ipt_icmp *icmp = data;

	return (icmp->invflags & ~IPT_ICMP_INV) ? -EINVAL : 0;
}

static int icmp_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct ipt_icmp *icmp = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_L4HDR);
	if (!p)
		return -ENOMEM;
	p->value = IPPROTO_ICMP;
	p->lo = 8;
	/* Kept even for "any": its codes and inversion must round-trip. */
	p = xt4_rb_add(rb, BF_F_ICMP);
	if (!p)
		return -ENOMEM;
	p->value = icmp->type;
	p->lo = icmp->code[0];
	p->hi = icmp->code[1];
	p->inv = icmp->invflags & IPT_ICMP_INV;
	return 0;
}

static bool icmp_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_L4HDR && pred->value == IPPROTO_ICMP;
}

static int icmp_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct ipt_icmp *icmp = data;

	if (n != 2 || preds[1].field != BF_F_ICMP)
		return -EINVAL;
	icmp->type = preds[1].value;
	icmp->code[0] = preds[1].lo;
	icmp->code[1] = preds[1].hi;
	icmp->invflags = preds[1].inv ? IPT_ICMP_INV : 0;
	return 0;
}

const struct xt4_match_ops xt4_match_icmp = {
	.name = "icmp",
	.revision = 0,
	.data_size = sizeof(struct ipt_icmp),
	.proto = IPPROTO_ICMP,
	.check = icmp_check,
	.to_ir = icmp_to_ir,
	.claims = icmp_claims,
	.from_ir = icmp_from_ir,
};
