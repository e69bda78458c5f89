// SPDX-License-Identifier: GPL-2.0
/*
 * -j REJECT (ipt_REJECT, revision 0, struct ipt_reject_info): DROP the
 * packet after sending an ICMP destination unreachable of the chosen code
 * or a TCP RST (BF_V_REJECT, rule->reject_with = enum ipt_reject_with).
 *
 * The kernel registers it for the filter table at INPUT, FORWARD and
 * OUTPUT only (a chain reached from another hook is -EINVAL), and its
 * checkentry refuses IPT_ICMP_ECHOREPLY and a tcp-reset without
 * "-p tcp" (or with "! -p tcp") with -EINVAL. Values past
 * IPT_ICMP_ADMIN_PROHIBITED pass its checkentry and then only drop; no
 * tool writes them, and bpfilter refuses them (-EOPNOTSUPP).
 * Which replies the programs can build is decided by the generator
 * (codegen/gen_target.c), which refuses the others cleanly.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include "xt4.h"

static int reject_check(const struct ipt_entry *e, const void *data)
{
	const struct ipt_reject_info *info = data;

	if (info->with == IPT_ICMP_ECHOREPLY)
		return -EINVAL;
	if (info->with == IPT_TCP_RESET &&
	    (e->ip.proto != IPPROTO_TCP || (e->ip.invflags & XT_INV_PROTO)))
		return -EINVAL;
	return 0;
}

static int reject_to_ir(struct bf_rule *r, const void *data, const char **why)
{
	const struct ipt_reject_info *info = data;

	if ((uint32_t)info->with > IPT_ICMP_ADMIN_PROHIBITED) {
		*why = "--reject-with value past icmp-admin-prohibited (the kernel only drops)";
		return -EOPNOTSUPP;
	}
	r->reject_with = info->with;
	return 0;
}

static int reject_from_ir(const struct bf_rule *r, void *data)
{
	struct ipt_reject_info *info = data;

	if (r->reject_with > IPT_ICMP_ADMIN_PROHIBITED)
		return -EINVAL;
	info->with = r->reject_with;
	return 0;
}

const struct xt4_target_ops xt4_target_reject = {
	.name = "REJECT",
	.revision = 0,
	.data_size = sizeof(struct ipt_reject_info),
	.hooks = XT4_FILTER_HOOKS,
	.verdict = BF_V_REJECT,
	.families = XT4_FAM_V4,
	.check = reject_check,
	.to_ir = reject_to_ir,
	.from_ir = reject_from_ir,
};
