// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter-umh: the helper.
 *
 *   bpfilter-umh --daemon --iface IF [--iface IF2...] --hook xdp|tc
 *                [--socket PATH] [--state-dir DIR] [-v]
 *   bpfilter-umh --stdio [--iface IF...] [--hook xdp|tc] [--state-dir DIR] [-v]
 *
 * --stdio keeps one table per network namespace (req->netns, a net cookie)
 * and attaches each on the --iface names present in that namespace; see
 * bf_umh_new_per_netns().
 *
 * --daemon serves the network namespace it runs in on a root-only unix
 * socket (one request at a time, from any number of connections) and
 * re-syncs the interface map on rtnetlink link events. --stdio serves
 * framed requests on fd 0/1, as the kernel module runs it (fd 0 and 1 one
 * end of a socketpair, no stderr: logs go to /dev/kmsg).
 * SIGTERM/SIGINT end either; the programs stay attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "bpfilter/log.h"
#include "umh.h"

#define MAIN_DEFAULT_SOCKET	"/run/bpfilter/bpfilter.sock"
#define MAIN_DEFAULT_STATE	"/run/bpfilter"
#define MAIN_MAX_IFACES		64
#define MAIN_MAX_CONNS		64
#define MAIN_IO_TIMEOUT_S	5

struct main_opts {
	bool daemon;
	bool stdio;
	const char *socket;
	const char *state_dir;
	enum bf_hook hook;
	const char *ifnames[MAIN_MAX_IFACES];
	int ifindexes[MAIN_MAX_IFACES];	/* as resolved now, 0 = absent */
	unsigned int n_ifindexes;
	bool verbose;
};

struct main_conn {
	int fd;
	uint64_t netns;		/* the peer's, from SO_PEERCRED; 0 = unknown */
};

static volatile sig_atomic_t main_stop;
static int main_kmsg_fd = -1;
static bool main_syslog;

static void main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

static int main_signals(void)
{
	struct sigaction sa = { .sa_handler = main_on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() must return so the loop sees main_stop. */
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void main_sink(enum bf_log_level level, const char *line)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char buf[1200];
	int n;

	if (main_kmsg_fd >= 0) {
		n = snprintf(buf, sizeof(buf), "<%d>bpfilter-umh: %s\n",
			     prio[level], line);
		if (n > 0 && write(main_kmsg_fd, buf, n) < 0)
			return;
		return;
	}
	fprintf(stderr, "bpfilter-umh: %s: %s\n", names[level], line);
	if (main_syslog)
		syslog(prio[level], "%s", line);
}

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: bpfilter-umh --daemon --iface IF [--iface IF2...] --hook xdp|tc\n"
		"                    [--socket PATH] [--state-dir DIR] [-v]\n"
		"       bpfilter-umh --stdio [--iface IF...] [--hook xdp|tc] [--state-dir DIR] [-v]\n"
		"  --socket     daemon socket (default " MAIN_DEFAULT_SOCKET ")\n"
		"  --state-dir  where the table is saved (default " MAIN_DEFAULT_STATE
		"; one per daemon when several namespaces run one)\n");
}

/*
 * A missing device is a typo for the daemon, started by a person; the
 * kernel module starts --stdio at boot, when devices may come later.
 */
static int main_resolve(struct main_opts *o)
{
	unsigned int i;

	for (i = 0; i < o->n_ifindexes; i++) {
		o->ifindexes[i] = if_nametoindex(o->ifnames[i]);
		if (o->ifindexes[i])
			continue;
		fprintf(stderr, "bpfilter-umh: no device '%s' in this network namespace%s\n",
			o->ifnames[i], o->stdio ? " (yet)" : "");
		if (!o->stdio)
			return -ENODEV;
	}
	return 0;
}

/* The devices present now, without the holes of the absent ones. */
static unsigned int main_present(const struct main_opts *o, int *list)
{
	unsigned int i, n = 0;

	for (i = 0; i < o->n_ifindexes; i++)
		if (o->ifindexes[i])
			list[n++] = o->ifindexes[i];
	return n;
}

