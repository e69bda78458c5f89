// SPDX-License-Identifier: GPL-2.0
/*
 * BF_MAP_ADDRTYPE6: what match_lookup_rt6() (ip6tables -m addrtype
 * LOCAL, ANYCAST, UNREACHABLE without --limit-iface-*) finds, as an LPM
 * trie the generated code reads (docs/design-notes.md, "-m addrtype for
 * ip6tables"). ip6_route_output() with only the default FIB rules looks
 * in table local, then main; a throw route or no route goes on, and no
 * route at all is ip6_null_entry (UNREACHABLE). Per table the longest
 * prefix wins, of equal prefixes the lowest metric. A route's answer:
 * LOCAL for RTF_LOCAL (type local), ANYCAST for RTF_ANYCAST (addrconf's
 * anycast routes), UNREACHABLE for a reject route (unreachable, prohibit,
 * blackhole: the dst carries an error). ipv6_anycast_destination() also
 * says ANYCAST when the address is the prefix address of a gateway-less
 * route shorter than /127: that address gets its own /128 entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "bpfilter/codegen.h"
#include "loader_addrs.h"

#define ADDRS6_MAX	65536

struct addrs6_route {
	struct bf_addrtype6_key key;
	struct bf_addrtype6_val val;
	uint32_t prio;
	bool gateway;
};

struct addrs6_ctx {
	struct addrs6_route *r;
	uint32_t n, cap;
	int err;
};

/* A gateway (RTF_GATEWAY): RTA_GATEWAY, or one in the first nexthop. */
static bool addrs6_gateway(const struct nlattr **tb)
{
	const struct rtnexthop *nh;

	if (tb[RTA_GATEWAY] || tb[RTA_VIA])
		return true;
	if (!tb[RTA_MULTIPATH] ||
	    mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) < sizeof(*nh))
		return false;
	nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
	return nh->rtnh_len > sizeof(*nh);	/* it carries RTA_GATEWAY */
}

/*
 * RTF_ANYCAST is set by addrconf only (proto kernel); an anycast route a
 * user adds is a plain route to the kernel (measured).
 */
static uint32_t addrs6_bits(const struct rtmsg *rtm)
{
	switch (rtm->rtm_type) {
	case RTN_LOCAL:
		return XT_ADDRTYPE_LOCAL;
	case RTN_ANYCAST:
		return rtm->rtm_protocol == RTPROT_KERNEL ? XT_ADDRTYPE_ANYCAST : 0;
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
	case RTN_BLACKHOLE:
		return XT_ADDRTYPE_UNREACHABLE;
	case RTN_THROW:
		return BF_ADT6_THROW;
	default:
		return 0;
	}
}

static bool addrs6_same(const struct bf_addrtype6_key *a,
			const struct bf_addrtype6_key *b)
{
	return a->prefixlen == b->prefixlen && a->table == b->table &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int addrs6_add(struct addrs6_ctx *c, const struct addrs6_route *r)
{
	uint32_t i;
	void *p;

	for (i = 0; i < c->n; i++) {
		if (addrs6_same(&c->r[i].key, &r->key)) {
			if (r->prio < c->r[i].prio)	/* lowest metric first */
				c->r[i] = *r;
			return 0;
		}
	}
	p = bf_addrs_grow(c->r, c->n, &c->cap, sizeof(*c->r));
	if (!p)
		return -ENOMEM;
	c->r = p;
	c->r[c->n++] = *r;
	return 0;
}

/*
 * A route out of the loopback device that is not type local and not ::1
 * is held as a reject route by the kernel (RTF_REJECT, the dump still
 * says its type; measured: unicast and anycast routes via lo answer
 * UNREACHABLE). lo is ifindex 1 in every network namespace.
 */
static bool addrs6_via_lo(const struct nlattr **tb, const struct rtmsg *rtm,
			  const struct addrs6_route *r)
{
	static const uint8_t loopback[16] = { [15] = 1 };

	/* reject and throw routes show dev lo too: their own answer */
	if (!tb[RTA_OIF] || mnl_attr_get_u32(tb[RTA_OIF]) != 1 ||
	    rtm->rtm_type == RTN_LOCAL ||
	    (r->val.bits & (XT_ADDRTYPE_UNREACHABLE | BF_ADT6_THROW)))
		return false;
	return rtm->rtm_dst_len != 128 || memcmp(r->key.addr, loopback, 16);
}

static int addrs6_route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct addrs6_ctx *c = data;
	struct addrs6_route r = { 0 };
	uint32_t table;

	if (rtm->rtm_family != AF_INET6 || rtm->rtm_dst_len > 128)
		return MNL_CB_OK;
	table = bf_addrs_parse(nlh, tb);
	if (table != RT_TABLE_LOCAL && table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	/* source-specific routes never serve saddr ::; dead ones are skipped */
	if (rtm->rtm_src_len || (rtm->rtm_flags & RTNH_F_DEAD) ||
	    (tb[RTA_CACHEINFO] && (rtm->rtm_flags & RTM_F_CLONED)))
		return MNL_CB_OK;
	r.key.prefixlen = 32 + rtm->rtm_dst_len;
	r.key.table = table == RT_TABLE_LOCAL ? 0 : 1;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) >= 16)
		memcpy(r.key.addr, mnl_attr_get_payload(tb[RTA_DST]), 16);
	r.prio = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	r.val.bits = addrs6_bits(rtm);
	r.gateway = addrs6_gateway(tb);
	if (addrs6_via_lo(tb, rtm, &r))
		r.val.bits = XT_ADDRTYPE_UNREACHABLE;
	if (addrs6_add(c, &r))
		c->err = -ENOMEM;
	return MNL_CB_OK;
}

