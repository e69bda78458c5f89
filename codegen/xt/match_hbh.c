// SPDX-License-Identifier: GPL-2.0
/*
 * -m hbh and -m dst (ip6t_opts, IPv6 only, revision 0; one kernel
 * function, hbh_mt6(), serves both): the first hop-by-hop (hbh) or
 * destination options (dst) header, found as ipv6_find_hdr(skb, &ptr,
 * NEXTHDR_HOP / NEXTHDR_DEST, NULL, NULL) finds it, its length
 * (--hbh-len / --dst-len, in bytes) and its options in order
 * (--hbh-opts / --dst-opts type[:len],...). checkentry, in the kernel's
 * order: invflags beyond IP6T_OPTS_INV_MASK, more than IP6T_OPTS_OPTSNR
 * (16) options, IP6T_OPTS_NSTRICT ("not strict - not implemented"): all
 * -EINVAL. Other flag bits are accepted and ignored. BF_F_OPTS6 in
 * include/bpfilter/ir.h says how it is evaluated. Nothing is refused:
 * the whole struct, the unused opts[] slots and the trailing pad byte
 * included, survives blob -> IR -> blob.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/netfilter_ipv6/ip6t_opts.h>

#include "xt4.h"

#define NEXTHDR_HOP_	0
#define NEXTHDR_DEST_	60
#define OPTS_PAD_OFF	(offsetof(struct ip6t_opts, optsnr) + 1)

static int opts_check(const void *data)
{
	const struct ip6t_opts *info = data;

	if (info->invflags & ~IP6T_OPTS_INV_MASK)
		return -EINVAL;
	if (info->optsnr > IP6T_OPTS_OPTSNR)
		return -EINVAL;
	if (info->flags & IP6T_OPTS_NSTRICT)
		return -EINVAL;
	return 0;
}

static int opts_to_ir(struct xt4_rb *rb, const void *data, uint32_t hdr)
{
	const struct ip6t_opts *info = data;
	const uint8_t *pad = (const uint8_t *)data + OPTS_PAD_OFF;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_OPTS6);
	if (!p)
		return -ENOMEM;
	p->value = hdr;
	p->mask = info->hdrlen;
	p->hi = info->optsnr;
	p->flags = info->flags | (uint32_t)info->invflags << 8 |
		   (uint32_t)pad[0] << 16;
	memcpy(p->a6, &info->opts[0], sizeof(p->a6));
	memcpy(p->b6, &info->opts[8], sizeof(p->b6));
	return 0;
}

static int hbh_to_ir(struct xt4_rb *rb, const void *data)
{
	return opts_to_ir(rb, data, NEXTHDR_HOP_);
}

static int dst_to_ir(struct xt4_rb *rb, const void *data)
{
	return opts_to_ir(rb, data, NEXTHDR_DEST_);
}

static bool hbh_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_OPTS6 && pred->value == NEXTHDR_HOP_;
}

static bool dst_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_OPTS6 && pred->value == NEXTHDR_DEST_;
}

static int opts_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct ip6t_opts *info = data;
	uint8_t *pad = (uint8_t *)data + OPTS_PAD_OFF;

	if (n != 1 || preds[0].inv || preds[0].hi > 0xff ||
	    preds[0].flags > 0xffffff)
		return -EINVAL;
	info->hdrlen = preds[0].mask;
	info->optsnr = (uint8_t)preds[0].hi;
	info->flags = (uint8_t)preds[0].flags;
	info->invflags = (uint8_t)(preds[0].flags >> 8);
	pad[0] = (uint8_t)(preds[0].flags >> 16);
	memcpy(&info->opts[0], preds[0].a6, sizeof(preds[0].a6));
	memcpy(&info->opts[8], preds[0].b6, sizeof(preds[0].b6));
	return 0;
}

const struct xt4_match_ops xt6_match_hbh = {
	.name = "hbh",
	.revision = 0,
	.data_size = sizeof(struct ip6t_opts),
	.families = XT4_FAM_V6,
	.check = opts_check,
	.to_ir = hbh_to_ir,
	.claims = hbh_claims,
	.from_ir = opts_from_ir,
};

const struct xt4_match_ops xt6_match_dst = {
	.name = "dst",
	.revision = 0,
	.data_size = sizeof(struct ip6t_opts),
	.families = XT4_FAM_V6,
	.check = opts_check,
	.to_ir = dst_to_ir,
	.claims = dst_claims,
	.from_ir = opts_from_ir,
};
