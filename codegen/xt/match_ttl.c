// SPDX-License-Identifier: GPL-2.0
/*
 * -m ttl (ipt_ttl, revision 0): the IPv4 TTL ==, !=, < or > a value
 * (--ttl-eq, ! --ttl-eq, --ttl-lt, --ttl-gt). The kernel has no
 * checkentry: an unknown mode is accepted and never matches, and so it
 * is here (BF_F_TTL keeps the mode).
 *
 * -m hl (ip6t_hl, revision 0, IPv6 only) is the same for the hop limit
 * (--hl-eq, ! --hl-eq, --hl-lt, --hl-gt; BF_F_TTL in an AF_INET6 IR):
 * ip6t_hl_info is laid out as ipt_ttl_info, so the code is shared.
 */
#include <errno.h>
#include <linux/netfilter_ipv4/ipt_ttl.h>
#include <linux/netfilter_ipv6/ip6t_hl.h>

#include "xt4.h"

static int ttl_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct ipt_ttl_info *info = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_TTL);
	if (!p)
		return -ENOMEM;
	p->value = info->ttl;
	p->flags = info->mode;
	return 0;
}

static bool ttl_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_TTL;
}

static int ttl_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct ipt_ttl_info *info = data;

	if (n != 1 || preds[0].inv || preds[0].value > 0xff || preds[0].flags > 0xff)
		return -EINVAL;
	info->ttl = preds[0].value;
	info->mode = preds[0].flags;
	return 0;
}

const struct xt4_match_ops xt4_match_ttl = {
	.name = "ttl",
	.revision = 0,
	.data_size = sizeof(struct ipt_ttl_info),
	.to_ir = ttl_to_ir,
	.claims = ttl_claims,
	.from_ir = ttl_from_ir,
};

_Static_assert(sizeof(struct ip6t_hl_info) == sizeof(struct ipt_ttl_info) &&
	       offsetof(struct ip6t_hl_info, mode) == offsetof(struct ipt_ttl_info, mode) &&
	       offsetof(struct ip6t_hl_info, hop_limit) == offsetof(struct ipt_ttl_info, ttl),
	       "ip6t_hl_info must be laid out as ipt_ttl_info");

const struct xt4_match_ops xt6_match_hl = {
	.name = "hl",
	.revision = 0,
	.families = XT4_FAM_V6,
	.data_size = sizeof(struct ip6t_hl_info),
	.to_ir = ttl_to_ir,
	.claims = ttl_claims,
	.from_ir = ttl_from_ir,
};
