// SPDX-License-Identifier: GPL-2.0
/*
 * socket() interposition, only under an in-process helper (BPFILTER_FD):
 * `bpfilter translate` runs the unmodified iptables-legacy-restore without
 * root, and libiptc / libxtables open socket(AF_INET or AF_INET6, SOCK_RAW,
 * IPPROTO_RAW) only to carry the ip(6)_tables socket options. When that
 * fails for lack of privilege, an unprivileged datagram socket of the same
 * family carries them just as well: this library answers them, the kernel
 * never sees them.
 */
#include <errno.h>
#include <netinet/in.h>

#include "preload.h"

#define SOCKET_TYPE_MASK	0xf	/* SOCK_TYPE_MASK: type without flags */

static bool socket_is_iptc(int domain, int type, int protocol)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & SOCKET_TYPE_MASK) == SOCK_RAW && protocol == IPPROTO_RAW;
}

int socket(int domain, int type, int protocol)
{
	int fd = bf_real_socket(domain, type, protocol);
	int err = errno;

	if (fd >= 0 || !bf_conn_in_process() ||
	    !socket_is_iptc(domain, type, protocol) ||
	    (err != EPERM && err != EACCES))
		return fd;
	fd = bf_real_socket(domain, SOCK_DGRAM | (type & ~SOCKET_TYPE_MASK), 0);
	if (fd < 0)
		errno = err;
	return fd;
}
