// SPDX-License-Identifier: GPL-2.0
/*
 * -m mac --mac-source (xt_mac, revision 0; registered per family in 6.18:
 * another revision is -ENOENT, measured): the Ethernet
 * source address, `!` inverts. Only in chains reached from PREROUTING,
 * INPUT and FORWARD (else -EINVAL, xt_check_match()'s hook mask). The
 * kernel XORs the raw int `invert` into the answer, so a value other
 * than 0 or 1 would make the match always true; iptables never writes
 * one and bpfilter refuses it.
 */
#include <errno.h>
#include <linux/netfilter/xt_mac.h>

#include "xt4.h"

static int mac_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_mac_info *info = data;
	const uint8_t *a = info->srcaddr;
	struct bf_pred *p;

	if (info->invert != 0 && info->invert != 1) {
		rb->why = "match 'mac': invert other than 0 or 1 is not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_SMAC);
	if (!p)
		return -ENOMEM;
	p->value = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		   (uint32_t)a[2] << 8 | a[3];
	p->lo = (uint32_t)a[4] << 8 | a[5];
	p->inv = info->invert;
	return 0;
}

static bool mac_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_SMAC;
}

static int mac_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_mac_info *info = data;
	uint32_t v = preds[0].value;

	if (n != 1 || preds[0].lo > 0xffff)
		return -EINVAL;
	info->srcaddr[0] = v >> 24;
	info->srcaddr[1] = v >> 16;
	info->srcaddr[2] = v >> 8;
	info->srcaddr[3] = v;
	info->srcaddr[4] = preds[0].lo >> 8;
	info->srcaddr[5] = preds[0].lo;
	info->invert = preds[0].inv;
	return 0;
}

const struct xt4_match_ops xt4_match_mac = {
	.name = "mac",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_mac_info),
	.hooks = (1U << NF_INET_PRE_ROUTING) | (1U << NF_INET_LOCAL_IN) |
		 (1U << NF_INET_FORWARD),
	.to_ir = mac_to_ir,
	.claims = mac_claims,
	.from_ir = mac_from_ir,
};
