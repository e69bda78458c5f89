// SPDX-License-Identifier: GPL-2.0
/*
 * Link-time stand-ins for the libmnl calls of bpfilter-umh, used only to
 * link the helper statically for embedding in bpfilter.ko (Debian ships no
 * libmnl.a). The helper uses libmnl only in --daemon mode (rtnetlink link
 * events); the module runs it with --stdio, so these are never reached.
 * If they are, opening the socket fails with EOPNOTSUPP and the daemon
 * refuses to start. This is user-space code, not part of the module.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <libmnl/libmnl.h>

struct mnl_socket *mnl_socket_open2(int bus, int flags)
{
	(void)bus;
	(void)flags;
	errno = EOPNOTSUPP;
	return NULL;
}

int mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid)
{
	(void)nl;
	(void)groups;
	(void)pid;
	errno = EOPNOTSUPP;
	return -1;
}

int mnl_socket_get_fd(const struct mnl_socket *nl)
{
	(void)nl;
	return -1;
}

ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
			    size_t size)
{
	(void)nl;
	(void)buf;
	(void)size;
	errno = EOPNOTSUPP;
	return -1;
}

int mnl_cb_run(const void *buf, size_t numbytes, unsigned int seq,
	       unsigned int portid, mnl_cb_t cb_data, void *data)
{
	(void)buf;
	(void)numbytes;
	(void)seq;
	(void)portid;
	(void)cb_data;
	(void)data;
	errno = EOPNOTSUPP;
	return -1;
}

int mnl_socket_close(struct mnl_socket *nl)
{
	(void)nl;
	return 0;
}
