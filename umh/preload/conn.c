// SPDX-License-Identifier: GPL-2.0
/*
 * The preload library's connection to the helper and the framing.
 *
 * Two transports:
 * - BPFILTER_FD=N: an inherited, connected stream socket to a helper running
 *   inside `bpfilter translate` / `bpfilter test`. At load time the fd is
 *   made close-on-exec and the variable is rewritten to "-1", so a program
 *   this one execs neither inherits the fd nor mistakes an unrelated fd N
 *   for the helper (it gets a clear error instead).
 * - otherwise the daemon's unix socket, BPFILTER_SOCKET or
 *   /run/bpfilter/bpfilter.sock, connected on first use and kept open
 *   (close-on-exec). A child after fork() reconnects instead of sharing the
 *   parent's stream.
 *
 * One mutex serialises requests, so threads never interleave frames. Every
 * request carries a per-process increasing seq; a reply with another seq
 * means the stream lost sync: the connection is dropped and the caller gets
 * EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "preload.h"

#define BF_CONN_DEFAULT_SOCKET	"/run/bpfilter/bpfilter.sock"
#define BF_CONN_ENV_FD		"BPFILTER_FD"
#define BF_CONN_ENV_SOCKET	"BPFILTER_SOCKET"

enum bf_conn_mode {
	BF_CONN_SOCKET,		/* connect to the daemon's socket path */
	BF_CONN_INHERITED,	/* BPFILTER_FD */
	BF_CONN_ORPHAN,		/* BPFILTER_FD=-1: inherited from a parent that owned it */
};

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static enum bf_conn_mode conn_mode = BF_CONN_SOCKET;
static int conn_fd = -1;
static pid_t conn_pid;		/* process that opened conn_fd */
static bool conn_broken;	/* inherited stream out of sync: unusable */
static uint64_t conn_seq;
static bool conn_warned;

static int conn_parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

static void __attribute__((constructor)) conn_init(void)
{
	const char *s = getenv(BF_CONN_ENV_FD);
	int fd;

	if (!s)
		return;
	fd = conn_parse_fd(s);
	if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		conn_mode = BF_CONN_ORPHAN;
		return;
	}
	conn_mode = BF_CONN_INHERITED;
	conn_fd = fd;
	conn_pid = getpid();
	setenv(BF_CONN_ENV_FD, "-1", 1);
}

bool bf_conn_in_process(void)
{
	return conn_mode != BF_CONN_SOCKET;
}

static const char *conn_path(void)
{
	const char *p = getenv(BF_CONN_ENV_SOCKET);

	return p && *p ? p : BF_CONN_DEFAULT_SOCKET;
}

/* Print one message per process about why the helper is unreachable. */
static void conn_warn(const char *fmt, const char *arg, int err)
{
	if (conn_warned)
		return;
	conn_warned = true;
	fprintf(stderr, "bpfilter: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": %s\n", strerror(err));
}

/*
 * The errno iptables gets when the helper cannot be reached: EPERM makes it
 * say "Permission denied (you must be root)", anything else is reported as
 * "Connection refused" by its strerror() fallback - never ENOENT, which it
 * would print as "Table does not exist".
 */
static int conn_unreachable_errno(int err)
{
	return err == EACCES || err == EPERM ? -EPERM : -ECONNREFUSED;
}

static int conn_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = conn_path();
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		conn_warn("cannot reach the helper at %s", path, ENAMETOOLONG);
		return -ECONNREFUSED;
	}
	strcpy(addr.sun_path, path);
	fd = bf_real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		conn_warn("cannot reach the helper at %s", path, err);
		return conn_unreachable_errno(err);
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = errno;
		close(fd);
		conn_warn("cannot reach the helper at %s", path, err);
		return conn_unreachable_errno(err);
	}
	conn_fd = fd;
	conn_pid = getpid();
	return 0;
}

/* Make conn_fd usable for this process; 0 or a negative errno. */
static int conn_get(void)
{
	if (conn_mode == BF_CONN_ORPHAN) {
		conn_warn("%s", "the helper connection (BPFILTER_FD) belongs to the parent process",
			  ECONNREFUSED);
		return -ECONNREFUSED;
	}
	if (conn_mode == BF_CONN_INHERITED) {
		if (conn_broken) {
			conn_warn("%s", "the helper connection lost sync", EIO);
			return -EIO;
		}
		return 0;
	}
	if (conn_fd >= 0 && conn_pid != getpid()) {
		/* forked child: the stream belongs to the parent */
		close(conn_fd);
		conn_fd = -1;
	}
	if (conn_fd >= 0)
		return 0;
	return conn_connect();
}