static int main_parse(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
		{ "daemon", no_argument, NULL, 'd' },
		{ "stdio", no_argument, NULL, 's' },
		{ "iface", required_argument, NULL, 'i' },
		{ "hook", required_argument, NULL, 'k' },
		{ "socket", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	o->socket = MAIN_DEFAULT_SOCKET;
	o->state_dir = MAIN_DEFAULT_STATE;
	o->hook = BF_HOOK_XDP;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->daemon = true;
			break;
		case 's':
			o->stdio = true;
			break;
		case 'i':
			if (o->n_ifindexes == MAIN_MAX_IFACES) {
				fprintf(stderr, "bpfilter-umh: at most %d --iface\n", MAIN_MAX_IFACES);
				return -E2BIG;
			}
			o->ifnames[o->n_ifindexes++] = optarg;
			break;
		case 'k':
			if (!strcmp(optarg, "xdp"))
				o->hook = BF_HOOK_XDP;
			else if (!strcmp(optarg, "tc"))
				o->hook = BF_HOOK_TC_INGRESS;
			else {
				fprintf(stderr, "bpfilter-umh: --hook is xdp or tc, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'S':
			o->socket = optarg;
			break;
		case 'D':
			o->state_dir = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || o->daemon == o->stdio) {
		main_usage(stderr);
		return -EINVAL;
	}
	if (o->daemon && !o->n_ifindexes) {
		fprintf(stderr, "bpfilter-umh: --daemon needs at least one --iface\n");
		return -EINVAL;
	}
	return main_resolve(o);
}

/* Create the socket's directory (0700) if it is missing. */
static int main_socket_dir(const char *path)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	dirname(dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Refuse to steal the socket of a live daemon; unlink a stale one. */
static int main_unlink_stale(const struct sockaddr_un *addr)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (!r) {
		fprintf(stderr, "bpfilter-umh: %s: another daemon is serving it\n",
			addr->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(addr->sun_path) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The socket is bound under PATH.new and renamed to PATH once it listens:
 * clients wait for PATH to appear, and a connect() between bind() and
 * listen() would be refused (seen under load).
 */
static int main_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct sockaddr_un tmp = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(path) + strlen(".new") >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.new", path);
	r = main_socket_dir(path);
	if (r)
		return r;
	r = main_unlink_stale(&addr);
	if (r)
		return r;
	if (unlink(tmp.sun_path) && errno != ENOENT)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&tmp, sizeof(tmp));
	umask(old);
	if (r || chmod(tmp.sun_path, 0600) || listen(fd, 16) ||
	    rename(tmp.sun_path, path)) {
		r = -errno;
		unlink(tmp.sun_path);
		close(fd);
		return r;
	}
	return fd;
}

static int main_rtnl_open(struct mnl_socket **nlp)
{
	struct mnl_socket *nl;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return -errno;
	/* addresses, routes and rules too: -m addrtype's map follows them */
	if (mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			    RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_RULE |
			    RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE |
			    (1U << (RTNLGRP_IPV6_RULE - 1)),
			    MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(nl);
		return r;
	}
	*nlp = nl;
	return mnl_socket_get_fd(nl);
}

static int main_rtnl_cb(const struct nlmsghdr *nlh, void *data)
{
	bool *changed = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK: case RTM_DELLINK:
	case RTM_NEWADDR: case RTM_DELADDR:
	case RTM_NEWROUTE: case RTM_DELROUTE:
	case RTM_NEWRULE: case RTM_DELRULE:
		*changed = true;
	}
	return MNL_CB_OK;
}

/*
 * Resolve the --iface names again: a device that vanished is dropped from
 * the list, one that (re)appeared gets the programs in force attached.
 */
static void main_refresh_ifaces(struct bf_umh *umh, struct main_opts *o)
{
	int old[MAIN_MAX_IFACES], list[MAIN_MAX_IFACES];
	unsigned int i, n;
	bool changed = false;

	memcpy(old, o->ifindexes, sizeof(old));
	for (i = 0; i < o->n_ifindexes; i++) {
		o->ifindexes[i] = if_nametoindex(o->ifnames[i]);
		if (o->ifindexes[i] != old[i]) {
			bf_info("device %s: %s", o->ifnames[i],
				o->ifindexes[i] ? "present, attaching" : "gone");
			changed = true;
		}
	}
	if (!changed)
		return;
	n = main_present(o, list);
	/* On failure (logged) the next link event tries again. */
	if (bf_umh_set_ifaces(umh, list, n))
		memcpy(o->ifindexes, old, sizeof(old));
}

/* Drain the link events; one interface-map sync for the whole batch. */
static void main_rtnl_read(struct mnl_socket *nl, struct bf_umh *umh,
			   struct main_opts *o)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool changed = false;
	ssize_t n;
	int i;

	for (i = 0; i < 64; i++) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			/* ENOBUFS: events were lost; resync anyway. */
			if (errno == ENOBUFS)
				changed = true;
			break;
		}
		mnl_cb_run(buf, n, 0, 0, main_rtnl_cb, &changed);
	}
	if (changed) {
		bf_dbg("link change: syncing the interface map");
		bf_umh_sync_ifaces(umh);
		main_refresh_ifaces(umh, o);
	}
}

