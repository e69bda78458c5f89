// SPDX-License-Identifier: GPL-2.0
/*
 * -m tcp (xt_tcp, revision 0): ports, flags, option. A non-first fragment
 * never matches and the fragment at offset 1 is dropped (the "evil"
 * fragment that could rewrite the flags); fewer than 20 bytes of TCP
 * header drops; an option search past the header drops.
 */
#include <errno.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "xt4.h"

static int tcp_check(const void *data)
{
	const struct xt_tcp *tcp = data;

	return (tcp->invflags & ~XT_TCP_INV_MASK) ? -EINVAL : 0;
}

static int tcp_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_tcp *tcp = data;
	struct bf_pred *p;
	int ret;

	p = xt4_rb_add(rb, BF_F_L4HDR);
	if (!p)
		return -ENOMEM;
	p->value = IPPROTO_TCP;
	p->lo = 20;
	p->flags = BF_L4_EVIL_FRAG;
	ret = xt4_ports_to_ir(rb, BF_F_SPORT, tcp->spts, tcp->invflags & XT_TCP_INV_SRCPT);
	if (!ret)
		ret = xt4_ports_to_ir(rb, BF_F_DPORT, tcp->dpts, tcp->invflags & XT_TCP_INV_DSTPT);
	if (ret)
		return ret;
	if (tcp->flg_mask || tcp->flg_cmp || (tcp->invflags & XT_TCP_INV_FLAGS)) {
		p = xt4_rb_add(rb, BF_F_TCPFLAGS);
		if (!p)
			return -ENOMEM;
		p->value = tcp->flg_cmp;
		p->mask = tcp->flg_mask;
		p->inv = tcp->invflags & XT_TCP_INV_FLAGS;
	}
	if (tcp->option) {
		p = xt4_rb_add(rb, BF_F_TCPOPT);
		if (!p)
			return -ENOMEM;
		p->value = tcp->option;
		p->inv = tcp->invflags & XT_TCP_INV_OPTION;
	}
	return 0;
}

static bool tcp_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_L4HDR && pred->value == IPPROTO_TCP;
}

static int tcp_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_tcp *tcp = data;
	uint32_t i;

	tcp->spts[1] = 0xffff;
	tcp->dpts[1] = 0xffff;
	for (i = 1; i < n; i++) {
		const struct bf_pred *p = &preds[i];

		switch (p->field) {
		case BF_F_SPORT:
			tcp->spts[0] = p->lo;
			tcp->spts[1] = p->hi;
			tcp->invflags |= p->inv ? XT_TCP_INV_SRCPT : 0;
			break;
		case BF_F_DPORT:
			tcp->dpts[0] = p->lo;
			tcp->dpts[1] = p->hi;
			tcp->invflags |= p->inv ? XT_TCP_INV_DSTPT : 0;
			break;
		case BF_F_TCPFLAGS:
			tcp->flg_cmp = p->value;
			tcp->flg_mask = p->mask;
			tcp->invflags |= p->inv ? XT_TCP_INV_FLAGS : 0;
			break;
		case BF_F_TCPOPT:
			tcp->option = p->value;
			tcp->invflags |= p->inv ? XT_TCP_INV_OPTION : 0;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

const struct xt4_match_ops xt4_match_tcp = {
	.name = "tcp",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_tcp),
	.proto = IPPROTO_TCP,
	.check = tcp_check,
	.to_ir = tcp_to_ir,
	.claims = tcp_claims,
	.from_ir = tcp_from_ir,
};