static void conn_drop(void)
{
	if (conn_mode == BF_CONN_INHERITED) {
		conn_broken = true;
		return;
	}
	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
}

static int conn_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int conn_read(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t conn_netns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return 0;
	return st.st_ino;
}

static int conn_send(struct bpfilter_req *req, const void *payload)
{
	int r;

	req->magic = BPFILTER_REQ_MAGIC;
	req->version = BPFILTER_VERSION;
	req->hdr_size = sizeof(*req);
	req->pid = (__u32)getpid();
	req->netns = conn_netns();
	req->seq = ++conn_seq;
	r = conn_write(conn_fd, req, sizeof(*req));
	if (!r && req->payload_len)
		r = conn_write(conn_fd, payload, req->payload_len);
	return r;
}

/* Skip the part of a (newer, larger) reply header we do not know. */
static int conn_skip(size_t len)
{
	char tmp[64];
	int r = 0;

	while (len && !r) {
		size_t n = len < sizeof(tmp) ? len : sizeof(tmp);

		r = conn_read(conn_fd, tmp, n);
		len -= n;
	}
	return r;
}

static int conn_recv(const struct bpfilter_req *req,
		     struct bpfilter_reply *reply, void **payload_out)
{
	void *payload = NULL;
	int r;

	r = conn_read(conn_fd, reply, sizeof(*reply));
	if (r)
		return r;
	if (reply->magic != BPFILTER_REPLY_MAGIC ||
	    reply->version != BPFILTER_VERSION ||
	    reply->hdr_size < sizeof(*reply) ||
	    reply->payload_len > BPFILTER_PAYLOAD_MAX)
		return -EPROTO;
	r = conn_skip(reply->hdr_size - sizeof(*reply));
	if (r)
		return r;
	if (reply->payload_len) {
		payload = malloc(reply->payload_len);
		if (!payload)
			return -ENOMEM;
		r = conn_read(conn_fd, payload, reply->payload_len);
		if (r) {
			free(payload);
			return r;
		}
	}
	if (reply->seq != req->seq) {
		free(payload);
		return -EBADMSG;	/* out of sync: mapped to EIO below */
	}
	*payload_out = payload;
	return 0;
}

/*
 * A kept connection whose daemon went away (restart) fails on send before
 * the request reached anyone: reconnect and send it once more.
 */
static int conn_send_retry(struct bpfilter_req *req, const void *payload,
			   bool reused)
{
	int r = conn_send(req, payload);

	if (!r || !reused || conn_mode != BF_CONN_SOCKET ||
	    (r != -EPIPE && r != -ECONNRESET))
		return r;
	conn_drop();
	r = conn_connect();
	if (r)
		return r;
	return conn_send(req, payload);
}

static int conn_exchange(struct bpfilter_req *req, const void *payload,
			 struct bpfilter_reply *reply, void **payload_out,
			 bool reused)
{
	int r = conn_send_retry(req, payload, reused);

	if (r == -ECONNREFUSED || r == -EPERM)
		return r;	/* reconnect failed: conn_connect() said why */
	if (!r)
		r = conn_recv(req, reply, payload_out);
	if (!r)
		return 0;
	conn_drop();	/* whatever was left unread desyncs the stream */
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG || r == -EPROTO)
		conn_warn("%s", "the helper answered out of sync or with a bad frame", EIO);
	else
		conn_warn("%s", "lost the connection to the helper", -r);
	return -EIO;
}

int bf_conn_call(struct bpfilter_req *req, const void *payload,
		 struct bpfilter_reply *reply, void **payload_out)
{
	bool reused;
	int r;

	*payload_out = NULL;
	pthread_mutex_lock(&conn_lock);
	reused = conn_fd >= 0 && conn_pid == getpid();
	r = conn_get();
	if (!r)
		r = conn_exchange(req, payload, reply, payload_out, reused);
	pthread_mutex_unlock(&conn_lock);
	return r;
}
