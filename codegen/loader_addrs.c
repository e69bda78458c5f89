// SPDX-License-Identifier: GPL-2.0
/*
 * BF_MAP_ADDRTYPE: the routes inet_dev_addr_type() looks addresses up in,
 * as an LPM trie the generated code reads (docs/design-notes.md,
 * "-m addrtype"). The kernel looks in the local table (RT_TABLE_LOCAL),
 * which shares its trie with main while the netns has no FIB rules of
 * its own; routes whose type makes fib_table_lookup() fail (blackhole,
 * unreachable, prohibit, throw) leave the answer at UNICAST.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "bpfilter/codegen.h"
#include "loader_addrs.h"

#define ADDRS_MAX	65536

struct addrs_route {
	struct bf_addrtype_key key;
	struct bf_addrtype_val val;
	uint32_t prio;
};

struct addrs_ctx {
	bool merged;		/* local and main share one trie */
	uint32_t n_rules;
	struct addrs_route *r;
	uint32_t n, cap;
	int err;
};

int bf_addrs_dump(int type, int family, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	unsigned int seq = (unsigned int)time(NULL), pid;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	pid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, (size_t)ret, seq, pid, cb, data);
	} while (ret > 0);
	if (ret < 0)
		ret = -errno;
out:
	mnl_socket_close(nl);
	return ret < 0 ? ret : 0;
}

/* Only the default rules (local 0, main 32766, default 32767)? */
static int addrs_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addrs_ctx *c = data;

	(void)nlh;
	c->n_rules++;
	return MNL_CB_OK;
}

static int addrs_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= RTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

uint32_t bf_addrs_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	mnl_attr_parse(nlh, sizeof(*rtm), addrs_attr_cb, tb);
	return tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
}

void *bf_addrs_grow(void *arr, uint32_t n, uint32_t *cap, size_t size)
{
	uint32_t more = *cap * 2 + 64;
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, more * size);
	if (p)
		*cap = more;
	return p;
}

static uint32_t addrs_oif(const struct nlattr **tb)
{
	const struct rtnexthop *nh;

	if (tb[RTA_OIF])
		return mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_MULTIPATH] &&
	    mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(*nh)) {
		nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		return (uint32_t)nh->rtnh_ifindex;
	}
	return 0;
}

static int addrs_add(struct addrs_ctx *c, const struct addrs_route *r)
{
	uint32_t i;
	void *p;

	for (i = 0; i < c->n; i++) {
		if (c->r[i].key.prefixlen == r->key.prefixlen &&
		    c->r[i].key.addr == r->key.addr) {
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

static int addrs_route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct addrs_ctx *c = data;
	struct addrs_route r = { 0 };
	uint32_t table;

	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len > 32)
		return MNL_CB_OK;
	table = bf_addrs_parse(nlh, tb);
	if (table != RT_TABLE_LOCAL && !(c->merged && table == RT_TABLE_MAIN))
		return MNL_CB_OK;
	/* a flow of tos 0 never matches a tos route; dead routes are skipped */
	if (rtm->rtm_tos || (rtm->rtm_flags & RTNH_F_DEAD))
		return MNL_CB_OK;
	r.key.prefixlen = rtm->rtm_dst_len;
	r.key.addr = tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0;
	r.prio = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	switch (rtm->rtm_type) {
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
	case RTN_THROW:
		/* fib_table_lookup() fails: inet_addr_type() says UNICAST */
		r.val.type = RTN_UNICAST;
		break;
	default:
		r.val.type = rtm->rtm_type;
		r.val.ifindex = addrs_oif(tb);
	}
	if (addrs_add(c, &r))
		c->err = -ENOMEM;
	return MNL_CB_OK;
}

_Static_assert(sizeof(struct bf_addrtype_key) <= BF_ADDRS_KEY_MAX &&
	       sizeof(struct bf_addrtype6_key) <= BF_ADDRS_KEY_MAX, "BF_ADDRS_KEY_MAX too small");

int bf_addrs_clear(int fd, uint32_t max)
{
	uint8_t key[BF_ADDRS_KEY_MAX];
	uint32_t n = 0;

	while (!bpf_map_get_next_key(fd, NULL, key) && n++ < max + 1)
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

int bf_maps_sync_addrs(const struct bf_ir *ir, const struct bf_maps *maps)
{
	struct addrs_ctx c = { 0 };
	uint32_t i;
	int fd, ret;

	if (!ir || !maps)
		return -EINVAL;
	fd = maps->fd[BF_MAP_ADDRTYPE];
	if (bf_ir_count_field(ir, BF_F_ADDRTYPE6))	/* ip6tables' own map */
		return bf_maps_sync_addrs6(ir, maps);
	if (fd < 0 || !bf_ir_count_field(ir, BF_F_ADDRTYPE))
		return 0;
	ret = bf_addrs_dump(RTM_GETRULE, AF_INET, addrs_rule_cb, &c);
	if (ret)
		return ret;
	c.merged = c.n_rules <= 3;
	ret = bf_addrs_dump(RTM_GETROUTE, AF_INET, addrs_route_cb, &c);
	if (!ret)
		ret = c.err;
	if (!ret)
		ret = bf_addrs_clear(fd, ADDRS_MAX);
	for (i = 0; !ret && i < c.n && i < ADDRS_MAX; i++)
		if (bpf_map_update_elem(fd, &c.r[i].key, &c.r[i].val, BPF_ANY))
			ret = -errno;
	free(c.r);
	return ret;
}
