// SPDX-License-Identifier: GPL-2.0
/*
 * -m icmp (revision 0, IPv4 only): type and code range, type 0xff = any.
 * A non-first fragment never matches; fewer than 8 bytes (a whole struct
 * icmphdr, as the kernel reads it) drops.
 *
 * -m icmp6 (ip6_tables' own "icmp6", revision 0, IPv6 only; the rule must
 * say -p ipv6-icmp) is the same without the "any" type: fewer than 8
 * bytes (a whole struct icmp6hdr, as icmp6_match() reads it) drops.
 * ip6t_icmp is laid out as ipt_icmp, so the code is shared.
 *
 * checkentry for both: invflags other than the INV bit is -EINVAL.
 */
#include <errno.h>

#include "xt4.h"

_Static_assert(sizeof(struct ip6t_icmp) == sizeof(struct ipt_icmp) &&
	       offsetof(struct ip6t_icmp, invflags) == offsetof(struct ipt_icmp, invflags) &&
	       IP6T_ICMP_INV == IPT_ICMP_INV,
	       "ip6t_icmp must be laid out as ipt_icmp");

static int icmp_check(const void *data)
{
	const struct ipt_icmp *icmp = data;

	return (icmp->invflags & ~IPT_ICMP_INV) ? -EINVAL : 0;
}

static int icmp_any_to_ir(struct xt4_rb *rb, const void *data, uint32_t proto,
			  enum bf_field field)
{
	const struct ipt_icmp *icmp = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_L4HDR);
	if (!p)
		return -ENOMEM;
	p->value = proto;
	p->lo = 8;
	/* Kept even for "any": its codes and inversion must round-trip. */
	p = xt4_rb_add(rb, field);
	if (!p)
		return -ENOMEM;
	p->value = icmp->type;
	p->lo = icmp->code[0];
	p->hi = icmp->code[1];
	p->inv = icmp->invflags & IPT_ICMP_INV;
	return 0;
}

static int icmp_any_from_ir(const struct bf_pred *preds, uint32_t n, void *data,
			    enum bf_field field)
{
	struct ipt_icmp *icmp = data;

	if (n != 2 || preds[1].field != field || preds[1].value > 0xff ||
	    preds[1].lo > 0xff || preds[1].hi > 0xff)
		return -EINVAL;
	icmp->type = preds[1].value;
	icmp->code[0] = preds[1].lo;
	icmp->code[1] = preds[1].hi;
	icmp->invflags = preds[1].inv ? IPT_ICMP_INV : 0;
	return 0;
}

static int icmp_to_ir(struct xt4_rb *rb, const void *data)
{
	return icmp_any_to_ir(rb, data, IPPROTO_ICMP, BF_F_ICMP);
}

static bool icmp_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_L4HDR && pred->value == IPPROTO_ICMP;
}

static int icmp_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	return icmp_any_from_ir(preds, n, data, BF_F_ICMP);
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

static int icmp6_to_ir(struct xt4_rb *rb, const void *data)
{
	return icmp_any_to_ir(rb, data, IPPROTO_ICMPV6, BF_F_ICMP6);
}

static bool icmp6_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_L4HDR && pred->value == IPPROTO_ICMPV6;
}

static int icmp6_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	return icmp_any_from_ir(preds, n, data, BF_F_ICMP6);
}

const struct xt4_match_ops xt6_match_icmp6 = {
	.name = "icmp6",
	.revision = 0,
	.families = XT4_FAM_V6,
	.data_size = sizeof(struct ip6t_icmp),
	.proto = IPPROTO_ICMPV6,
	.check = icmp_check,
	.to_ir = icmp6_to_ir,
	.claims = icmp6_claims,
	.from_ir = icmp6_from_ir,
};
