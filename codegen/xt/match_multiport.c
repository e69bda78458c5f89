// SPDX-License-Identifier: GPL-2.0
/*
 * -m multiport (xt_multiport, revision 1): up to 15 ports or ranges
 * (a range takes two port slots, its first flagged in pflags) of the
 * source, destination or either port, `!` inverts. A non-first fragment
 * never matches; fewer than 4 L4 bytes drops.
 *
 * checkentry: the rule's protocol is tcp, udp, udplite, sctp or dccp and
 * not inverted, flags is a known side, count <= 15, and every range ends
 * inside `count`, has no range flag on its end slot and start <= end
 * (else -EINVAL; measured on 6.18).
 * Accepted by the kernel but refused here (-EOPNOTSUPP), since no tool
 * writes it and its meaning is an accident of the kernel's code: an
 * invert byte other than 0 or 1 (which makes the match always true).
 */
#include <errno.h>
#include <linux/netfilter/xt_multiport.h>

#include "xt4.h"

static int multiport_check(uint16_t proto, bool inv_proto, const void *data)
{
	const struct xt_multiport_v1 *mp = data;
	uint32_t i;

	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		break;
	default:
		return -EINVAL;
	}
	if (inv_proto)
		return -EINVAL;
	if (mp->flags > XT_MULTIPORT_EITHER || mp->count > XT_MULTI_PORTS)
		return -EINVAL;
	/*
	 * A range's end slot lies inside `count`, carries no range flag
	 * itself and is not below its start (6.18's checkentry).
	 */
	for (i = 0; i < mp->count; i++) {
		if (!mp->pflags[i])
			continue;
		if (i + 1 >= mp->count || mp->pflags[i + 1] ||
		    mp->ports[i] > mp->ports[i + 1])
			return -EINVAL;
		i++;
	}
	return 0;
}

static int multiport_check4(const struct ipt_ip *ip, const void *data)
{
	return multiport_check(ip->proto, ip->invflags & IPT_INV_PROTO, data);
}

/* multiport_mt6_check(): the same rules on ip6t_ip6's proto. */
static int multiport_check6(const struct ip6t_ip6 *ip, const void *data)
{
	return multiport_check(ip->proto, ip->invflags & IP6T_INV_PROTO, data);
}

static int multiport_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_multiport_v1 *mp = data;
	struct bf_pred *head, *p;
	uint32_t i, n = 0;

	if (mp->invert > 1) {
		rb->why = "match 'multiport': invert byte other than 0 or 1 is not supported";
		return -EOPNOTSUPP;
	}
	head = xt4_rb_add(rb, BF_F_MPORT);
	if (!head)
		return -ENOMEM;
	head->value = mp->flags;
	head->inv = mp->invert;
	for (i = 0; i < mp->count; i++, n++) {
		p = xt4_rb_add(rb, BF_F_MPORT_ITEM);
		if (!p)
			return -ENOMEM;
		p->lo = p->hi = mp->ports[i];
		if (mp->pflags[i]) {
			p->flags = BF_MPORT_RANGE;
			p->hi = mp->ports[++i];
		}
	}
	/* xt4_rb_add() may have moved the array */
	rb->preds[rb->n - n - 1].lo = n;
	return 0;
}

static bool multiport_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_MPORT;
}

static int multiport_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_multiport_v1 *mp = data;
	uint32_t i, k = 0;

	if (preds[0].value > XT_MULTIPORT_EITHER || preds[0].lo != n - 1)
		return -EINVAL;
	mp->flags = preds[0].value;
	mp->invert = preds[0].inv;
	for (i = 1; i < n; i++) {
		const struct bf_pred *p = &preds[i];
		bool range = p->flags & BF_MPORT_RANGE;

		if (p->field != BF_F_MPORT_ITEM || p->lo > 0xffff || p->hi > 0xffff ||
		    k + range >= XT_MULTI_PORTS || (!range && p->lo != p->hi))
			return -EINVAL;
		mp->ports[k] = p->lo;
		if (range) {
			mp->pflags[k++] = 1;
			mp->ports[k] = p->hi;
		}
		k++;
	}
	mp->count = k;
	return 0;
}

const struct xt4_match_ops xt4_match_multiport = {
	.name = "multiport",
	.revision = 1,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_multiport_v1),
	.check_ip = multiport_check4,
	.check_ip6 = multiport_check6,
	.to_ir = multiport_to_ir,
	.claims = multiport_claims,
	.from_ir = multiport_from_ir,
};
