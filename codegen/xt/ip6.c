// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv6 family of the xt front-end: struct ip6t_entry's layout and its
 * ip6t_ip6 part to IR and back, with ip6_packet_match()'s semantics:
 * masked addresses, devices, and the upper-layer protocol found by walking
 * the extension headers (BF_F_PROTO6, only with IP6T_F_PROTO).
 *
 * What the kernel accepts but never looks at: IP6T_F_TOS, the tos byte,
 * IP6T_INV_TOS and IP6T_INV_FRAG (ip6_packet_match() has no TOS and no
 * fragment test; ip6tables never sets them). bpfilter accepts them too and
 * makes no predicate of them, as the kernel would behave; the kept blob
 * (GET_ENTRIES) still has them, only bf_xt6_from_ir() cannot write them
 * back. IP6T_INV_PROTO without IP6T_F_PROTO is ignored the same way.
 *
 * bpfilter's own rule (-EOPNOTSUPP, with a message): a nonzero proto
 * without IP6T_F_PROTO. The kernel then never walks the extension
 * headers, so a tcp or udp match in that rule would read its header at
 * a transport offset that was never computed; no tool writes it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

static bool ip6_ok(const void *ip)
{
	const struct ip6t_ip6 *i = ip;

	return !(i->flags & ~IP6T_F_MASK) && !(i->invflags & ~IP6T_INV_MASK);
}

static uint16_t ip6_proto(const void *ip, bool *inv)
{
	const struct ip6t_ip6 *i = ip;

	*inv = i->invflags & IP6T_INV_PROTO;
	return i->proto;
}

static void ip6_ir_clean(void *ip)
{
	struct ip6t_ip6 *i = ip;
	size_t pad = offsetof(struct ip6t_ip6, invflags) + sizeof(i->invflags);

	/*
	 * The padding after invflags: the kernel's unconditional() compares
	 * it, ip6_packet_match() never reads it (tests/fuzz/fuzz_xt: a
	 * RETURN with padding bytes set was a rule, then the chain's end
	 * after a round trip).
	 */
	memset((uint8_t *)i + pad, 0, sizeof(*i) - pad);
	i->tos = 0;
	i->flags &= ~(IP6T_F_TOS | IP6T_F_GOTO);
	i->invflags &= ~(IP6T_INV_TOS | IP6T_INV_FRAG);
	if (!(i->flags & IP6T_F_PROTO))
		i->invflags &= ~IP6T_INV_PROTO;
}

static bool ip6_is_goto(const void *ip)
{
	return ((const struct ip6t_ip6 *)ip)->flags & IP6T_F_GOTO;
}

static void ip6_set_goto(void *ip)
{
	((struct ip6t_ip6 *)ip)->flags |= IP6T_F_GOTO;
}

static bool ip6_zero(const struct in6_addr *a)
{
	static const struct in6_addr zero;

	return !memcmp(a, &zero, sizeof(zero));
}

static int ip6_addr_to_ir(struct xt4_rb *rb, enum bf_field f,
			  const struct in6_addr *addr,
			  const struct in6_addr *mask, bool inv)
{
	struct bf_pred *p;

	/* Kept literally: address bits outside the mask never match. */
	if (ip6_zero(addr) && ip6_zero(mask) && !inv)
		return 0;
	p = xt4_rb_add(rb, f);
	if (!p)
		return -ENOMEM;
	memcpy(p->a6, addr, sizeof(p->a6));
	memcpy(p->b6, mask, sizeof(p->b6));
	p->inv = inv;
	return 0;
}

static int ip6_proto_to_ir(struct xt4_rb *rb, const struct ip6t_ip6 *ip)
{
	struct bf_pred *p;

	if (!(ip->flags & IP6T_F_PROTO)) {
		if (!ip->proto)
			return 0;
		rb->why = "protocol without IP6T_F_PROTO is not supported (the kernel never finds the transport header then)";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_PROTO6);
	if (!p)
		return -ENOMEM;
	p->value = ip->proto;
	p->inv = ip->invflags & IP6T_INV_PROTO;
	return 0;
}

