// SPDX-License-Identifier: GPL-2.0
/*
 * -m state --state (xt_state, revision 0, every family): the connection
 * tracking state is in `statemask` (XT_STATE_BIT(): INVALID 1,
 * ESTABLISHED 2, RELATED 4, NEW 8, UNTRACKED 64, which is 0x100 in
 * the IR, xt_conntrack's value). No inversion field:
 * iptables folds `!` into the mask. iptables 1.8.9 writes -m state as
 * conntrack revision 3 when the kernel has it (match_conntrack.c); this
 * is the older form, still accepted by the kernel. Its checkentry only
 * takes a conntrack reference. Bits no packet has never match.
 */
#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_state.h>

#include "xt4.h"

/* xt_state's bits that can match: INVALID, ESTABLISHED, RELATED, NEW */
#define STATE_CTINFO	0x0fu

static int state_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_state_info *info = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_CTSTATE);
	if (!p)
		return -ENOMEM;
	p->value = info->statemask & STATE_CTINFO;
	if (info->statemask & XT_STATE_UNTRACKED)
		p->value |= BF_CT_UNTRACKED;
	p->lo = info->statemask & ~(STATE_CTINFO | XT_STATE_UNTRACKED);
	return 0;
}

static bool state_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_CTSTATE && pred->flags == 0;
}

static int state_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_state_info *info = data;

	if (n != 1 || preds[0].inv || preds[0].flags ||
	    (preds[0].value & ~(STATE_CTINFO | BF_CT_UNTRACKED)) ||
	    (preds[0].lo & (STATE_CTINFO | XT_STATE_UNTRACKED)))
		return -EINVAL;
	info->statemask = (preds[0].value & STATE_CTINFO) | preds[0].lo;
	if (preds[0].value & BF_CT_UNTRACKED)
		info->statemask |= XT_STATE_UNTRACKED;
	return 0;
}

const struct xt4_match_ops xt4_match_state = {
	.name = "state",
	.revision = 0,
	.data_size = sizeof(struct xt_state_info),
	.unspec = true,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.to_ir = state_to_ir,
	.claims = state_claims,
	.from_ir = state_from_ir,
};
