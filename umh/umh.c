// SPDX-License-Identifier: GPL-2.0
/*
 * The helper core: one object per helper, a loop over framed requests,
 * one request at a time. Requests are dispatched by (cmd, family) to the
 * sockopt handlers; state is per family: the "filter" tables of AF_INET
 * and AF_INET6.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpfilter/log.h"
#include "internal.h"

#define UMH_OPTS_MIN_SZ	offsetof(struct bf_umh_opts, state_dir)

uint64_t bf_umh_netns_of(int pid)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

uint64_t bf_umh_netns(const struct bf_umh *umh)
{
	return umh->check_netns;
}

void bf_umh_set_netns(struct bf_umh *umh, uint64_t netns)
{
	umh->check_netns = netns;
}

static int umh_check_opts(const struct bf_umh_opts *opts)
{
	if (!opts || opts->sz < UMH_OPTS_MIN_SZ)
		return -EINVAL;
	if (opts->mode != BF_UMH_ATTACH && opts->mode != BF_UMH_TRANSLATE &&
	    opts->mode != BF_UMH_TEST)
		return -EINVAL;
	if (opts->hook != BF_HOOK_XDP && opts->hook != BF_HOOK_TC_INGRESS)
		return -EINVAL;
	if (opts->force_hook != -1 && opts->force_hook != NF_INET_LOCAL_IN &&
	    opts->force_hook != NF_INET_FORWARD &&
	    opts->force_hook != NF_INET_LOCAL_OUT)
		return -EINVAL;
	if (opts->n_ifindexes && !opts->ifindexes)
		return -EINVAL;
	return 0;
}

static int umh_copy_opts(struct bf_umh *umh, const struct bf_umh_opts *opts)
{
	const char *state_dir = NULL;

	umh->mode = opts->mode;
	umh->hook = opts->hook;
	umh->force_hook = opts->mode == BF_UMH_ATTACH ? -1 : opts->force_hook;
	if (opts->n_ifindexes) {
		umh->ifindexes = calloc(opts->n_ifindexes, sizeof(int));
		if (!umh->ifindexes)
			return -ENOMEM;
		memcpy(umh->ifindexes, opts->ifindexes,
		       opts->n_ifindexes * sizeof(int));
		umh->n_ifindexes = opts->n_ifindexes;
	}
	if (opts->sz >= offsetof(struct bf_umh_opts, state_dir) + sizeof(char *))
		state_dir = opts->state_dir;
	if (state_dir && opts->mode == BF_UMH_ATTACH) {
		umh->state_dir = strdup(state_dir);
		if (!umh->state_dir)
			return -ENOMEM;
	}
	return 0;
}

/* The table ip_tables / ip6_tables starts with (not attached). */
int umh_initial_table(struct bf_umh *umh, int family, struct umh_table **tp)
{
	struct ipt_replace *repl;
	struct bf_err err = {};
	size_t len;
	int r;

	if (family == AF_INET6)
		r = bf_xt6_initial_filter((struct ip6t_replace **)&repl, &len);
	else
		r = bf_xt4_initial_filter(&repl, &len);
	if (r) {
		bf_err("cannot build the initial %s filter table: %s",
		       family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
		return r;
	}
	r = umh_table_build(umh, family, repl, len, NULL, tp, &err);
	if (r)
		umh_refuse(umh, family == AF_INET6 ? "initial IPv6 filter table" :
			   "initial filter table", r, &err);
	bf_err_clear(&err);
	return r;
}

/* Both initial tables; ATTACH mode puts them in force on every device. */
static int umh_load_initial(struct bf_umh *umh)
{
	struct bf_err err = {};
	int r;

	r = umh_initial_table(umh, AF_INET, &umh->t4);
	if (r)
		return r;
	/* IPv4 goes on without IPv6; ip6tables then gets ENOPROTOOPT. */
	if (umh_initial_table(umh, AF_INET6, &umh->t6))
		bf_err("IPv6: no initial table: ip6tables requests are refused");
	if (umh->mode != BF_UMH_ATTACH)
		return 0;
	r = umh_install(umh, NULL, &err);
	if (r)
		umh_refuse(umh, "initial filter tables", r, &err);
	bf_err_clear(&err);
	return r;
}

int umh_ns_init(struct bf_umh *umh)
{
	/* state_dir is ATTACH mode's: restored, else initial, and saved */
	if (umh->state_dir)
		return umh_state_restore(umh);
	return umh_load_initial(umh);
}

static int umh_new(const struct bf_umh_opts *opts, bool per_netns,
		   const char *const *ifnames, unsigned int n_ifnames,
		   struct bf_umh **umhp)
{
	struct bf_umh *umh;
	int r;

	r = umh_check_opts(opts);
	if (r)
		return r;
	umh = calloc(1, sizeof(*umh));
	if (!umh)
		return -ENOMEM;
	umh->self_nsfd = -1;
	for (r = 0; r < UMH_NR_HOOKS; r++)
		umh->att_fds[r] = -1;
	r = umh_copy_opts(umh, opts);
	if (r)
		goto err_free;
	umh->netns = bf_umh_netns_of(0);
	umh->check_netns = umh->netns;
	if (per_netns) {
		r = umh_ns_setup(umh, ifnames, n_ifnames);
		if (r)
			goto err_free;
	}
	r = umh_ns_init(umh);
	if (r)
		goto err_free;
	umh->last_error[0] = '\0';
	*umhp = umh;
	return 0;

err_free:
	bf_umh_free(umh);
	return r;
}

int bf_umh_new(const struct bf_umh_opts *opts, struct bf_umh **umhp)
{
	return umh_new(opts, false, NULL, 0, umhp);
}

int bf_umh_new_per_netns(const struct bf_umh_opts *opts,
			 const char *const *ifnames, unsigned int n_ifnames,
			 struct bf_umh **umhp)
{
	if (n_ifnames && !ifnames)
		return -EINVAL;
	return umh_new(opts, true, ifnames, n_ifnames, umhp);
}

void bf_umh_free(struct bf_umh *umh)
{
	if (!umh)
		return;
	umh_log_free(umh);
	umh_ns_free(umh);
	umh_table_free(umh->t4);
	umh_table_free(umh->t6);
	umh_att_close(umh->att_fds);
	free(umh->ifindexes);
	free(umh->state_dir);
	free(umh);
}

static int umh_check_frame(const struct bpfilter_req *req)
{
	if (!req || req->magic != BPFILTER_REQ_MAGIC ||
	    req->version != BPFILTER_VERSION || req->hdr_size != sizeof(*req))
		return -EPROTO;
	if (req->payload_len > BPFILTER_PAYLOAD_MAX)
		return -EMSGSIZE;
	return 0;
}

static const char *umh_cmd_name(uint32_t cmd)
{
	switch (cmd) {
	case BPFILTER_CMD_GET:
		return "GET";
	case BPFILTER_CMD_SET:
		return "SET";
	case BPFILTER_CMD_PING:
		return "PING";
	default:
		return "?";
	}
}

/* The request's status, before any table is looked at. */
static int umh_route(struct bf_umh *umh, const struct bpfilter_req *req,
		     uint64_t peer_netns)
{
	uint64_t ns = req->netns && req->netns != umh->check_netns ?
		      req->netns : peer_netns;

	if (req->cmd != BPFILTER_CMD_GET && req->cmd != BPFILTER_CMD_SET) {
		bf_err("request from pid %u: unknown command %u", req->pid,
		       req->cmd);
		return -EPROTO;
	}
	if (umh->check_netns &&
	    ((req->netns && req->netns != umh->check_netns) ||
	     (peer_netns && peer_netns != umh->check_netns))) {
		bf_err("request from pid %u in netns %llu refused: this daemon serves netns %llu (run one daemon per network namespace, each with its own --socket)",
		       req->pid, (unsigned long long)ns,
		       (unsigned long long)umh->check_netns);
		return -EXDEV;
	}
	if (req->family != AF_INET && req->family != AF_INET6)
		return -EAFNOSUPPORT;
	return 1;
}

/* The sockopt, in the caller's netns and on its table (per-netns mode). */
static int umh_serve_netns(struct bf_umh *umh, const struct bpfilter_req *req,
			   const void *payload, struct bpfilter_reply *reply,
			   void **out)
{
	bool entered = false;
	int r;

	if (umh->per_netns) {
		r = umh_ns_enter(umh, req, &entered);
		if (r)
			return r;
	}
	r = umh_sockopt(umh, req, payload, reply, out);
	if (entered)
		umh_ns_leave(umh);
	return r;
}

static int umh_handle(struct bf_umh *umh, const struct bpfilter_req *req,
		      const void *payload, struct bpfilter_reply *reply,
		      void **payload_out, uint64_t peer_netns)
{
	void *out = NULL;
	int r;

	*payload_out = NULL;
	r = umh_check_frame(req);
	bf_msg_reply_init(reply, req, r);
	if (r)
		return r;
	if (req->payload_len && !payload) {
		reply->status = -EINVAL;
		return -EINVAL;
	}
	reply->optlen = req->optlen;
	if (req->cmd == BPFILTER_CMD_PING)
		return 0;
	r = umh_route(umh, req, peer_netns);
	if (r == 1)
		r = umh_serve_netns(umh, req, payload, reply, &out);
	bf_dbg("pid %u: %s %u optlen %u -> %d", req->pid,
	       umh_cmd_name(req->cmd), req->optname, req->optlen, r);
	reply->status = r;
	if (r) {
		free(out);
		out = NULL;
		reply->optlen = req->optlen;
		reply->payload_len = 0;
	} else if (!out) {
		reply->payload_len = 0;
	}
	*payload_out = out;
	return 0;
}

int bf_umh_handle(struct bf_umh *umh, const struct bpfilter_req *req,
		  const void *payload, struct bpfilter_reply *reply,
		  void **payload_out)
{
	return umh_handle(umh, req, payload, reply, payload_out, 0);
}

static int umh_serve_one(struct bf_umh *umh, int rfd, int wfd,
			 uint64_t peer_netns)
{
	struct bpfilter_reply reply;
	struct bpfilter_req req;
	void *in = NULL, *out = NULL;
	int r, w;

	r = bf_msg_recv_req(rfd, &req, &in);
	if (r == 1)
		return 0;
	if (r == -EPROTO || r == -EMSGSIZE) {
		/* Answer what we can, then drop the stream: it lost framing. */
		bf_msg_reply_init(&reply, &req, r);
		bf_msg_send_reply(wfd, &reply, NULL);
		return r;
	}
	if (r == -EAGAIN || r == -EWOULDBLOCK) {
		bf_err("a peer stalled in the middle of a request: closing its connection");
		return r;
	}
	if (r) {
		if (r != -EPIPE)
			bf_err("reading a request: %s", strerror(-r));
		else
			bf_err("request truncated: the peer closed mid-frame");
		return r;
	}
	r = umh_handle(umh, &req, in, &reply, &out, peer_netns);
	free(in);
	w = bf_msg_send_reply(wfd, &reply, out);
	free(out);
	if (w) {
		bf_err("writing the reply to pid %u: %s", req.pid, strerror(-w));
		return w;
	}
	return r ? r : 1;
}

int bf_umh_serve_one(struct bf_umh *umh, int fd, uint64_t peer_netns)
{
	return umh_serve_one(umh, fd, fd, peer_netns);
}

int bf_umh_serve_pipe(struct bf_umh *umh, int rfd, int wfd)
{
	int r;

	do {
		r = umh_serve_one(umh, rfd, wfd, 0);
	} while (r > 0);
	return r;
}

int bf_umh_serve_fd(struct bf_umh *umh, int fd)
{
	return bf_umh_serve_pipe(umh, fd, fd);
}

static const struct umh_table *umh_family_table(const struct bf_umh *umh,
						int family)
{
	if (family == AF_INET)
		return umh->t4;
	if (family == AF_INET6)
		return umh->t6;
	return NULL;
}

const struct bf_ir *bf_umh_ir(const struct bf_umh *umh, int family)
{
	const struct umh_table *t = umh_family_table(umh, family);

	return t ? t->ir : NULL;
}

const struct bf_prog *bf_umh_prog(const struct bf_umh *umh, int family,
				  enum bf_hook hook)
{
	const struct umh_table *t = umh_family_table(umh, family);

	if (!t || (unsigned int)hook >= UMH_NR_HOOKS)
		return NULL;
	return t->progs[hook];
}

/* TEST: the family's own program; ATTACH: the two-family program that runs. */
int bf_umh_prog_fd(const struct bf_umh *umh, int family, enum bf_hook hook)
{
	const struct umh_table *t = umh_family_table(umh, family);

	if (!t || (unsigned int)hook >= UMH_NR_HOOKS)
		return -1;
	if (umh->mode == BF_UMH_ATTACH)
		return umh->att_fds[hook];
	return t->prog_fds[hook];
}

const struct bf_maps *bf_umh_maps(const struct bf_umh *umh, int family)
{
	const struct umh_table *t = umh_family_table(umh, family);

	return t ? &t->maps : NULL;
}

const char *bf_umh_last_error(const struct bf_umh *umh)
{
	return umh->last_error;
}

static int umh_sync_table(struct umh_table *t)
{
	int r;

	if (!t || t->maps.fd[BF_MAP_IFBITS] < 0)
		return 0;
	r = bf_maps_sync_ifaces(t->ir, &t->maps);
	if (r)
		bf_err("cannot refresh the %s interface map: %s",
		       t->family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
	if (!r && t->maps.fd[BF_MAP_ADDRTYPE] >= 0) {
		r = bf_maps_sync_addrs(t->ir, &t->maps);
		if (r)
			bf_err("cannot refresh the address type map: %s", strerror(-r));
	}
	return r;
}

int bf_umh_sync_ifaces(struct bf_umh *umh)
{
	int r4 = umh_sync_table(umh->t4);
	int r6 = umh_sync_table(umh->t6);

	return r4 ? r4 : r6;
}