static int ip6_to_ir(struct bf_ir *ir, struct xt4_rb *rb, const void *ipv)
{
	const struct ip6t_ip6 *ip = ipv;
	uint8_t inv = ip->invflags;
	int ret;

	ret = ip6_addr_to_ir(rb, BF_F_SADDR6, &ip->src, &ip->smsk, inv & IP6T_INV_SRCIP);
	if (!ret)
		ret = ip6_addr_to_ir(rb, BF_F_DADDR6, &ip->dst, &ip->dmsk,
				     inv & IP6T_INV_DSTIP);
	if (!ret)
		ret = xt4_iface_to_ir(ir, rb, BF_F_IIF, ip->iniface, ip->iniface_mask,
				      inv & IP6T_INV_VIA_IN);
	if (!ret)
		ret = xt4_iface_to_ir(ir, rb, BF_F_OIF, ip->outiface, ip->outiface_mask,
				      inv & IP6T_INV_VIA_OUT);
	if (!ret)
		ret = ip6_proto_to_ir(rb, ip);
	return ret;
}

static int ip6_from_ir(const struct bf_ir *ir, const struct bf_rule *r, void *ipv)
{
	struct ip6t_ip6 *ip = ipv;
	uint32_t i;
	int ret;

	for (i = 0; i < r->n_preds; i++) {
		const struct bf_pred *p = &r->preds[i];

		switch (p->field) {
		case BF_F_SADDR6:
			memcpy(&ip->src, p->a6, sizeof(ip->src));
			memcpy(&ip->smsk, p->b6, sizeof(ip->smsk));
			ip->invflags |= p->inv ? IP6T_INV_SRCIP : 0;
			break;
		case BF_F_DADDR6:
			memcpy(&ip->dst, p->a6, sizeof(ip->dst));
			memcpy(&ip->dmsk, p->b6, sizeof(ip->dmsk));
			ip->invflags |= p->inv ? IP6T_INV_DSTIP : 0;
			break;
		case BF_F_IIF:
			ret = xt4_iface_from_ir(ir, p, ip->iniface, ip->iniface_mask);
			if (ret)
				return ret;
			ip->invflags |= p->inv ? IP6T_INV_VIA_IN : 0;
			break;
		case BF_F_OIF:
			ret = xt4_iface_from_ir(ir, p, ip->outiface, ip->outiface_mask);
			if (ret)
				return ret;
			ip->invflags |= p->inv ? IP6T_INV_VIA_OUT : 0;
			break;
		case BF_F_PROTO6:
			/*
			 * ip6t_ip6.proto is 16 bits and the kernel takes any
			 * value (above 255 it never equals a header number).
			 */
			if (p->value > 0xffff)
				return -EINVAL;
			ip->proto = p->value;
			ip->flags |= IP6T_F_PROTO;
			ip->invflags |= p->inv ? IP6T_INV_PROTO : 0;
			break;
		default:
			break;
		}
	}
	return 0;
}

static bool ip6_field(enum bf_field f)
{
	return f == BF_F_IIF || f == BF_F_OIF || f == BF_F_SADDR6 ||
	       f == BF_F_DADDR6 || f == BF_F_PROTO6;
}

_Static_assert(sizeof(struct ip6t_replace) == sizeof(struct ipt_replace) &&
	       offsetof(struct ip6t_replace, entries) == offsetof(struct ipt_replace, entries) &&
	       offsetof(struct ip6t_replace, counters) == offsetof(struct ipt_replace, counters) &&
	       offsetof(struct ip6t_replace, num_counters) == offsetof(struct ipt_replace, num_counters),
	       "ip6t_replace must be laid out as ipt_replace");

const struct xt4_fam xt4_fam_ipv6 = {
	.af = AF_INET6,
	.bit = XT4_FAM_V6,
	.replace = "ip6t_replace",
	.entry_sz = sizeof(struct ip6t_entry),
	.ip_sz = sizeof(struct ip6t_ip6),
	.off_toff = offsetof(struct ip6t_entry, target_offset),
	.off_noff = offsetof(struct ip6t_entry, next_offset),
	.off_comefrom = offsetof(struct ip6t_entry, comefrom),
	.off_counters = offsetof(struct ip6t_entry, counters),
	.ip_ok = ip6_ok,
	.ip_proto = ip6_proto,
	.ip_ir_clean = ip6_ir_clean,
	.ip_is_goto = ip6_is_goto,
	.ip_set_goto = ip6_set_goto,
	.ip_to_ir = ip6_to_ir,
	.ip_from_ir = ip6_from_ir,
	.ip_field = ip6_field,
};
