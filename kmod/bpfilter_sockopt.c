// SPDX-License-Identifier: GPL-2.0
/*
 * The iptables sockopts: IPT_SO_* (PF_INET) and IP6T_SO_* (PF_INET6), the
 * revision probes included. Every call is checked (CAP_NET_ADMIN in the
 * socket's network namespace, as ip_tables does), its buffer copied with
 * bounds, and forwarded to the helper; the answer is copied back.
 */
#define pr_fmt(fmt) "bpfilter: " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/slab.h>
#include <linux/sockptr.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include <bpfilter/msg.h>

#include "bpfilter.h"

/*
 * The helper keeps a table per network namespace: every request carries
 * the caller's net cookie (and thread id, so the helper can enter its
 * namespace), and CAP_NET_ADMIN is checked against the user namespace that
 * owns the socket's network namespace, as ip_tables does. other_netns=0
 * restricts bpfilter to the initial namespace (others get -EOPNOTSUPP).
 */
static int bpfilter_check_cap(struct sock *sk)
{
	struct net *net = sock_net(sk);

	if (!bpfilter_other_netns && !net_eq(net, &init_net)) {
		pr_warn_ratelimited("refusing a request from pid %d in another network namespace (other_netns=0)\n",
				    task_pid_nr(current));
		return -EOPNOTSUPP;
	}
	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return 0;
}

/*
 * SET_REPLACE hands back the old counters to repl->counters. ipt_replace and
 * ip6t_replace put num_counters and counters at the same offsets.
 */
static void bpfilter_replace_counters(const void *buf, unsigned int len,
				      u32 *max, u64 *uptr)
{
	const struct ipt_replace *repl = buf;
	u64 bytes;

	BUILD_BUG_ON(offsetof(struct ipt_replace, num_counters) !=
		     offsetof(struct ip6t_replace, num_counters));
	BUILD_BUG_ON(offsetof(struct ipt_replace, counters) !=
		     offsetof(struct ip6t_replace, counters));
	*max = 0;
	*uptr = 0;
	if (len < sizeof(*repl))
		return;	/* the helper refuses it */
	bytes = (u64)repl->num_counters * sizeof(struct xt_counters);
	*max = min_t(u64, bytes, BPFILTER_PAYLOAD_MAX);
	*uptr = (u64)(uintptr_t)repl->counters;
}

