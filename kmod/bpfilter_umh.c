// SPDX-License-Identifier: GPL-2.0
/*
 * The helper: bpfilter-umh, embedded in the module as a blob, started with
 * call_usermodehelper() and spoken to over an AF_UNIX socketpair.
 *
 * The kernel's usermode-driver framework (fork_usermode_driver) is not built
 * on distro kernels and was removed upstream, so the module does what it
 * did with exported symbols only:
 *  - the blob is copied once into a shmem file, kept for the module's life;
 *  - the helper's fds are installed from the usermode-helper init callback,
 *    before exec: 0 and 1 = the helper's end of the socketpair, 2 = /dev/kmsg
 *    (its stderr lands in the kernel log), 3 = the shmem file, close-on-exec;
 *  - the exec path is /proc/self/fd/3.
 *
 * Framing (include/bpfilter/msg.h): one request header + payload, one reply
 * header + payload, the reply echoing the request's seq. The receive state
 * (how much of the current reply frame was read) lives in struct
 * bpfilter_umh, so a request interrupted by a signal leaves the stream at a
 * known position: the next request reads on and discards every reply whose
 * seq is not its own. A request that was only partly written cannot be
 * resumed: the helper is restarted instead.
 *
 * A dead helper (EOF), a stuck one (no answer within timeout_ms) or a
 * malformed reply makes the request fail with -EPIPE, -ETIMEDOUT or -EPROTO
 * and the helper is killed; it is started again by the next request or by
 * the watchdog within a second. The helper persists its tables under
 * state_dir and restores them when it starts.
 */
#define pr_fmt(fmt) "bpfilter: " fmt

#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/umh.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include <bpfilter/msg.h>

#include "bpfilter.h"

#define BPFILTER_MAX_IFACES	16
#define BPFILTER_SCRATCH	4096
/* A helper that lived shorter than this counts as a crash loop. */
#define BPFILTER_MIN_LIFE	(5 * HZ)
#define BPFILTER_MAX_BACKOFF	(60 * HZ)

struct bpfilter_umh {
	struct mutex lock;	/* serialises requests, starts and stops */
	struct file *blob;	/* shmem file holding the helper binary */
	struct socket *sock;	/* our end of the socketpair; NULL: no helper */
	struct pid *pid;	/* the helper's pid */
	int pid_nr;		/* for the helper_pid parameter */
	bool broken;		/* the stream is out of sync: restart */
	u64 seq;

	/* receive state, kept across interrupted requests */
	struct bpfilter_reply hdr;
	size_t hdr_got;		/* sizeof(hdr) once the header is complete */
	u32 payload_left;	/* payload bytes of hdr still unread */
	void *scratch;		/* where discarded payload goes */

	/* the watchdog */
	struct delayed_work watchdog;
	unsigned long started;	/* jiffies */
	unsigned long next_start;
	unsigned int fast_deaths;
};

static struct bpfilter_umh bpfilter_umh;

int bpfilter_umh_pid(void)
{
	return READ_ONCE(bpfilter_umh.pid_nr);
}

/* --- the blob ----------------------------------------------------------- */

static int __init bpfilter_blob_setup(void)
{
	size_t len = bpfilter_umh_blob_end - bpfilter_umh_blob_start;
	struct file *file;
	loff_t pos = 0;
	ssize_t n;

	if (!len) {
		pr_err("no helper binary embedded in the module\n");
		return -ENOEXEC;
	}
	file = shmem_file_setup("bpfilter-umh", len, 0);
	if (IS_ERR(file)) {
		pr_err("cannot create the helper's shmem file: %ld\n",
		       PTR_ERR(file));
		return PTR_ERR(file);
	}
	n = kernel_write(file, bpfilter_umh_blob_start, len, &pos);
	if (n != len) {
		pr_err("cannot copy the helper blob (%zu bytes): %zd\n", len, n);
		fput(file);
		return n < 0 ? n : -EIO;
	}
	bpfilter_umh.blob = file;
	return 0;
}

/* --- starting and stopping the helper ------------------------------------ */

struct bpfilter_spawn {
	struct file *chan;	/* the helper's end of the socketpair */
	struct file *err;	/* its stderr, may be NULL */
	struct file *blob;
	struct pid *pid;
};

