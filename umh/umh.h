/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper core (bpfilter-umh): table state and the ip_tables sockopt
 * semantics behind the framed requests of include/bpfilter/msg.h.
 *
 * The contract with the CLI and the preload engineer is
 * /work/helpers/umh-api.md; declarations below the "additions" line are
 * extras the daemon (umh/main.c) uses.
 */
#ifndef BPFILTER_UMH_H
#define BPFILTER_UMH_H

#include <stdint.h>

#include "bpfilter/codegen.h"
#include "bpfilter/msg.h"

enum bf_umh_mode {
	BF_UMH_ATTACH,		/* daemon/kmod: load and attach on the configured devices */
	BF_UMH_TRANSLATE,	/* validate + translate + generate; no bpf() at all (no root) */
	BF_UMH_TEST,		/* + load (with force_hook), never attach */
};

struct bf_umh_opts {
	size_t sz;			/* sizeof(struct bf_umh_opts) */
	enum bf_umh_mode mode;
	enum bf_hook hook;		/* BF_HOOK_XDP, or BF_HOOK_TC_INGRESS meaning "tc" (ingress+egress programs) */
	const int *ifindexes;		/* ATTACH: devices to attach to */
	unsigned int n_ifindexes;
	int force_hook;			/* TEST: NF_INET_LOCAL_IN / FORWARD / LOCAL_OUT; else -1 */
	const char *state_dir;		/* ATTACH: where to persist (default /run/bpfilter), NULL = none */
};

struct bf_umh;
int bf_umh_new(const struct bf_umh_opts *opts, struct bf_umh **umhp);
void bf_umh_free(struct bf_umh *umh);	/* never detaches: programs stay attached */

/*
 * Handle one request. *reply is filled (magic/version/seq/status/optlen/
 * payload_len); *payload is malloc'ed (or NULL) and owned by the caller.
 * Returns 0 when a reply was produced (the request's own failure is in
 * reply->status as -errno), or a negative errno when the frame itself is bad.
 */
int bf_umh_handle(struct bf_umh *umh, const struct bpfilter_req *req,
		  const void *payload, struct bpfilter_reply *reply, void **payload_out);

/* Read framed requests from fd and answer on fd until EOF (0) or an I/O error (<0). */
int bf_umh_serve_fd(struct bf_umh *umh, int fd);

/* Frame helpers shared with the transports (blocking, full reads/writes). */
int bf_msg_send_req(int fd, const struct bpfilter_req *req, const void *payload);
int bf_msg_recv_reply(int fd, struct bpfilter_reply *reply, void **payload);

/*
 * What the last SET_REPLACE produced, for translate/test (family AF_INET or
 * AF_INET6). bf_umh_prog_fd(): TEST mode, the family's own program; ATTACH
 * mode, the program that runs on the devices, which carries both families.
 */
const struct bf_ir *bf_umh_ir(const struct bf_umh *umh, int family);
const struct bf_prog *bf_umh_prog(const struct bf_umh *umh, int family, enum bf_hook hook); /* NULL if none */
int bf_umh_prog_fd(const struct bf_umh *umh, int family, enum bf_hook hook);	/* TEST/ATTACH: loaded fd or -1 */
const struct bf_maps *bf_umh_maps(const struct bf_umh *umh, int family);
/* The message of the last refused request ("chain INPUT rule 3: ..."), "" if none. */
const char *bf_umh_last_error(const struct bf_umh *umh);
/* Daemon: re-sync the interface bitmaps after link changes. */
int bf_umh_sync_ifaces(struct bf_umh *umh);

/* ---- additions (used by umh/main.c and the tests) ----------------------- */

/*
 * Server side of the framing. bf_msg_recv_req() reads and validates one
 * request: 0 and *payload (malloc'ed, NULL when empty) on success, 1 on a
 * clean EOF before any byte, a negative errno otherwise. A frame whose
 * header is bad (-EPROTO: magic, version, hdr_size; -EMSGSIZE: payload_len
 * over BPFILTER_PAYLOAD_MAX) leaves req filled with what was read so the
 * caller can answer it; the stream is unusable afterwards.
 */