static void main_accept(int lfd, struct main_conn *conns, unsigned int *n)
{
	struct timeval tv = { .tv_sec = MAIN_IO_TIMEOUT_S };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (*n == MAIN_MAX_CONNS) {
		bf_warn("too many connections, refusing one");
		close(fd);
		return;
	}
	/* A stalled peer must not hold the (serialised) daemon forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	conns[*n].fd = fd;
	conns[*n].netns = 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.pid > 0)
		conns[*n].netns = bf_umh_netns_of(cred.pid);
	(*n)++;
}

static int main_daemon_loop(struct bf_umh *umh, int lfd, struct mnl_socket *nl,
			    struct main_opts *o)
{
	struct main_conn conns[MAIN_MAX_CONNS];
	struct pollfd pfd[MAIN_MAX_CONNS + 3];
	unsigned int n = 0, i, npfd;
	int r;

	while (!main_stop) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		for (i = 0; i < n; i++)
			pfd[i + 2] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		npfd = n + 2;
		/* -j LOG records (fd -1 is ignored by poll) */
		pfd[npfd++] = (struct pollfd){ .fd = bf_umh_log_fd(umh), .events = POLLIN };
		r = poll(pfd, npfd, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (pfd[npfd - 1].revents)
			bf_umh_log_drain(umh);
		if (pfd[1].revents)
			main_rtnl_read(nl, umh, o);
		/* Serve before accepting, so conns[] matches pfd[] here. */
		for (i = n; i-- > 0;) {
			if (!pfd[i + 2].revents)
				continue;
			if (bf_umh_serve_one(umh, conns[i].fd, conns[i].netns) > 0)
				continue;
			close(conns[i].fd);
			conns[i] = conns[--n];
		}
		if (pfd[0].revents & POLLIN)
			main_accept(lfd, conns, &n);
	}
	for (i = 0; i < n; i++)
		close(conns[i].fd);
	return 0;
}

static void main_stdio_logging(void)
{
	prctl(PR_SET_NAME, "bpfilter-umh", 0, 0, 0);
	if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	main_kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

static bool main_same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Requests on fd 0 (one socket for both ways) and link events, in turn. */
static int main_stdio_loop(struct bf_umh *umh, struct main_opts *o)
{
	struct mnl_socket *nl = NULL;
	struct pollfd pfd[3];
	int r = 0;

	if (main_rtnl_open(&nl) < 0) {
		bf_warn("no link events: devices that appear later are not followed");
		nl = NULL;
	}
	while (!main_stop) {
		pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = nl ? mnl_socket_get_fd(nl) : -1, .events = POLLIN };
		/* -j LOG records (fd -1 is ignored by poll) */
		pfd[2] = (struct pollfd){ .fd = bf_umh_log_fd(umh), .events = POLLIN };
		r = poll(pfd, 3, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			break;
		}
		if (pfd[2].revents)
			bf_umh_log_drain(umh);
		if (nl && pfd[1].revents)
			main_rtnl_read(nl, umh, o);
		r = 0;
		if (pfd[0].revents) {
			r = bf_umh_serve_one(umh, STDIN_FILENO, 0);
			if (r <= 0)
				break;
			r = 0;
		}
	}
	if (nl)
		mnl_socket_close(nl);
	return r;
}

