// SPDX-License-Identifier: GPL-2.0
/*
 * -m addrtype (xt_addrtype, revision 1; 6.18 registers it per family, so
 * another revision is -ENOENT, measured; revision 0, IPv4 only, is not
 * translated): --src-type / --dst-type
 * with any set of types (XT_ADDRTYPE_* = 1 << RTN_*), each invertible,
 * and --limit-iface-in / --limit-iface-out. checkentry: both limits at
 * once, --limit-iface-out in a chain reached from PREROUTING or INPUT,
 * --limit-iface-in from POSTROUTING or OUTPUT are -EINVAL. Flag bits the
 * kernel does not know are ignored by it and kept here (round trips).
 * How the types are decided: BF_F_ADDRTYPE in include/bpfilter/ir.h and
 * docs/design-notes.md.
 */
#include <errno.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter_ipv6.h>

#include "xt4.h"

static int addrtype_check_hooks(uint32_t hook_mask, const void *data)
{
	const struct xt_addrtype_info_v1 *info = data;

	if ((info->flags & XT_ADDRTYPE_LIMIT_IFACE_IN) &&
	    (info->flags & XT_ADDRTYPE_LIMIT_IFACE_OUT))
		return -EINVAL;
	if ((hook_mask & ((1U << NF_INET_PRE_ROUTING) | (1U << NF_INET_LOCAL_IN))) &&
	    (info->flags & XT_ADDRTYPE_LIMIT_IFACE_OUT))
		return -EINVAL;
	if ((hook_mask & ((1U << NF_INET_POST_ROUTING) | (1U << NF_INET_LOCAL_OUT))) &&
	    (info->flags & XT_ADDRTYPE_LIMIT_IFACE_IN))
		return -EINVAL;
	return 0;
}

static int addrtype_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_addrtype_info_v1 *info = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_ADDRTYPE);
	if (!p)
		return -ENOMEM;
	p->lo = info->source;
	p->hi = info->dest;
	p->flags = info->flags;
	return 0;
}

static bool addrtype_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_ADDRTYPE;
}

static int addrtype_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_addrtype_info_v1 *info = data;

	if (n != 1 || preds[0].inv || preds[0].lo > 0xffff || preds[0].hi > 0xffff)
		return -EINVAL;
	info->source = preds[0].lo;
	info->dest = preds[0].hi;
	info->flags = preds[0].flags;
	return 0;
}

const struct xt4_match_ops xt4_match_addrtype = {
	.name = "addrtype",
	.revision = 1,
	.data_size = sizeof(struct xt_addrtype_info_v1),
	.check_hooks = addrtype_check_hooks,
	.to_ir = addrtype_to_ir,
	.claims = addrtype_claims,
	.from_ir = addrtype_from_ir,
};

/*
 * ip6tables (addrtype_mt6(), the same struct and checkentry, plus the IPv6
 * type checks, all -EINVAL): BLACKHOLE, anything from PROHIBIT up, and
 * BROADCAST are refused by the kernel. UNSPEC, UNICAST and MULTICAST come
 * from the address alone (ipv6_addr_type()); LOCAL, ANYCAST and
 * UNREACHABLE from the route lookup match_lookup_rt6(), modelled by
 * BF_MAP_ADDRTYPE6 (codegen/loader_addrs6.c) without a device: with
 * --limit-iface-in/out the kernel's lookup is strict on the device and
 * checks the address on it, which is not modelled (-EOPNOTSUPP).
 */
#define ADDRTYPE6_LOOKUP	(XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_ANYCAST | \
				 XT_ADDRTYPE_UNREACHABLE)
#define ADDRTYPE6_LIMITS	(XT_ADDRTYPE_LIMIT_IFACE_IN | \
				 XT_ADDRTYPE_LIMIT_IFACE_OUT)

static int addrtype6_check_hooks(uint32_t hook_mask, const void *data)
{
	const struct xt_addrtype_info_v1 *info = data;
	uint32_t types = info->source | info->dest;
	int ret;

	ret = addrtype_check_hooks(hook_mask, data);
	if (ret)
		return ret;
	if (types & XT_ADDRTYPE_BLACKHOLE)
		return -EINVAL;
	if (types >= XT_ADDRTYPE_PROHIBIT)
		return -EINVAL;
	if (types & XT_ADDRTYPE_BROADCAST)
		return -EINVAL;
	return 0;
}

static int addrtype6_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_addrtype_info_v1 *info = data;
	struct bf_pred *p;

	if (((info->source | info->dest) & ADDRTYPE6_LOOKUP) &&
	    (info->flags & ADDRTYPE6_LIMITS)) {
		rb->why = "match 'addrtype': IPv6 LOCAL, ANYCAST and UNREACHABLE with --limit-iface-in/out need the kernel's device-strict IPv6 route lookup, which is not modelled (without a device limit they are supported)";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_ADDRTYPE6);
	if (!p)
		return -ENOMEM;
	p->lo = info->source;
	p->hi = info->dest;
	p->flags = info->flags;
	return 0;
}

static bool addrtype6_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_ADDRTYPE6;
}

const struct xt4_match_ops xt6_match_addrtype = {
	.name = "addrtype",
	.revision = 1,
	.data_size = sizeof(struct xt_addrtype_info_v1),
	.families = XT4_FAM_V6,
	.check_hooks = addrtype6_check_hooks,
	.to_ir = addrtype6_to_ir,
	.claims = addrtype6_claims,
	.from_ir = addrtype_from_ir,
};