int bf_msg_recv_req(int fd, struct bpfilter_req *req, void **payload);
int bf_msg_send_reply(int fd, const struct bpfilter_reply *reply,
		      const void *payload);
/*
 * A request header: magic, version, size, and payload_len as the
 * transports send it (a getter carries at most BPFILTER_GET_IN_MAX bytes of
 * its buffer, a setter all optlen bytes). pid, netns and seq are zero.
 */
void bf_msg_req_init(struct bpfilter_req *req, uint32_t cmd, uint32_t family,
		     uint32_t optname, uint32_t optlen);
/* A reply header for `req` with `status` and no payload. */
void bf_msg_reply_init(struct bpfilter_reply *reply,
		       const struct bpfilter_req *req, int status);

/*
 * Serve exactly one request from fd. `peer_netns` is the nsfs inode of the
 * peer's network namespace (from SO_PEERCRED) or 0 when unknown; a request
 * from another namespace is answered -EXDEV.
 * Returns 1 when a request was answered, 0 on EOF, a negative errno when the
 * connection must be closed (I/O error or a bad frame, answered if possible).
 */
int bf_umh_serve_one(struct bf_umh *umh, int fd, uint64_t peer_netns);

/* bf_umh_serve_fd() reading requests from rfd and answering on wfd (--stdio). */
int bf_umh_serve_pipe(struct bf_umh *umh, int rfd, int wfd);

/*
 * The network namespace requests must come from: by default the nsfs inode
 * of /proc/self/ns/net at bf_umh_new(); 0 disables the check (--stdio under
 * the kernel module, which sends a net cookie and serves its own netns).
 * A request with netns 0 (unknown) is not checked against it either.
 */
uint64_t bf_umh_netns(const struct bf_umh *umh);
void bf_umh_set_netns(struct bf_umh *umh, uint64_t netns);
/*
 * Daemon: the devices to attach to changed (a configured --iface appeared,
 * vanished or came back with another ifindex). ATTACH mode attaches the
 * programs in force on every device of the new list.
 */
int bf_umh_set_ifaces(struct bf_umh *umh, const int *ifindexes, unsigned int n);

/* nsfs inode of /proc/<pid>/ns/net (pid 0: self), 0 if unknown. */
uint64_t bf_umh_netns_of(int pid);

/*
 * --stdio under bpfilter.ko: bf_umh_new() keeping one table per network
 * namespace, keyed by req->netns (the net cookie the module sends: what
 * SO_NETNS_COOKIE returns for a socket of that namespace). The helper's own
 * namespace is served at once (its table restored or created here, attached
 * on opts->ifindexes); another namespace's table is created (restored from
 * <state_dir>/ipv{4,6}-filter-<cookie>.state, else the initial tables) at its
 * first request. Around every request from another namespace the helper
 * enters /proc/<req->pid>/ns/net, checks its cookie is req->netns (else
 * -ESRCH, nothing done) and attaches on the devices named `ifnames` that
 * exist there. Tables of namespaces that no longer exist are dropped from
 * memory, their state files deleted (their programs are not detached)
 * when a new namespace appears.
 */
int bf_umh_new_per_netns(const struct bf_umh_opts *opts,
			 const char *const *ifnames, unsigned int n_ifnames,
			 struct bf_umh **umhp);
/* The net cookie of the calling thread's network namespace, 0 if unknown. */
uint64_t bf_umh_net_cookie(void);

/*
 * -j LOG (umh/logd.c): an fd that polls readable when a table's programs
 * logged packets (-1: nothing to watch; call again after every request,
 * the set of tables changes), and the drain that writes their lines to
 * /dev/kmsg. ATTACH mode only. Returns records consumed or -errno.
 */
int bf_umh_log_fd(struct bf_umh *umh);
int bf_umh_log_drain(struct bf_umh *umh);

#endif /* BPFILTER_UMH_H */
