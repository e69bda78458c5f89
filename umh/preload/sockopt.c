// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt()/setsockopt() interposition: the ip_tables options of an
 * AF_INET socket (IPPROTO_IP) and the ip6_tables options of an AF_INET6
 * socket (IPPROTO_IPV6) go to the helper, everything else to libc.
 *
 * The reply is applied exactly as the kernel applies its answer: GET copies
 * the reply payload to the start of optval and stores reply.optlen in
 * *optlen; SET_REPLACE writes the old counters to the user pointer in
 * ipt_replace.counters (ip6t_replace has the same header); a negative
 * status becomes errno and -1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "preload.h"

enum sockopt_dir {
	SOCKOPT_GET,
	SOCKOPT_SET,
};

/*
 * The options ip_tables / ip6_tables answer. IPv6 level options 66 and 67
 * (IPV6_RECVTCLASS, IPV6_TCLASS) sit inside ip6_tables' registered range
 * but the kernel's IPv6 code answers them first: they stay libc's.
 */
static bool sockopt_optname(int level, int optname, enum sockopt_dir dir)
{
	if (level == IPPROTO_IP)
		return optname >= IPT_BASE_CTL &&
		       optname <= (dir == SOCKOPT_GET ? IPT_SO_GET_MAX :
							IPT_SO_SET_MAX);
	if (level != IPPROTO_IPV6)
		return false;
	if (dir == SOCKOPT_SET)
		return optname >= IP6T_BASE_CTL && optname <= IP6T_SO_SET_MAX;
	return optname == IP6T_SO_GET_INFO || optname == IP6T_SO_GET_ENTRIES ||
	       optname == IP6T_SO_GET_REVISION_MATCH ||
	       optname == IP6T_SO_GET_REVISION_TARGET;
}

/* The family whose helper table answers, or 0 for libc. */
static int sockopt_ours(int fd, int level, int optname, enum sockopt_dir dir)
{
	socklen_t len = sizeof(int);
	int domain;

	if (!sockopt_optname(level, optname, dir))
		return 0;
	if (bf_real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return 0;	/* not a socket: let libc say so */
	if (level == IPPROTO_IP && domain == AF_INET)
		return AF_INET;
	if (level == IPPROTO_IPV6 && domain == AF_INET6)
		return AF_INET6;
	return 0;
}

static int sockopt_fail(int err)
{
	errno = err;
	return -1;
}

static int sockopt_get(int family, int optname, void *optval,
		       socklen_t *optlen)
{
	struct bpfilter_req req = {
		.cmd = BPFILTER_CMD_GET,
		.family = (__u32)family,
		.optname = (__u32)optname,
	};
	struct bpfilter_reply reply;
	void *payload;
	int r;

	if (!optlen || (!optval && *optlen))
		return sockopt_fail(EFAULT);
	req.optlen = *optlen;
	req.payload_len = *optlen < BPFILTER_GET_IN_MAX ? *optlen : BPFILTER_GET_IN_MAX;
	r = bf_conn_call(&req, optval, &reply, &payload);
	if (r)
		return sockopt_fail(-r);
	if (reply.status < 0) {
		free(payload);
		return sockopt_fail(-reply.status);
	}
	if (reply.payload_len > *optlen) {
		/* ip_tables never writes past optlen: a helper bug */
		free(payload);
		return sockopt_fail(EIO);
	}
	if (reply.payload_len)
		memcpy(optval, payload, reply.payload_len);
	*optlen = reply.optlen;
	free(payload);
	return 0;
}

/* SET_REPLACE (64 in both families): hand the old counters back as the kernel does. */
static int sockopt_old_counters(const void *optval, socklen_t optlen,
				const void *payload, __u32 len)
{
	const struct ipt_replace *repl = optval;

	if (!len)
		return 0;
	if (optlen < sizeof(*repl) ||
	    len > (size_t)repl->num_counters * sizeof(struct xt_counters))
		return -EIO;
	if (!repl->counters)
		return -EFAULT;
	memcpy(repl->counters, payload, len);
	return 0;
}

static int sockopt_set(int family, int optname, const void *optval,
		       socklen_t optlen)
{
	struct bpfilter_req req = {
		.cmd = BPFILTER_CMD_SET,
		.family = (__u32)family,
		.optname = (__u32)optname,
		.optlen = optlen,
		.payload_len = optlen,
	};
	struct bpfilter_reply reply;
	void *payload;
	int r;

	if (!optval && optlen)
		return sockopt_fail(EFAULT);
	r = bf_conn_call(&req, optval, &reply, &payload);
	if (r)
		return sockopt_fail(-r);
	if (reply.status < 0) {
		free(payload);
		return sockopt_fail(-reply.status);
	}
	r = 0;
	if (optname == IPT_SO_SET_REPLACE)
		r = sockopt_old_counters(optval, optlen, payload, reply.payload_len);
	free(payload);
	return r ? sockopt_fail(-r) : 0;
}

int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	int family = sockopt_ours(fd, level, optname, SOCKOPT_GET);

	if (!family)
		return bf_real_getsockopt(fd, level, optname, optval, optlen);
	return sockopt_get(family, optname, optval, optlen);
}

int setsockopt(int fd, int level, int optname, const void *optval,
	       socklen_t optlen)
{
	int family = sockopt_ours(fd, level, optname, SOCKOPT_SET);

	if (!family)
		return bf_real_setsockopt(fd, level, optname, optval, optlen);
	return sockopt_set(family, optname, optval, optlen);
}
