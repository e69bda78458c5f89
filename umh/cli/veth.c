// SPDX-License-Identifier: GPL-2.0
/*
 * Interfaces `bpfilter test` creates for the run: packet lines may name
 * devices that do not exist (iif=eth7); each becomes a veth pair (peer
 * bft<pid>_<n>) for the run, so the interface bitmaps know its index, and
 * is deleted afterwards: at exit, on error paths and on fatal signals.
 *
 * The deletion message of each pair is built when it is created, so the
 * signal handler only needs socket(), sendto() and close(), which are
 * async-signal-safe. rtnetlink handles a request synchronously inside
 * sendto(), so no ack needs to be read.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "cli.h"

#define VETH_MAX	32
#define VETH_DEL_LEN	(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg)))

struct veth_entry {
	uint32_t del_msg[VETH_DEL_LEN / 4];	/* aligned RTM_DELLINK request */
};

static struct veth_entry veths[VETH_MAX];
static volatile sig_atomic_t n_veths;
static bool veth_hooks_installed;

static void veth_delete_all(void)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int fd, i;

	if (!n_veths)
		return;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return;
	for (i = n_veths - 1; i >= 0; i--)
		sendto(fd, veths[i].del_msg, VETH_DEL_LEN, 0,
		       (struct sockaddr *)&nl, sizeof(nl));
	n_veths = 0;
	close(fd);
}

static void veth_on_signal(int sig)
{
	veth_delete_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void veth_install_hooks(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = veth_on_signal };
	size_t i;

	if (veth_hooks_installed)
		return;
	veth_hooks_installed = true;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(veth_delete_all);
}

void bf_cli_veth_cleanup(void)
{
	veth_delete_all();
}

static void veth_build_del(struct veth_entry *e, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(e, 0, sizeof(*e));
	nlh = mnl_nlmsg_put_header(e->del_msg);
	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
}

static void veth_build_new(struct nlmsghdr *nlh, const char *name,
			   const char *peer, uint32_t seq)
{
	struct nlattr *linkinfo, *data, *peer_nest;
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
}

/* Send one request and wait for its ack: 0 or a negative errno. */
static int veth_talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid;
	ssize_t n;
	int r;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

int bf_cli_veth_add(const char *name, int *ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char peer[32];	/* "bft" + pid (<= 7 digits) + "_" + idx: fits IFNAMSIZ */
	struct nlmsghdr *nlh;
	int idx = n_veths, r;

	if (idx >= VETH_MAX) {
		fprintf(stderr, "bpfilter test: more than %d interfaces to create\n", VETH_MAX);
		return -E2BIG;
	}
	veth_install_hooks();
	snprintf(peer, sizeof(peer), "bft%d_%d", (int)getpid(), idx);
	nlh = mnl_nlmsg_put_header(buf);
	veth_build_new(nlh, name, peer, (uint32_t)idx + 1);
	r = veth_talk(nlh);
	if (r) {
		fprintf(stderr, "bpfilter test: cannot create interface %s (veth, peer %s): %s\n",
			name, peer, strerror(-r));
		return r;
	}
	*ifindex = (int)if_nametoindex(name);
	if (!*ifindex) {
		r = -errno;
		fprintf(stderr, "bpfilter test: created %s but cannot find it: %s\n",
			name, strerror(errno));
		return r;
	}
	veth_build_del(&veths[idx], *ifindex);
	n_veths = idx + 1;
	return 0;
}
