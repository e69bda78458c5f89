// SPDX-License-Identifier: GPL-2.0
/*
 * Run the unmodified iptables-legacy-restore (ip6tables-legacy-restore for
 * IPv6) against a helper living in this process, for `bpfilter translate`
 * and `bpfilter test`.
 *
 * The child gets the rule file on stdin, the preload library in LD_PRELOAD,
 * one end of a socketpair as BPFILTER_FD and a private XTABLES_LOCKFILE
 * (/run/xtables.lock is root-only and would serialise us with real
 * iptables for nothing): an unlinked temporary file passed as
 * /proc/self/fd/N. Its stdout and stderr go to a memfd, read after it
 * exits: a pipe could fill up while this process is busy serving requests.
 * Requests are served here with bf_umh_handle() until the child's end
 * closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#include "cli.h"

#define RESTORE_OUTPUT_MAX	(1U << 20)

struct restore_fds {
	int in;			/* the rule file */
	int out;		/* memfd for the child's output */
	int sv[2];		/* [0] ours, [1] the child's */
	int lock;		/* the child's XTABLES_LOCKFILE, already unlinked */
};

static void restore_fds_close(struct restore_fds *f)
{
	if (f->in >= 0)
		close(f->in);
	if (f->out >= 0)
		close(f->out);
	if (f->sv[0] >= 0)
		close(f->sv[0]);
	if (f->sv[1] >= 0)
		close(f->sv[1]);
	if (f->lock >= 0)
		close(f->lock);
}

/*
 * An unlinked temporary file the child reaches as /proc/self/fd/N: nothing
 * is left behind, whatever way this process ends.
 */
static int restore_lock_open(void)
{
	char path[] = "/tmp/bpfilter-xtables-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd >= 0)
		unlink(path);
	return fd;
}

const char *bf_cli_restore_name(int family)
{
	return family == AF_INET6 ? BF_CLI_RESTORE6_NAME : BF_CLI_RESTORE_NAME;
}

static int restore_fds_open(const char *file, int family, struct restore_fds *f)
{
	int fd;

	f->in = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) :
				     fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (f->in < 0) {
		fd = errno;
		fprintf(stderr, "bpfilter: cannot open %s: %s\n", file, strerror(fd));
		return -fd;
	}
	f->out = memfd_create("bpfilter-restore-output", MFD_CLOEXEC);
	if (f->out < 0)
		goto err;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv) < 0)
		goto err;
	f->lock = restore_lock_open();
	if (f->lock < 0)
		goto err;
	return 0;
err:
	fd = errno;
	fprintf(stderr, "bpfilter: cannot set up the run of %s: %s\n",
		bf_cli_restore_name(family), strerror(fd));
	return -fd;
}

