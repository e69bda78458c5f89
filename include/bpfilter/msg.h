/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The framed message format between a transport (bpfilter.ko or the
 * preload library) and the helper, bpfilter-umh.
 *
 * One request is a struct bpfilter_req followed by req.payload_len bytes;
 * the helper answers with one struct bpfilter_reply followed by
 * reply.payload_len bytes. Both headers start with magic, version and their
 * own size so either side can refuse a peer it does not understand. The
 * reply echoes the request's seq, so a transport that lost a reply (a
 * signal in the middle of a request) sees the mismatch and resynchronises
 * instead of handing a stale answer to the next caller.
 *
 * Request payloads:
 *   BPFILTER_CMD_SET: the caller's whole option buffer (optlen bytes).
 *   BPFILTER_CMD_GET: the first min(optlen, BPFILTER_GET_IN_MAX) bytes of
 *                     the caller's buffer (the input part of every getter).
 * Reply payloads:
 *   GET: the bytes to copy back to the start of the caller's buffer;
 *        reply.optlen is the value to store in the caller's *optlen.
 *   SET of IPT_SO_SET_REPLACE: the old counters (num_counters entries of
 *        struct xt_counters) that the transport writes to repl->counters.
 *   Everything else: empty.
 * reply.status is 0 or a negative errno, as ip_tables would return it.
 *
 * Fixed-size fields only, little or big endian as the host: both ends run
 * on the same machine.
 *
 * req.netns and req.pid from bpfilter.ko: netns is the net cookie of the
 * socket's network namespace (net->net_cookie, what SO_NETNS_COOKIE returns
 * for a socket of that namespace; never reused while the system runs) and
 * pid the calling thread's id in the initial pid namespace, blocked until
 * the reply. The helper (--stdio) keeps one table per netns value; for a
 * namespace other than its own it enters /proc/<pid>/ns/net and checks
 * there that SO_NETNS_COOKIE equals req.netns, answering -ESRCH otherwise
 * (the caller is gone, or its thread now lives in another namespace than
 * the socket). The preload transport sends the nsfs inode instead and
 * talks to a daemon that serves a single namespace.
 */
#ifndef BPFILTER_MSG_H
#define BPFILTER_MSG_H

#include <linux/types.h>

#define BPFILTER_REQ_MAGIC	0x62706672	/* "bpfr" */
#define BPFILTER_REPLY_MAGIC	0x62706661	/* "bpfa" */
#define BPFILTER_VERSION	1

/* Bytes of a getter's buffer that carry its input (ipt_getinfo is 84). */
#define BPFILTER_GET_IN_MAX	128
/* Largest payload either side accepts: bigger tables get -ENOMEM. */
#define BPFILTER_PAYLOAD_MAX	(256U << 20)

enum bpfilter_cmd {
	BPFILTER_CMD_GET = 1,	/* getsockopt(level, optname) */
	BPFILTER_CMD_SET = 2,	/* setsockopt(level, optname) */
	BPFILTER_CMD_PING = 3,	/* liveness check; empty reply, status 0 */
};

struct bpfilter_req {
	__u32 magic;		/* BPFILTER_REQ_MAGIC */
	__u16 version;		/* BPFILTER_VERSION */
	__u16 hdr_size;		/* sizeof(struct bpfilter_req) */
	__u32 cmd;		/* enum bpfilter_cmd */
	__u32 family;		/* AF_INET or AF_INET6 */
	__u32 optname;		/* IPT_SO_* / IP6T_SO_* */
	__u32 optlen;		/* the caller's optlen */
	__u32 payload_len;	/* bytes following this header */
	__u32 pid;		/* caller's pid, for log lines */
	__u64 netns;		/* caller's netns: nsfs inode (preload), net cookie (kmod) */
	__u64 seq;		/* echoed in the reply */
};

struct bpfilter_reply {
	__u32 magic;		/* BPFILTER_REPLY_MAGIC */
	__u16 version;		/* BPFILTER_VERSION */
	__u16 hdr_size;		/* sizeof(struct bpfilter_reply) */
	__s32 status;		/* 0 or -errno */
	__u32 optlen;		/* GET: new *optlen */
	__u32 payload_len;	/* bytes following this header */
	__u32 reserved;		/* zero */
	__u64 seq;		/* the request's seq */
};

#endif /* BPFILTER_MSG_H */