/* Installs @file at fd @want of the (not yet exec'ed) helper. */
static int bpfilter_install_fd(struct file *file, int want, unsigned int flags)
{
	int fd = get_unused_fd_flags(flags);

	if (fd < 0)
		return fd;
	if (fd != want) {
		put_unused_fd(fd);
		return -EBADF;
	}
	fd_install(fd, get_file(file));
	return 0;
}

/* Runs in the new task, before exec. */
static int bpfilter_spawn_init(struct subprocess_info *info, struct cred *new)
{
	struct bpfilter_spawn *sp = info->data;
	int fd = 0;
	int err;

	err = bpfilter_install_fd(sp->chan, fd++, 0);
	if (!err)
		err = bpfilter_install_fd(sp->chan, fd++, 0);
	if (!err && sp->err)
		err = bpfilter_install_fd(sp->err, fd++, 0);
	if (!err)
		err = bpfilter_install_fd(sp->blob, fd, O_CLOEXEC);
	if (err)
		return err;
	sp->pid = get_pid(task_pid(current));
	return 0;
}

static int bpfilter_chan_create(struct socket **kern, struct file **user)
{
	struct socket *a, *b;
	struct file *file;
	int err;

	err = sock_create_kern(&init_net, AF_UNIX, SOCK_STREAM, 0, &a);
	if (err)
		return err;
	err = sock_create_kern(&init_net, AF_UNIX, SOCK_STREAM, 0, &b);
	if (err)
		goto release_a;
	err = a->ops->socketpair(a, b);
	if (err)
		goto release_b;
	file = sock_alloc_file(b, 0, NULL);	/* releases b on failure */
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto release_a;
	}
	*kern = a;
	*user = file;
	return 0;

release_b:
	sock_release(b);
release_a:
	sock_release(a);
	return err;
}

static void bpfilter_argv_free(char **argv)
{
	int i;

	if (!argv)
		return;
	for (i = 0; argv[i]; i++)
		kfree(argv[i]);
	kfree(argv);
}

static int bpfilter_argv_add(char **argv, int *argc, const char *s)
{
	argv[*argc] = kstrdup(s, GFP_KERNEL);
	if (!argv[*argc])
		return -ENOMEM;
	(*argc)++;
	return 0;
}

/*
 * bpfilter-umh --stdio --hook HOOK --state-dir DIR [--iface IF]...
 * from the module parameters; ifaces is a comma-separated list.
 */
static char **bpfilter_argv_build(void)
{
	int max = 7 + 2 * BPFILTER_MAX_IFACES + 1;
	char *list, *cur, *name;
	char **argv;
	int argc = 0, nif = 0;
	int err;

	argv = kcalloc(max, sizeof(*argv), GFP_KERNEL);
	if (!argv)
		return NULL;
	err = bpfilter_argv_add(argv, &argc, "bpfilter-umh");
	err = err ?: bpfilter_argv_add(argv, &argc, "--stdio");
	err = err ?: bpfilter_argv_add(argv, &argc, "--hook");
	err = err ?: bpfilter_argv_add(argv, &argc, bpfilter_hook);
	err = err ?: bpfilter_argv_add(argv, &argc, "--state-dir");
	err = err ?: bpfilter_argv_add(argv, &argc, bpfilter_state_dir);
	if (err)
		goto fail;

	list = kstrdup(bpfilter_ifaces ?: "", GFP_KERNEL);
	if (!list)
		goto fail;
	cur = list;
	while ((name = strsep(&cur, ",")) && !err) {
		name = strim(name);
		if (!*name)
			continue;
		if (nif++ == BPFILTER_MAX_IFACES) {
			pr_warn("ifaces: more than %d interfaces, ignoring '%s' and the rest\n",
				BPFILTER_MAX_IFACES, name);
			break;
		}
		err = bpfilter_argv_add(argv, &argc, "--iface");
		err = err ?: bpfilter_argv_add(argv, &argc, name);
	}
	kfree(list);
	if (err)
		goto fail;
	return argv;

fail:
	bpfilter_argv_free(argv);
	return NULL;
}

