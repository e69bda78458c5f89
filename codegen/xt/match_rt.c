// SPDX-License-Identifier: GPL-2.0
/*
 * -m rt (ip6t_rt, IPv6 only, revision 0): the first routing header, found
 * as ipv6_find_hdr(skb, &ptr, NEXTHDR_ROUTING, NULL, NULL) finds it.
 * The header is found, but the packet is shorter than its length: hotdrop
 * (measured on 6.18; older kernels did not match). checkentry: invflags beyond IP6T_RT_INV_MASK, or --rt-0-res /
 * --rt-0-addrs (/ --rt-0-not-strict) without `--rt-type 0` (not
 * inverted) are -EINVAL. The match: --rt-segsleft always compared (the
 * range defaults to 0:0xffffffff), --rt-len with the header's length in
 * bytes, --rt-type, then --rt-0-res (the 32-bit reserved word is 0).
 * BF_F_RT in include/bpfilter/ir.h says how it is evaluated.
 *
 * Refused (-EOPNOTSUPP): --rt-0-addrs (IP6T_RT_FST: up to 16 addresses
 * compared with the header's, which struct bf_pkt cannot carry), and
 * addresses or an address count in a blob that does not ask for them (no
 * tool writes them; they would not survive a round trip).
 */
#include <errno.h>
#include <string.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>

#include "xt4.h"

static int rt_check(const void *data)
{
	const struct ip6t_rt *info = data;

	if (info->invflags & ~IP6T_RT_INV_MASK)
		return -EINVAL;
	if ((info->flags & (IP6T_RT_RES | IP6T_RT_FST_MASK)) &&
	    (!(info->flags & IP6T_RT_TYP) || info->rt_type != 0 ||
	     (info->invflags & IP6T_RT_INV_TYP)))
		return -EINVAL;
	return 0;
}

static bool rt_no_addrs(const struct ip6t_rt *info)
{
	static const struct in6_addr zero[IP6T_RT_HOPS];

	return info->addrnr == 0 && !memcmp(info->addrs, zero, sizeof(zero));
}

static int rt_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct ip6t_rt *info = data;
	struct bf_pred *p;

	if (info->flags & IP6T_RT_FST) {
		rb->why = "match 'rt': --rt-0-addrs is not supported";
		return -EOPNOTSUPP;
	}
	if (!rt_no_addrs(info)) {
		rb->why = "match 'rt': addresses without --rt-0-addrs are not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_RT);
	if (!p)
		return -ENOMEM;
	p->value = info->rt_type;
	p->lo = info->segsleft[0];
	p->hi = info->segsleft[1];
	p->mask = info->hdrlen;
	p->flags = info->flags | (uint32_t)info->invflags << 8;
	return 0;
}

static bool rt_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_RT;
}

static int rt_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct ip6t_rt *info = data;

	if (n != 1 || preds[0].flags > 0xffff || preds[0].inv)
		return -EINVAL;
	info->rt_type = preds[0].value;
	info->segsleft[0] = preds[0].lo;
	info->segsleft[1] = preds[0].hi;
	info->hdrlen = preds[0].mask;
	info->flags = (uint8_t)preds[0].flags;
	info->invflags = (uint8_t)(preds[0].flags >> 8);
	return 0;
}

const struct xt4_match_ops xt6_match_rt = {
	.name = "rt",
	.revision = 0,
	.data_size = sizeof(struct ip6t_rt),
	.families = XT4_FAM_V6,
	.check = rt_check,
	.to_ir = rt_to_ir,
	.claims = rt_claims,
	.from_ir = rt_from_ir,
};
