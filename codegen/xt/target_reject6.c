// SPDX-License-Identifier: GPL-2.0
/*
 * ip6tables -j REJECT (ip6t_REJECT, revision 0, struct ip6t_reject_info):
 * DROP the packet after sending an ICMPv6 destination unreachable of the
 * chosen code or a TCP RST (BF_V_REJECT, rule->reject_with = enum
 * ip6t_reject_with: in an AF_INET6 IR the value is the IPv6 enum).
 *
 * As for IPv4 the kernel registers it for the filter table at INPUT,
 * FORWARD and OUTPUT; its checkentry (reject_tg6_check) refuses
 * IP6T_ICMP6_ECHOREPLY, and a tcp-reset unless the rule says "-p tcp"
 * (IP6T_F_PROTO set, proto 6, not inverted), with -EINVAL. Values past
 * IP6T_ICMP6_REJECT_ROUTE pass its checkentry and then only drop; no tool
 * writes them, and bpfilter refuses them (-EOPNOTSUPP).
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include "xt4.h"

static int reject6_check(const struct ipt_entry *e4, const void *data)
{
	const struct ip6t_entry *e = (const struct ip6t_entry *)e4;
	const struct ip6t_reject_info *info = data;

	if (info->with == IP6T_ICMP6_ECHOREPLY)
		return -EINVAL;
	if (info->with == IP6T_TCP_RESET &&
	    (!(e->ipv6.flags & IP6T_F_PROTO) || e->ipv6.proto != IPPROTO_TCP ||
	     (e->ipv6.invflags & XT_INV_PROTO)))
		return -EINVAL;
	return 0;
}

static int reject6_to_ir(struct bf_rule *r, const void *data, const char **why)
{
	const struct ip6t_reject_info *info = data;

	if ((uint32_t)info->with > IP6T_ICMP6_REJECT_ROUTE) {
		*why = "--reject-with value past icmp6-reject-route (the kernel only drops)";
		return -EOPNOTSUPP;
	}
	r->reject_with = info->with;
	return 0;
}

static int reject6_from_ir(const struct bf_rule *r, void *data)
{
	struct ip6t_reject_info *info = data;

	if (r->reject_with > IP6T_ICMP6_REJECT_ROUTE)
		return -EINVAL;
	info->with = r->reject_with;
	return 0;
}

const struct xt4_target_ops xt6_target_reject = {
	.name = "REJECT",
	.revision = 0,
	.data_size = sizeof(struct ip6t_reject_info),
	.hooks = XT4_FILTER_HOOKS,
	.verdict = BF_V_REJECT,
	.families = XT4_FAM_V6,
	.check = reject6_check,
	.to_ir = reject6_to_ir,
	.from_ir = reject6_from_ir,
};