/*
 * The subnet-router anycast: the prefix address A of route i answers
 * ANYCAST when the longest route of its table covering A is i (then no
 * longer route has A as its prefix address), shorter than /127, without
 * a gateway and not a reject or throw route (those end the lookup first).
 */
static int addrs6_anycast(struct addrs6_ctx *c, uint32_t i)
{
	struct addrs6_route a = c->r[i];
	uint32_t j;

	if (a.key.prefixlen >= 32 + 127 || a.gateway ||
	    (a.val.bits & (XT_ADDRTYPE_UNREACHABLE | BF_ADT6_THROW)))
		return 0;
	for (j = 0; j < c->n; j++)
		if (c->r[j].key.table == a.key.table &&
		    c->r[j].key.prefixlen > a.key.prefixlen &&
		    !memcmp(c->r[j].key.addr, a.key.addr, 16))
			return 0;
	a.key.prefixlen = 32 + 128;
	a.val.bits |= XT_ADDRTYPE_ANYCAST;
	return addrs6_add(c, &a);
}

static bool addrs6_pred_used(const struct bf_pred *p)
{
	return p->field == BF_F_ADDRTYPE6 &&
	       ((p->lo | p->hi) & (XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_ANYCAST |
				   XT_ADDRTYPE_UNREACHABLE));
}

static bool addrs6_used(const struct bf_ir *ir)
{
	const struct bf_rule *r;
	uint32_t c, i, k;

	for (c = 0; c < ir->n_chains; c++) {
		for (i = 0; i < ir->chains[c].n_rules; i++) {
			r = &ir->chains[c].rules[i];
			for (k = 0; k < r->n_preds; k++)
				if (addrs6_pred_used(&r->preds[k]))
					return true;
		}
	}
	return false;
}

int bf_maps_sync_addrs6(const struct bf_ir *ir, const struct bf_maps *maps)
{
	struct addrs6_ctx c = { 0 };
	uint32_t i, n;
	int fd, ret;

	if (!ir || !maps)
		return -EINVAL;
	fd = maps->fd[BF_MAP_ADDRTYPE6];
	if (fd < 0 || !addrs6_used(ir))
		return 0;
	ret = bf_addrs_dump(RTM_GETROUTE, AF_INET6, addrs6_route_cb, &c);
	if (!ret)
		ret = c.err;
	n = c.n;
	for (i = 0; !ret && i < n; i++)
		ret = addrs6_anycast(&c, i);
	if (!ret)
		ret = bf_addrs_clear(fd, ADDRS6_MAX);
	for (i = 0; !ret && i < c.n && i < ADDRS6_MAX; i++)
		if (bpf_map_update_elem(fd, &c.r[i].key, &c.r[i].val, BPF_ANY))
			ret = -errno;
	free(c.r);
	return ret;
}