/* In the child: never returns. */
static void restore_child(const struct restore_fds *f, const char *lib,
			  int family)
{
	const char *prog = getenv(family == AF_INET6 ?
				  "BPFILTER_IP6TABLES_RESTORE" :
				  "BPFILTER_IPTABLES_RESTORE");
	char fdstr[16], lock[32];

	if (!prog || !*prog)
		prog = bf_cli_restore_name(family);
	signal(SIGPIPE, SIG_DFL);
	snprintf(fdstr, sizeof(fdstr), "%d", f->sv[1]);
	snprintf(lock, sizeof(lock), "/proc/self/fd/%d", f->lock);
	if (dup2(f->in, 0) < 0 || dup2(f->out, 1) < 0 || dup2(f->out, 2) < 0 ||
	    fcntl(f->sv[1], F_SETFD, 0) < 0 || fcntl(f->lock, F_SETFD, 0) < 0 ||
	    setenv("BPFILTER_FD", fdstr, 1) || bf_cli_set_preload(lib) ||
	    setenv("XTABLES_LOCKFILE", lock, 1)) {
		dprintf(2, "bpfilter: cannot prepare %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	unsetenv("BPFILTER_SOCKET");
	execlp(prog, prog, (char *)NULL);
	dprintf(2, "bpfilter: cannot run %s: %s\n", prog, strerror(errno));
	_exit(127);
}

static void restore_count(struct bf_cli_restore *r, const struct bpfilter_req *req,
			  const struct bpfilter_reply *reply)
{
	if (req->cmd != BPFILTER_CMD_SET)
		return;
	if (reply->status < 0)
		r->n_refused++;
	else if (req->family == (uint32_t)r->family &&
		 req->optname == IPT_SO_SET_REPLACE)	/* == IP6T_SO_SET_REPLACE */
		r->n_replaced++;
}

/* Serve requests until EOF (0) or a broken stream (negative errno). */
static int restore_serve(struct bf_cli_restore *r, int fd)
{
	for (;;) {
		struct bpfilter_reply reply;
		struct bpfilter_req req;
		void *in = NULL, *out = NULL;
		int e, w;

		e = bf_msg_recv_req(fd, &req, &in);
		if (e == 1)
			return 0;
		if (e && e != -EPROTO && e != -EMSGSIZE)
			return e;
		if (!e)
			e = bf_umh_handle(r->umh, &req, in, &reply, &out);
		free(in);
		if (e)
			bf_msg_reply_init(&reply, &req, e);
		else
			restore_count(r, &req, &reply);
		w = bf_msg_send_reply(fd, &reply, out);
		free(out);
		if (e || w)
			return e ? e : w;
	}
}

static void restore_read_output(struct bf_cli_restore *r, int fd)
{
	struct stat st;
	size_t len;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return;
	len = (size_t)st.st_size < RESTORE_OUTPUT_MAX ? (size_t)st.st_size : RESTORE_OUTPUT_MAX;
	r->output = calloc(1, len + 1);
	if (!r->output)
		return;
	n = pread(fd, r->output, len, 0);
	r->output[n > 0 ? n : 0] = '\0';
}

static int restore_wait(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int bf_cli_restore_run(const char *file, int family,
		       const struct bf_umh_opts *opts, struct bf_cli_restore *r)
{
	struct restore_fds f = { .in = -1, .out = -1, .sv = { -1, -1 }, .lock = -1 };
	char lib[PATH_MAX];
	pid_t pid;
	int e, w;

	memset(r, 0, sizeof(*r));
	r->wstatus = -1;
	r->family = family;
	if (bf_cli_preload_path(lib, sizeof(lib)))
		return -ENOENT;
	e = restore_fds_open(file, family, &f);
	if (e)
		goto out;
	e = bf_umh_new(opts, &r->umh);
	if (e) {
		fprintf(stderr, "bpfilter: cannot start the helper: %s\n", strerror(-e));
		r->umh = NULL;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);	/* a dying child must not kill us mid-reply */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		e = -errno;
		fprintf(stderr, "bpfilter: fork: %s\n", strerror(errno));
		goto out;
	}
	if (!pid)
		restore_child(&f, lib, family);
	close(f.sv[1]);
	f.sv[1] = -1;
	e = restore_serve(r, f.sv[0]);
	if (e)
		fprintf(stderr, "bpfilter: the conversation with %s broke: %s\n",
			bf_cli_restore_name(family), strerror(-e));
	close(f.sv[0]);	/* unblocks a child still waiting for a reply */
	f.sv[0] = -1;
	w = restore_wait(pid, &r->wstatus);
	restore_read_output(r, f.out);
	if (!e)
		e = w;
out:
	restore_fds_close(&f);
	return e;
}

static void restore_print_output(const struct bf_cli_restore *r)
{
	if (!r->output || !r->output[0])
		return;
	fprintf(stderr, "%s said:\n%s%s", bf_cli_restore_name(r->family), r->output,
		r->output[strlen(r->output) - 1] == '\n' ? "" : "\n");
}

bool bf_cli_restore_failed(const struct bf_cli_restore *r, const char *file)
{
	const char *why = r->umh ? bf_umh_last_error(r->umh) : "";
	bool exited_ok = r->wstatus != -1 && WIFEXITED(r->wstatus) &&
			 !WEXITSTATUS(r->wstatus);

	if (exited_ok && !r->n_refused && r->n_replaced) {
		restore_print_output(r);	/* warnings, if any */
		return false;
	}
	if (why && *why)
		fprintf(stderr, "bpfilter: %s: refused: %s\n", file, why);
	if (r->wstatus != -1 && WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus))
		fprintf(stderr, "bpfilter: %s exited with status %d\n",
			bf_cli_restore_name(r->family), WEXITSTATUS(r->wstatus));
	else if (r->wstatus != -1 && WIFSIGNALED(r->wstatus))
		fprintf(stderr, "bpfilter: %s was killed by signal %d\n",
			bf_cli_restore_name(r->family), WTERMSIG(r->wstatus));
	else if (exited_ok && !r->n_refused)
		fprintf(stderr, "bpfilter: %s: no filter table was committed (the file needs a *filter section ending in COMMIT)\n",
			file);
	restore_print_output(r);
	return true;
}

void bf_cli_restore_fini(struct bf_cli_restore *r)
{
	if (r->umh)
		bf_umh_free(r->umh);
	free(r->output);
	memset(r, 0, sizeof(*r));
}