static int main_stdio(struct bf_umh *umh, struct main_opts *o)
{
	int r;

	/* Requests name their netns by cookie; each gets its own table. */
	bf_umh_set_netns(umh, 0);
	/* Under the module fd 0 and 1 are one socket; a pipe pair works too. */
	if (main_same_file(STDIN_FILENO, STDOUT_FILENO))
		r = main_stdio_loop(umh, o);
	else
		r = bf_umh_serve_pipe(umh, STDIN_FILENO, STDOUT_FILENO);
	if (main_stop)
		return 0;
	return r;
}

static int main_new_umh(const struct main_opts *o, struct bf_umh **umhp)
{
	int list[MAIN_MAX_IFACES];
	struct bf_umh_opts uopts = {
		.sz = sizeof(uopts),
		.mode = BF_UMH_ATTACH,
		.hook = o->hook,
		.ifindexes = list,
		.n_ifindexes = main_present(o, list),
		.force_hook = -1,
		.state_dir = o->state_dir,
	};

	/*
	 * Under the kernel module every namespace's callers reach this one
	 * helper: a table per namespace, on the --iface names found in each.
	 */
	if (o->stdio)
		return bf_umh_new_per_netns(&uopts, o->ifnames, o->n_ifindexes,
					    umhp);
	return bf_umh_new(&uopts, umhp);
}

/*
 * The socket is claimed before anything is loaded, so a second daemon for
 * the same socket leaves the first one's programs alone.
 */
static int main_daemon(struct main_opts *o)
{
	struct mnl_socket *nl = NULL;
	struct bf_umh *umh;
	int lfd, r;

	r = main_rtnl_open(&nl);
	if (r < 0) {
		bf_err("cannot subscribe to link events: %s", strerror(-r));
		return r;
	}
	lfd = main_listen(o->socket);
	if (lfd < 0) {
		bf_err("cannot listen on %s: %s", o->socket, strerror(-lfd));
		r = lfd;
		goto out_nl;
	}
	r = main_new_umh(o, &umh);
	if (r) {
		bf_err("cannot start: %s", strerror(-r));
		goto out_sock;
	}
	bf_info("serving netns %llu on %s (%s on %u device%s)",
		(unsigned long long)bf_umh_netns(umh), o->socket,
		o->hook == BF_HOOK_XDP ? "xdp" : "tc", o->n_ifindexes,
		o->n_ifindexes == 1 ? "" : "s");
	r = main_daemon_loop(umh, lfd, nl, o);
	bf_umh_free(umh);
	bf_info("stopping; the programs stay attached");
out_sock:
	close(lfd);
	unlink(o->socket);
out_nl:
	if (nl)
		mnl_socket_close(nl);
	return r;
}

int main(int argc, char **argv)
{
	struct main_opts o = {};
	struct bf_umh *umh;
	int r;

	r = main_parse(argc, argv, &o);
	if (r)
		return 2;
	if (o.stdio)
		main_stdio_logging();
	else if (!isatty(STDERR_FILENO)) {
		openlog("bpfilter-umh", LOG_PID, LOG_DAEMON);
		main_syslog = true;
	}
	bf_log_set_sink(main_sink);
	bf_log_set_level(o.verbose ? BF_LOG_DEBUG : BF_LOG_INFO);
	bf_log_route_libbpf();
	if (main_signals())
		return 1;

	if (o.daemon)
		return main_daemon(&o) ? 1 : 0;
	r = main_new_umh(&o, &umh);
	if (r) {
		bf_err("cannot start: %s", strerror(-r));
		return 1;
	}
	r = main_stdio(umh, &o);
	bf_umh_free(umh);
	return r ? 1 : 0;
}