/* Called with the lock held and no helper running. */
static int bpfilter_helper_start(void)
{
	static char *envp[] = {
		"HOME=/",
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		NULL
	};
	struct bpfilter_umh *u = &bpfilter_umh;
	struct bpfilter_spawn sp = { .blob = u->blob };
	struct subprocess_info *info;
	struct socket *sock;
	char **argv;
	int err;

	if (!u->blob)
		return -ENOEXEC;
	argv = bpfilter_argv_build();
	if (!argv)
		return -ENOMEM;
	err = bpfilter_chan_create(&sock, &sp.chan);
	if (err)
		goto free_argv;
	sp.err = filp_open("/dev/kmsg", O_WRONLY, 0);
	if (IS_ERR(sp.err))
		sp.err = NULL;

	info = call_usermodehelper_setup(sp.err ? "/proc/self/fd/3" :
					 "/proc/self/fd/2", argv, envp,
					 GFP_KERNEL, bpfilter_spawn_init, NULL,
					 &sp);
	if (!info) {
		err = -ENOMEM;
		goto put_files;
	}
	err = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	if (err) {
		pr_err("cannot start the helper: exec failed: %d\n", err);
		goto put_files;
	}
	if (!sp.pid) {
		err = -ESRCH;
		goto put_files;
	}

	u->sock = sock;
	u->pid = sp.pid;
	WRITE_ONCE(u->pid_nr, pid_nr(sp.pid));
	u->broken = false;
	u->hdr_got = 0;
	u->payload_left = 0;
	u->started = jiffies;
	sp.pid = NULL;
	sock = NULL;
	pr_info("helper started, pid %d (hook %s, ifaces '%s', state in %s)\n",
		u->pid_nr, bpfilter_hook, bpfilter_ifaces ?: "",
		bpfilter_state_dir);

put_files:
	if (sp.pid)
		put_pid(sp.pid);
	if (sp.err)
		fput(sp.err);
	fput(sp.chan);
	if (sock)
		sock_release(sock);
free_argv:
	bpfilter_argv_free(argv);
	return err;
}

static bool bpfilter_helper_alive(void)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	bool alive;

	if (!u->sock || !u->pid)
		return false;
	if (READ_ONCE(u->sock->sk->sk_shutdown) & RCV_SHUTDOWN)
		return false;
	rcu_read_lock();
	alive = pid_task(u->pid, PIDTYPE_PID) != NULL;
	rcu_read_unlock();
	return alive;
}

/* Called with the lock held. Kills the helper and waits (bounded) for it. */
static void bpfilter_helper_stop(void)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	bool alive = true;
	int i;

	if (u->sock) {
		sock_release(u->sock);
		u->sock = NULL;
	}
	if (!u->pid)
		return;
	kill_pid(u->pid, SIGKILL, 1);
	for (i = 0; i < 200 && alive; i++) {
		rcu_read_lock();
		alive = pid_task(u->pid, PIDTYPE_PID) != NULL;
		rcu_read_unlock();
		if (alive)
			msleep(10);
	}
	if (alive)
		pr_warn("helper pid %d still exists 2 s after SIGKILL\n",
			u->pid_nr);
	if (time_before(jiffies, u->started + BPFILTER_MIN_LIFE))
		u->fast_deaths = min(u->fast_deaths + 1, 6U);
	else
		u->fast_deaths = 0;
	u->next_start = jiffies + min_t(unsigned long,
					(HZ / 2) << u->fast_deaths,
					BPFILTER_MAX_BACKOFF);
	put_pid(u->pid);
	u->pid = NULL;
	WRITE_ONCE(u->pid_nr, 0);
}

/* Restarts a helper that died between requests, within a second. */
static void bpfilter_watchdog(struct work_struct *work)
{
	struct bpfilter_umh *u = &bpfilter_umh;

	if (mutex_trylock(&u->lock)) {
		if (u->pid && !bpfilter_helper_alive()) {
			pr_warn("helper pid %d died; restarting it\n",
				u->pid_nr);
			bpfilter_helper_stop();
		}
		if (!u->pid && time_after_eq(jiffies, u->next_start) &&
		    bpfilter_helper_start())
			pr_err("helper restart failed; retrying\n");
		mutex_unlock(&u->lock);
	}
	schedule_delayed_work(&u->watchdog, HZ);
}

/* --- the channel --------------------------------------------------------- */

static long bpfilter_left(unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	return left > 0 ? left : 0;
}

