// SPDX-License-Identifier: GPL-2.0
/*
 * -m iprange (xt_iprange, revision 1, registered per family): --src-range
 * and --dst-range, each with `!`. IPv4 addresses compare in host order,
 * IPv6 ones as 128-bit big-endian numbers (BF_F_SRANGE6/DRANGE6), min and
 * max included.
 * The kernel has no checkentry: flag bits it does not know and an INV bit
 * without its range are ignored, so they are here; the flags byte is kept
 * in BF_F_IPRANGE so the blob comes back the same.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/xt_iprange.h>

#include "xt4.h"

/* The fields of one family: source and destination range predicates. */
struct iprange_fam {
	enum bf_field src;
	enum bf_field dst;
	bool v6;
};

static const struct iprange_fam iprange_v4 = { BF_F_SRANGE4, BF_F_DRANGE4, false };
static const struct iprange_fam iprange_v6 = { BF_F_SRANGE6, BF_F_DRANGE6, true };

static int iprange_add(struct xt4_rb *rb, const struct iprange_fam *fam,
		       enum bf_field field, const union nf_inet_addr *min,
		       const union nf_inet_addr *max, bool inv)
{
	struct bf_pred *p = xt4_rb_add(rb, field);

	if (!p)
		return -ENOMEM;
	if (fam->v6) {
		memcpy(p->a6, min->ip6, sizeof(p->a6));
		memcpy(p->b6, max->ip6, sizeof(p->b6));
	} else {
		p->lo = ntohl(min->ip);
		p->hi = ntohl(max->ip);
	}
	p->inv = inv;
	return 0;
}

static int iprange_any_to_ir(struct xt4_rb *rb, const void *data,
			     const struct iprange_fam *fam)
{
	const struct xt_iprange_mtinfo *info = data;
	struct bf_pred *p;
	int ret = 0;

	p = xt4_rb_add(rb, BF_F_IPRANGE);
	if (!p)
		return -ENOMEM;
	p->flags = info->flags;
	if (info->flags & IPRANGE_SRC)
		ret = iprange_add(rb, fam, fam->src, &info->src_min, &info->src_max,
				  info->flags & IPRANGE_SRC_INV);
	if (!ret && (info->flags & IPRANGE_DST))
		ret = iprange_add(rb, fam, fam->dst, &info->dst_min, &info->dst_max,
				  info->flags & IPRANGE_DST_INV);
	return ret;
}

static bool iprange_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_IPRANGE;
}

static void iprange_put(const struct iprange_fam *fam, const struct bf_pred *p,
			union nf_inet_addr *min, union nf_inet_addr *max)
{
	if (fam->v6) {
		memcpy(min->ip6, p->a6, sizeof(p->a6));
		memcpy(max->ip6, p->b6, sizeof(p->b6));
	} else {
		min->ip = htonl(p->lo);
		max->ip = htonl(p->hi);
	}
}

static int iprange_any_from_ir(const struct bf_pred *preds, uint32_t n,
			       void *data, const struct iprange_fam *fam)
{
	struct xt_iprange_mtinfo *info = data;
	uint32_t i;

	if (preds[0].flags > 0xff)
		return -EINVAL;
	info->flags = preds[0].flags;
	for (i = 1; i < n; i++) {
		const struct bf_pred *p = &preds[i];

		if (p->field == fam->src) {
			iprange_put(fam, p, &info->src_min, &info->src_max);
			info->flags |= IPRANGE_SRC | (p->inv ? IPRANGE_SRC_INV : 0);
		} else if (p->field == fam->dst) {
			iprange_put(fam, p, &info->dst_min, &info->dst_max);
			info->flags |= IPRANGE_DST | (p->inv ? IPRANGE_DST_INV : 0);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int iprange_to_ir(struct xt4_rb *rb, const void *data)
{
	return iprange_any_to_ir(rb, data, &iprange_v4);
}

static int iprange_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	return iprange_any_from_ir(preds, n, data, &iprange_v4);
}

static int iprange6_to_ir(struct xt4_rb *rb, const void *data)
{
	return iprange_any_to_ir(rb, data, &iprange_v6);
}

static int iprange6_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	return iprange_any_from_ir(preds, n, data, &iprange_v6);
}

const struct xt4_match_ops xt4_match_iprange = {
	.name = "iprange",
	.revision = 1,
	.data_size = sizeof(struct xt_iprange_mtinfo),
	.to_ir = iprange_to_ir,
	.claims = iprange_claims,
	.from_ir = iprange_from_ir,
};

const struct xt4_match_ops xt6_match_iprange = {
	.name = "iprange",
	.revision = 1,
	.families = XT4_FAM_V6,
	.data_size = sizeof(struct xt_iprange_mtinfo),
	.to_ir = iprange6_to_ir,
	.claims = iprange_claims,
	.from_ir = iprange6_from_ir,
};
