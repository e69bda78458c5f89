/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libbpfilter-preload.so: interposes the ip_tables socket options of an
 * unmodified iptables binary and forwards them, framed as in
 * include/bpfilter/msg.h, to the helper (bpfilter-umh). Plain libc and
 * dlsym only: no codegen, no libbpf.
 *
 * Everything here except the interposed libc symbols is hidden, so the
 * library never shadows a symbol of the program it is loaded into.
 */
#ifndef BF_PRELOAD_H
#define BF_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "bpfilter/msg.h"

#define BF_HIDDEN __attribute__((visibility("hidden")))

/* The libc functions we interpose (resolved with dlsym(RTLD_NEXT)). */
BF_HIDDEN int bf_real_getsockopt(int fd, int level, int optname,
				 void *optval, socklen_t *optlen);
BF_HIDDEN int bf_real_setsockopt(int fd, int level, int optname,
				 const void *optval, socklen_t optlen);
BF_HIDDEN int bf_real_socket(int domain, int type, int protocol);

/* Is an in-process helper (BPFILTER_FD) serving this process? */
BF_HIDDEN bool bf_conn_in_process(void);

/*
 * One request/reply exchange with the helper. `req` needs cmd, family,
 * optname and optlen; the rest of its header is filled here. On success
 * (0) *reply is valid and *payload is malloc'ed (NULL when empty). On a
 * transport failure returns the negative errno to hand to the caller, after
 * one clear message on stderr.
 */
BF_HIDDEN int bf_conn_call(struct bpfilter_req *req, const void *payload,
			   struct bpfilter_reply *reply, void **payload_out);

#endif /* BF_PRELOAD_H */
