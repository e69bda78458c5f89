// SPDX-License-Identifier: GPL-2.0
/*
 * The libmnl calls of bpfilter-umh, over plain NETLINK_ROUTE sockets, for
 * the static helper embedded in bpfilter.ko (Debian ships libmnl only as a
 * shared library). The helper uses them for two things:
 *  - following rtnetlink events between requests (links: RTM_NEWLINK and
 *    RTM_DELLINK, so that a configured device that appears later gets the
 *    programs in force; IPv4 addresses, routes and rules for -m addrtype);
 *  - dumping the routes and rules for -m addrtype's map (a request with
 *    an rtmsg header, the answer's messages and their attributes).
 * They keep the contract of libmnl's documented API for those uses: open a
 * netlink socket, bind it (to multicast groups), send a request, read one
 * datagram and walk its messages calling back for each data message, build
 * a request header, walk a message's attributes. Control messages are
 * handled as libmnl does: NOOP and OVERRUN skipped, DONE stops, ERROR
 * stops (an ACK) or fails with its errno.
 *
 * This is user-space code linked into the helper, not part of the module.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

struct mnl_socket {
	int fd;
	struct sockaddr_nl addr;	/* as bound: our port id and groups */
};

/* Sockets */

struct mnl_socket *mnl_socket_open2(int bus, int flags)
{
	struct mnl_socket *nl;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return NULL;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | flags, bus);
	if (nl->fd < 0) {
		free(nl);
		return NULL;
	}
	return nl;
}

int mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = groups,
		.nl_pid = pid,
	};
	socklen_t len = sizeof(addr);

	if (bind(nl->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	/* With pid 0 (MNL_SOCKET_AUTOPID) the kernel picks the port id. */
	if (getsockname(nl->fd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	if (len != sizeof(addr) || addr.nl_family != AF_NETLINK) {
		errno = EINVAL;
		return -1;
	}
	nl->addr = addr;
	return 0;
}

struct mnl_socket *mnl_socket_open(int bus)
{
	return mnl_socket_open2(bus, 0);
}

int mnl_socket_get_fd(const struct mnl_socket *nl)
{
	return nl->fd;
}

unsigned int mnl_socket_get_portid(const struct mnl_socket *nl)
{
	return nl->addr.nl_pid;
}

/* A request goes to the kernel (port id 0). */
ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *req,
			  size_t size)
{
	const struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	return sendto(nl->fd, req, size, 0, (const struct sockaddr *)&to,
		      sizeof(to));
}

ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
			    size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	n = recvmsg(nl->fd, &msg, 0);
	if (n < 0)
		return -1;
	/* A cut datagram would be walked as garbage: refuse it. */
	if (msg.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	if (msg.msg_namelen != sizeof(from)) {
		errno = EINVAL;
		return -1;
	}
	return n;
}

/* Messages */

/* A zeroed header at the start of buf; nlmsg_len covers just the header. */
struct nlmsghdr *mnl_nlmsg_put_header(void *buf)
{
	struct nlmsghdr *nlh = buf;

	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	return nlh;
}

/* size zeroed bytes (aligned) appended to the message, e.g. an rtmsg. */
void *mnl_nlmsg_put_extra_header(struct nlmsghdr *nlh, size_t size)
{
	char *p = (char *)nlh + nlh->nlmsg_len;
	size_t len = NLMSG_ALIGN(size);

	nlh->nlmsg_len += len;
	memset(p, 0, len);
	return p;
}

void *mnl_nlmsg_get_payload(const struct nlmsghdr *nlh)
{
	return (char *)nlh + NLMSG_HDRLEN;
}

/* NLMSG_ERROR: 0 is an acknowledgement (stop), else fail with its errno. */
static int mnl_error_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!err->error)
		return MNL_CB_STOP;
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

static int mnl_control_msg(const struct nlmsghdr *nlh)
{
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		return mnl_error_msg(nlh);
	case NLMSG_DONE:
		return MNL_CB_STOP;
	default:	/* NLMSG_NOOP, NLMSG_OVERRUN */
		return MNL_CB_OK;
	}
}

/*
 * A seq or portid of 0 accepts any; otherwise a message for another
 * request (EPROTO) or another socket (ESRCH) fails the walk.
 */
int mnl_cb_run(const void *buf, size_t numbytes, unsigned int seq,
	       unsigned int portid, mnl_cb_t cb_data, void *data)
{
	const struct nlmsghdr *nlh = buf;
	int len = numbytes > INT32_MAX ? INT32_MAX : (int)numbytes;
	int ret = MNL_CB_OK;

	for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		if (portid && nlh->nlmsg_pid && nlh->nlmsg_pid != portid) {
			errno = ESRCH;
			return MNL_CB_ERROR;
		}
		if (seq && nlh->nlmsg_seq && nlh->nlmsg_seq != seq) {
			errno = EPROTO;
			return MNL_CB_ERROR;
		}
		/* A dump changed under the kernel's feet: the caller retries. */
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return MNL_CB_ERROR;
		}
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			ret = cb_data ? cb_data(nlh, data) : MNL_CB_OK;
		else
			ret = mnl_control_msg(nlh);
		if (ret <= MNL_CB_STOP)
			return ret;
	}
	return ret;
}

/* Attributes */

uint16_t mnl_attr_get_type(const struct nlattr *attr)
{
	return attr->nla_type & NLA_TYPE_MASK;
}

uint16_t mnl_attr_get_payload_len(const struct nlattr *attr)
{
	return attr->nla_len - NLA_HDRLEN;
}

void *mnl_attr_get_payload(const struct nlattr *attr)
{
	return (char *)attr + NLA_HDRLEN;
}

/* Attributes are 4-byte aligned only: read without assuming more. */
uint32_t mnl_attr_get_u32(const struct nlattr *attr)
{
	uint32_t v;

	memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
	return v;
}

/*
 * The attributes after the message's family header (offset bytes, e.g.
 * sizeof(struct rtmsg)): cb for each whole one, until it returns
 * MNL_CB_STOP or MNL_CB_ERROR; a truncated last one ends the walk.
 */
int mnl_attr_parse(const struct nlmsghdr *nlh, unsigned int offset,
		   mnl_attr_cb_t cb, void *data)
{
	const char *p = (const char *)mnl_nlmsg_get_payload(nlh) +
			NLMSG_ALIGN(offset);
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	const struct nlattr *attr;
	int ret = MNL_CB_OK;

	while (end - p >= (long)NLA_HDRLEN) {
		attr = (const struct nlattr *)p;
		if (attr->nla_len < NLA_HDRLEN || attr->nla_len > end - p)
			break;
		ret = cb(attr, data);
		if (ret <= MNL_CB_STOP)
			return ret;
		p += NLA_ALIGN(attr->nla_len);
	}
	return ret;
}

/* Sockets, again */

int mnl_socket_close(struct mnl_socket *nl)
{
	int r;

	if (!nl)
		return 0;
	r = close(nl->fd);
	free(nl);
	return r;
}