static int bpfilter_errno(int err, const char *what)
{
	switch (err) {
	case -EAGAIN:
		pr_warn("helper pid %d did not answer within %u ms (%s); killing it\n",
			bpfilter_umh.pid_nr, bpfilter_timeout_ms, what);
		bpfilter_umh.broken = true;
		return -ETIMEDOUT;
	case -ERESTARTSYS:
	case -EINTR:
		return -EINTR;
	case -EPIPE:
	case -ECONNRESET:
		pr_warn("helper pid %d closed the channel (%s)\n",
			bpfilter_umh.pid_nr, what);
		bpfilter_umh.broken = true;
		return -EPIPE;
	default:
		return err;
	}
}

/* Reads up to @len bytes; a short count is fine, 0 bytes is not. */
static int bpfilter_recv(void *buf, size_t len, unsigned long deadline)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};
	long left = bpfilter_left(deadline);
	int n;

	if (!left)
		return bpfilter_errno(-EAGAIN, "receive");
	bpfilter_umh.sock->sk->sk_rcvtimeo = left;
	n = kernel_recvmsg(bpfilter_umh.sock, &msg, &iov, 1, len, 0);
	if (n == 0)
		return bpfilter_errno(-EPIPE, "end of file");
	if (n < 0)
		return bpfilter_errno(n, "receive");
	return n;
}

/* Completes the current reply header. */
static int bpfilter_recv_hdr(unsigned long deadline)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	struct bpfilter_reply *h = &u->hdr;
	int n;

	if (u->hdr_got == sizeof(*h))
		return 0;
	while (u->hdr_got < sizeof(*h)) {
		n = bpfilter_recv((char *)h + u->hdr_got,
				  sizeof(*h) - u->hdr_got, deadline);
		if (n < 0)
			return n;
		u->hdr_got += n;
	}
	if (h->magic != BPFILTER_REPLY_MAGIC ||
	    h->version != BPFILTER_VERSION || h->hdr_size != sizeof(*h) ||
	    h->payload_len > BPFILTER_PAYLOAD_MAX) {
		pr_err("helper sent a malformed reply header (magic %#x, version %u, size %u, payload %u); restarting it\n",
		       h->magic, h->version, h->hdr_size, h->payload_len);
		u->broken = true;
		return -EPROTO;
	}
	u->payload_left = h->payload_len;
	return 0;
}

/* Reads the rest of the current payload into @buf, or drops it if NULL. */
static int bpfilter_recv_payload(char *buf, unsigned long deadline)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	int n;

	while (u->payload_left) {
		if (buf)
			n = bpfilter_recv(buf + u->hdr.payload_len -
					  u->payload_left, u->payload_left,
					  deadline);
		else
			n = bpfilter_recv(u->scratch,
					  min_t(u32, u->payload_left,
						BPFILTER_SCRATCH), deadline);
		if (n < 0)
			return n;
		u->payload_left -= n;
	}
	u->hdr_got = 0;	/* frame done */
	return 0;
}

static int bpfilter_recv_reply(u64 seq, u32 reply_max,
			       struct bpfilter_answer *ans,
			       unsigned long deadline)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	char *buf;
	int err;

	for (;;) {
		err = bpfilter_recv_hdr(deadline);
		if (err)
			return err;
		if (u->hdr.seq == seq)
			break;
		/* the answer to a request whose caller gave up */
		pr_debug("dropping stale reply seq %llu\n", u->hdr.seq);
		err = bpfilter_recv_payload(NULL, deadline);
		if (err)
			return err;
	}
	if (u->hdr.payload_len > reply_max) {
		pr_err("helper answered %u bytes to a request that takes at most %u\n",
		       u->hdr.payload_len, reply_max);
		err = bpfilter_recv_payload(NULL, deadline);
		return err ?: -EPROTO;
	}
	buf = kvmalloc(u->hdr.payload_len ?: 1, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		err = bpfilter_recv_payload(NULL, deadline);
		return err ?: -ENOMEM;
	}
	err = bpfilter_recv_payload(buf, deadline);
	if (err) {
		kvfree(buf);
		return err;
	}
	ans->status = u->hdr.status;
	ans->optlen = u->hdr.optlen;
	ans->payload = buf;
	ans->payload_len = u->hdr.payload_len;
	return 0;
}

