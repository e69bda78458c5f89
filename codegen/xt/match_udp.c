// SPDX-License-Identifier: GPL-2.0
/*
 * -m udp (xt_udp, revision 0): ports. A non-first fragment never matches;
 * fewer than 8 bytes of UDP header drops.
 */
#include <errno.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "xt4.h"

static int udp_check(const void *data)
{
	const struct xt_udp *udp = data;

	return (udp->invflags & ~XT_UDP_INV_MASK) ? -EINVAL : 0;
}

static int udp_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_udp *udp = data;
	struct bf_pred *p;
	int ret;

	p = xt4_rb_add(rb, BF_F_L4HDR);
	if (!p)
		return -ENOMEM;
	p->value = IPPROTO_UDP;
	p->lo = 8;
	ret = xt4_ports_to_ir(rb, BF_F_SPORT, udp->spts, udp->invflags & XT_UDP_INV_SRCPT);
	if (!ret)
		ret = xt4_ports_to_ir(rb, BF_F_DPORT, udp->dpts, udp->invflags & XT_UDP_INV_DSTPT);
	return ret;
}

static bool udp_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_L4HDR && pred->value == IPPROTO_UDP;
}

static int udp_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_udp *udp = data;
	uint32_t i;

	udp->spts[1] = 0xffff;
	udp->dpts[1] = 0xffff;
	for (i = 1; i < n; i++) {
		const struct bf_pred *p = &preds[i];

		if (p->field == BF_F_SPORT) {
			udp->spts[0] = p->lo;
			udp->spts[1] = p->hi;
			udp->invflags |= p->inv ? XT_UDP_INV_SRCPT : 0;
		} else if (p->field == BF_F_DPORT) {
			udp->dpts[0] = p->lo;
			udp->dpts[1] = p->hi;
			udp->invflags |= p->inv ? XT_UDP_INV_DSTPT : 0;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

const struct xt4_match_ops xt4_match_udp = {
	.name = "udp",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_udp),
	.proto = IPPROTO_UDP,
	.check = udp_check,
	.to_ir = udp_to_ir,
	.claims = udp_claims,
	.from_ir = udp_from_ir,
};
