// SPDX-License-Identifier: GPL-2.0
/* The real libc functions behind the ones this library interposes. */
#include <dlfcn.h>
#include <errno.h>

#include "preload.h"

typedef int (*bf_getsockopt_t)(int, int, int, void *, socklen_t *);
typedef int (*bf_setsockopt_t)(int, int, int, const void *, socklen_t);
typedef int (*bf_socket_t)(int, int, int);

/* dlsym() is thread-safe; racing first callers store the same pointer. */
static void *real_sym(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

static void *real_getsockopt_fn;
static void *real_setsockopt_fn;
static void *real_socket_fn;

int bf_real_getsockopt(int fd, int level, int optname, void *optval,
		       socklen_t *optlen)
{
	bf_getsockopt_t fn = (bf_getsockopt_t)real_sym(&real_getsockopt_fn,
						       "getsockopt");

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	return fn(fd, level, optname, optval, optlen);
}

int bf_real_setsockopt(int fd, int level, int optname, const void *optval,
		       socklen_t optlen)
{
	bf_setsockopt_t fn = (bf_setsockopt_t)real_sym(&real_setsockopt_fn,
						       "setsockopt");

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	return fn(fd, level, optname, optval, optlen);
}

int bf_real_socket(int domain, int type, int protocol)
{
	bf_socket_t fn = (bf_socket_t)real_sym(&real_socket_fn, "socket");

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	return fn(domain, type, protocol);
}