static int bpfilter_send_req(const struct bpfilter_req *req,
			     const void *payload, unsigned long deadline)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	struct kvec iov[2] = {
		{ .iov_base = (void *)req, .iov_len = sizeof(*req) },
		{ .iov_base = (void *)payload, .iov_len = req->payload_len },
	};
	size_t total = sizeof(*req) + req->payload_len;
	size_t sent = 0;
	int i = 0, n;

	while (sent < total) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		long left = bpfilter_left(deadline);

		n = left ? 0 : -EAGAIN;
		if (!n) {
			u->sock->sk->sk_sndtimeo = left;
			n = kernel_sendmsg(u->sock, &msg, &iov[i], 2 - i,
					   total - sent);
		}
		if (n <= 0) {
			n = bpfilter_errno(n ?: -EPIPE, "send");
			if (sent) {
				pr_warn("request seq %llu only partly sent; restarting the helper\n",
					req->seq);
				u->broken = true;
			}
			return n;
		}
		sent += n;
		/* skip what went out */
		while (i < 2 && n >= iov[i].iov_len) {
			n -= iov[i].iov_len;
			i++;
		}
		if (i < 2) {
			iov[i].iov_base += n;
			iov[i].iov_len -= n;
		}
	}
	return 0;
}

/**
 * bpfilter_umh_request - one request to the helper and its answer
 *
 * Returns 0 with @ans filled (ans->payload to kvfree), or a negative errno
 * when the transport failed: -EINTR (signal), -EPIPE (helper died),
 * -ETIMEDOUT (no answer within timeout_ms), -EPROTO (malformed answer).
 */
int bpfilter_umh_request(u32 cmd, u32 family, u32 optname, u32 optlen,
			 const struct net *net, const void *payload,
			 u32 payload_len, u32 reply_max,
			 struct bpfilter_answer *ans)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	unsigned long deadline;
	struct bpfilter_req req = {
		.magic = BPFILTER_REQ_MAGIC,
		.version = BPFILTER_VERSION,
		.hdr_size = sizeof(req),
		.cmd = cmd,
		.family = family,
		.optname = optname,
		.optlen = optlen,
		.payload_len = payload_len,
		.pid = task_pid_nr(current),
		.netns = net->net_cookie,
	};
	int err;

	memset(ans, 0, sizeof(*ans));
	if (mutex_lock_interruptible(&u->lock))
		return -EINTR;
	if (!bpfilter_helper_alive()) {
		if (u->pid)
			pr_warn("helper pid %d is gone; restarting it\n",
				u->pid_nr);
		bpfilter_helper_stop();
		err = bpfilter_helper_start();
		if (err)
			goto unlock;
	}
	/* the time the helper gets, not counting the wait for the lock */
	deadline = jiffies + msecs_to_jiffies(READ_ONCE(bpfilter_timeout_ms));
	req.seq = ++u->seq;
	err = bpfilter_send_req(&req, payload, deadline);
	if (!err)
		err = bpfilter_recv_reply(req.seq, reply_max, ans, deadline);
	if (u->broken)
		bpfilter_helper_stop();
unlock:
	mutex_unlock(&u->lock);
	return err;
}

int __init bpfilter_umh_init(void)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	int err;

	mutex_init(&u->lock);
	INIT_DELAYED_WORK(&u->watchdog, bpfilter_watchdog);
	u->scratch = kmalloc(BPFILTER_SCRATCH, GFP_KERNEL);
	if (!u->scratch)
		return -ENOMEM;
	err = bpfilter_blob_setup();
	if (err)
		goto free_scratch;
	return 0;

free_scratch:
	kfree(u->scratch);
	return err;
}

/* Starts the helper at load and the watchdog; after sockopt registration. */
int bpfilter_umh_run(void)
{
	struct bpfilter_umh *u = &bpfilter_umh;
	int err;

	mutex_lock(&u->lock);
	err = bpfilter_helper_alive() ? 0 : bpfilter_helper_start();
	mutex_unlock(&u->lock);
	if (err)
		return err;
	schedule_delayed_work(&u->watchdog, HZ);
	return 0;
}

void bpfilter_umh_exit(void)
{
	struct bpfilter_umh *u = &bpfilter_umh;

	cancel_delayed_work_sync(&u->watchdog);
	mutex_lock(&u->lock);
	if (u->pid)
		pr_info("stopping helper pid %d\n", u->pid_nr);
	bpfilter_helper_stop();
	mutex_unlock(&u->lock);
	if (u->blob)
		fput(u->blob);
	u->blob = NULL;
	kfree(u->scratch);
}