static int bpfilter_set(struct sock *sk, int optname, sockptr_t arg,
			unsigned int len, u32 family)
{
	struct bpfilter_answer ans;
	u32 reply_max = 0;
	u64 counters = 0;
	void *buf;
	int err;

	err = bpfilter_check_cap(sk);
	if (err)
		return err;
	if (len > BPFILTER_PAYLOAD_MAX)
		return -ENOMEM;
	buf = kvmalloc(len ?: 1, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (copy_from_sockptr(buf, arg, len)) {
		err = -EFAULT;
		goto out;
	}
	if (optname == IPT_SO_SET_REPLACE)
		bpfilter_replace_counters(buf, len, &reply_max, &counters);

	err = bpfilter_umh_request(BPFILTER_CMD_SET, family, optname, len,
				   sock_net(sk), buf, len, reply_max, &ans);
	if (err)
		goto out;
	err = ans.status > 0 ? 0 : ans.status;
	/* the new table is in force: a bad counters pointer is the caller's */
	if (!err && ans.payload_len && !sockptr_is_kernel(arg) &&
	    copy_to_user(u64_to_user_ptr(counters), ans.payload,
			 ans.payload_len))
		err = -EFAULT;
	kvfree(ans.payload);
out:
	kvfree(buf);
	return err;
}

static int bpfilter_get(struct sock *sk, int optname, void __user *user,
			int *len, u32 family)
{
	u8 in[BPFILTER_GET_IN_MAX];
	struct bpfilter_answer ans;
	u32 in_len, max;
	int err;

	err = bpfilter_check_cap(sk);
	if (err)
		return err;
	if (*len < 0)
		return -EINVAL;
	max = min_t(u32, *len, BPFILTER_PAYLOAD_MAX);
	in_len = min_t(u32, *len, sizeof(in));
	if (copy_from_user(in, user, in_len))
		return -EFAULT;

	err = bpfilter_umh_request(BPFILTER_CMD_GET, family, optname, *len,
				   sock_net(sk), in, in_len, max, &ans);
	if (err)
		return err;
	err = ans.status;
	if (err >= 0) {
		if (ans.payload_len &&
		    copy_to_user(user, ans.payload, ans.payload_len))
			err = -EFAULT;
		else
			*len = min_t(u32, ans.optlen, max);
	}
	kvfree(ans.payload);
	return err;
}

static int bpfilter_set4(struct sock *sk, int optname, sockptr_t arg,
			 unsigned int len)
{
	return bpfilter_set(sk, optname, arg, len, AF_INET);
}

static int bpfilter_get4(struct sock *sk, int optname, void __user *user,
			 int *len)
{
	return bpfilter_get(sk, optname, user, len, AF_INET);
}

/* Forwarded as they are: the helper answers what it supports. */
static int bpfilter_set6(struct sock *sk, int optname, sockptr_t arg,
			 unsigned int len)
{
	return bpfilter_set(sk, optname, arg, len, AF_INET6);
}

static int bpfilter_get6(struct sock *sk, int optname, void __user *user,
			 int *len)
{
	return bpfilter_get(sk, optname, user, len, AF_INET6);
}

static struct nf_sockopt_ops bpfilter_sockopts4 = {
	.pf		= PF_INET,
	.set_optmin	= IPT_BASE_CTL,
	.set_optmax	= IPT_SO_SET_MAX + 1,
	.set		= bpfilter_set4,
	.get_optmin	= IPT_BASE_CTL,
	.get_optmax	= IPT_SO_GET_MAX + 1,
	.get		= bpfilter_get4,
	.owner		= THIS_MODULE,
};

static struct nf_sockopt_ops bpfilter_sockopts6 = {
	.pf		= PF_INET6,
	.set_optmin	= IP6T_BASE_CTL,
	.set_optmax	= IP6T_SO_SET_MAX + 1,
	.set		= bpfilter_set6,
	.get_optmin	= IP6T_BASE_CTL,
	.get_optmax	= IP6T_SO_GET_MAX + 1,
	.get		= bpfilter_get6,
	.owner		= THIS_MODULE,
};

int bpfilter_sockopt_init(void)
{
	int err;

	BUILD_BUG_ON(IPT_SO_SET_REPLACE != IP6T_SO_SET_REPLACE);
	err = nf_register_sockopt(&bpfilter_sockopts4);
	if (err) {
		pr_err("cannot take the iptables sockopts (PF_INET %d..%d): %d; %s\n",
		       IPT_BASE_CTL, IPT_SO_GET_MAX, err,
		       err == -EBUSY ? "ip_tables is loaded: unload it (rmmod iptable_filter ip_tables) to use bpfilter" : "");
		return err;
	}
	err = nf_register_sockopt(&bpfilter_sockopts6);
	if (err) {
		pr_err("cannot take the ip6tables sockopts (PF_INET6 %d..%d): %d; %s\n",
		       IP6T_BASE_CTL, IP6T_SO_GET_MAX, err,
		       err == -EBUSY ? "ip6_tables is loaded: unload it (rmmod ip6table_filter ip6_tables) to use bpfilter" : "");
		nf_unregister_sockopt(&bpfilter_sockopts4);
		return err;
	}
	return 0;
}

void bpfilter_sockopt_exit(void)
{
	nf_unregister_sockopt(&bpfilter_sockopts6);
	nf_unregister_sockopt(&bpfilter_sockopts4);
}
