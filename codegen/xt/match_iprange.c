// SPDX-License-Identifier: GPL-2.0
/*
 * -m iprange (xt_iprange, revision 1, IPv4): --src-range and --dst-range,
 * each with `!`. Addresses compare in host order, min and max included.
 * The kernel has no checkentry: flag bits it does not know and an INV bit
 * without its range are ignored, so they are here; the flags byte is kept
 * in BF_F_IPRANGE so the blob comes back the same.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <linux/netfilter/xt_iprange.h>

#include "xt4.h"

static int iprange_add(struct xt4_rb *rb, enum bf_field field,
		       const union nf_inet_addr *min,
		       const union nf_inet_addr *max, bool inv)
{
	struct bf_pred *p = xt4_rb_add(rb, field);

	if (!p)
		return -ENOMEM;
	p->lo = ntohl(min->ip);
	p->hi = ntohl(max->ip);
	p->inv = inv;
	return 0;
}

static int iprange_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_iprange_mtinfo *info = data;
	struct bf_pred *p;
	int ret = 0;

	p = xt4_rb_add(rb, BF_F_IPRANGE);
	if (!p)
		return -ENOMEM;
	p->flags = info->flags;
	if (info->flags & IPRANGE_SRC)
		ret = iprange_add(rb, BF_F_SRANGE4, &info->src_min, &info->src_max,
				  info->flags & IPRANGE_SRC_INV);
	if (!ret && (info->flags & IPRANGE_DST))
		ret = iprange_add(rb, BF_F_DRANGE4, &info->dst_min, &info->dst_max,
				  info->flags & IPRANGE_DST_INV);
	return ret;
}

static bool iprange_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_IPRANGE;
}

static int iprange_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_iprange_mtinfo *info = data;
	uint32_t i;

	if (preds[0].flags > 0xff)
		return -EINVAL;
	info->flags = preds[0].flags;
	for (i = 1; i < n; i++) {
		const struct bf_pred *p = &preds[i];

		if (p->field == BF_F_SRANGE4) {
			info->src_min.ip = htonl(p->lo);
			info->src_max.ip = htonl(p->hi);
			info->flags |= IPRANGE_SRC | (p->inv ? IPRANGE_SRC_INV : 0);
		} else if (p->field == BF_F_DRANGE4) {
			info->dst_min.ip = htonl(p->lo);
			info->dst_max.ip = htonl(p->hi);
			info->flags |= IPRANGE_DST | (p->inv ? IPRANGE_DST_INV : 0);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

const struct xt4_match_ops xt4_match_iprange = {
	.name = "iprange",
	.revision = 1,
	.data_size = sizeof(struct xt_iprange_mtinfo),
	.to_ir = iprange_to_ir,
	.claims = iprange_claims,
	.from_ir = iprange_from_ir,
};
