// SPDX-License-Identifier: GPL-2.0
/*
 * One table per network namespace (--stdio under bpfilter.ko).
 *
 * The module puts the caller's net cookie in req->netns and the calling
 * thread's pid in req->pid, and waits while the helper works. For a
 * request from another namespace the helper opens /proc/<pid>/ns/net,
 * setns()es into it and checks, on a socket made there, that
 * SO_NETNS_COOKIE is req->netns (the thread could have died and its pid
 * been reused, or moved to another namespace): otherwise -ESRCH and
 * nothing is touched. Then that namespace's table is swapped into the
 * struct bf_umh (table, key, devices), the request handled as for the
 * helper's own namespace (device names, attach, interface bitmaps and the
 * adoption checks all resolve in the caller's namespace), and the helper
 * goes back to its own namespace (an fd kept from the start).
 *
 * No reference to another namespace is held between requests (an open
 * nsfs fd or socket would keep a dead namespace alive), so whether one
 * still exists is seen by its nsfs inode, held by a process (/proc/N/ns/net)
 * or bind-mounted under /run/netns, and confirmed by the cookie of what
 * holds it (inode numbers are reused). The tables (both families) of a
 * namespace that is not found are dropped when a new namespace shows up,
 * and their state files deleted: a dead namespace's devices and programs
 * are gone with it, and its cookie never comes back. A namespace kept
 * alive some other way (an fd, a bind mount elsewhere) starts again from
 * its initial tables at its next request; what was attached there keeps
 * filtering until then.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpfilter/log.h"
#include "internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71
#endif

#define UMH_NS_MAX_LIVE	4096

uint64_t bf_umh_net_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}

int umh_ns_setup(struct bf_umh *umh, const char *const *ifnames,
		 unsigned int n)
{
	unsigned int i;
	uint64_t cookie;

	cookie = bf_umh_net_cookie();
	if (!cookie) {
		bf_err("cannot read this network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): one table per namespace needs it");
		return -EOPNOTSUPP;
	}
	umh->self_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (umh->self_nsfd < 0)
		return -errno;
	if (n) {
		umh->ifnames = calloc(n, sizeof(char *));
		if (!umh->ifnames)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			umh->ifnames[i] = strdup(ifnames[i]);
			if (!umh->ifnames[i])
				return -ENOMEM;
			umh->n_ifnames = i + 1;
		}
	}
	umh->per_netns = true;
	umh->netns = cookie;
	umh->check_netns = 0;
	return 0;
}

static void umh_ns_entry_free(struct umh_ns *e)
{
	umh_table_free(e->t4);
	umh_table_free(e->t6);
	umh_att_close(e->att_fds);
	free(e->ifindexes);
	e->t4 = NULL;
	e->t6 = NULL;
	e->ifindexes = NULL;
}

void umh_ns_free(struct bf_umh *umh)
{
	unsigned int i;

	for (i = 0; i < umh->n_nss; i++)
		umh_ns_entry_free(&umh->nss[i]);
	free(umh->nss);
	umh->nss = NULL;
	umh->n_nss = 0;
	for (i = 0; i < umh->n_ifnames; i++)
		free(umh->ifnames[i]);
	free(umh->ifnames);
	umh->ifnames = NULL;
	umh->n_ifnames = 0;
	if (umh->self_nsfd >= 0)
		close(umh->self_nsfd);
	umh->self_nsfd = -1;
}

/* Exchange the served namespace's state with e's (twice = undone). */
static void umh_ns_swap(struct bf_umh *umh, struct umh_ns *e)
{
	struct umh_table *t4 = umh->t4, *t6 = umh->t6;
	int *ifx = umh->ifindexes, fds[UMH_NR_HOOKS];
	unsigned int n = umh->n_ifindexes;
	uint64_t key = umh->netns;

	memcpy(fds, umh->att_fds, sizeof(fds));
	umh->t4 = e->t4;
	umh->t6 = e->t6;
	memcpy(umh->att_fds, e->att_fds, sizeof(fds));
	umh->ifindexes = e->ifindexes;
	umh->n_ifindexes = e->n_ifindexes;
	umh->netns = e->key;
	e->t4 = t4;
	e->t6 = t6;
	memcpy(e->att_fds, fds, sizeof(fds));
	e->ifindexes = ifx;
	e->n_ifindexes = n;
	e->key = key;
}

/* The configured devices present in the current netns. */
static unsigned int umh_ns_resolve(const struct bf_umh *umh, int *list)
{
	unsigned int i, n = 0;
	int ifindex;

	for (i = 0; i < umh->n_ifnames && i < 64; i++) {
		ifindex = if_nametoindex(umh->ifnames[i]);
		if (ifindex)
			list[n++] = ifindex;
	}
	return n;
}

static int umh_ns_back(struct bf_umh *umh)
{
	if (setns(umh->self_nsfd, CLONE_NEWNET)) {
		/* Serving the next request in a foreign netns would be worse. */
		bf_err("cannot return to the helper's network namespace: %s; exiting",
		       strerror(errno));
		exit(1);
	}
	return 0;
}

struct umh_ns_seen {
	uint64_t ino;
	char path[48];
};

/* nsfs inodes of the netns held by processes or bind-mounted in /run/netns. */
static unsigned int umh_ns_live(struct umh_ns_seen *live, unsigned int max)
{
	static const char *const dirs[] = { "/proc", "/run/netns" };
	struct dirent *d;
	struct stat st;
	unsigned int i, n = 0;
	DIR *dir;

	for (i = 0; i < 2; i++) {
		dir = opendir(dirs[i]);
		if (!dir)
			continue;
		while (n < max && (d = readdir(dir))) {
			if (d->d_name[0] == '.')
				continue;
			if (i == 0 && (d->d_name[0] < '0' || d->d_name[0] > '9'))
				continue;
			if (snprintf(live[n].path, sizeof(live[n].path),
				     i == 0 ? "/proc/%s/ns/net" : "/run/netns/%s",
				     d->d_name) >= (int)sizeof(live[n].path))
				continue;
			if (!stat(live[n].path, &st)) {
				live[n].ino = st.st_ino;
				n++;
			}
		}
		closedir(dir);
	}
	return n;
}

/* The cookie of the netns at `path` (entered and left), 0 if unknown. */
static uint64_t umh_ns_cookie_at(struct bf_umh *umh, const char *path)
{
	uint64_t cookie = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!setns(fd, CLONE_NEWNET)) {
		cookie = bf_umh_net_cookie();
		umh_ns_back(umh);
	}
	close(fd);
	return cookie;
}

/*
 * Is e's netns still there? Its inode seen somewhere is not enough: nsfs
 * inode numbers are reused (Linux 6.1 hands a dead netns's number to the
 * next one), so the cookie of what holds that inode decides.
 */
static bool umh_ns_alive(struct bf_umh *umh, const struct umh_ns *e,
			 const struct umh_ns_seen *live, unsigned int n)
{
	uint64_t cookie;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (live[i].ino != e->ino)
			continue;
		/* 0: that process exited meanwhile, try another holder */
		cookie = umh_ns_cookie_at(umh, live[i].path);
		if (cookie)
			return cookie == e->key;
	}
	return false;
}

/* Drop the tables of namespaces that no longer exist (in the helper's netns). */
static void umh_ns_prune(struct bf_umh *umh)
{
	struct umh_ns_seen *live;
	unsigned int i, n;

	if (!umh->n_nss)
		return;
	live = calloc(UMH_NS_MAX_LIVE, sizeof(*live));
	if (!live)
		return;
	n = umh_ns_live(live, UMH_NS_MAX_LIVE);
	/* A full list may miss some: keep everything rather than guess. */
	if (n == UMH_NS_MAX_LIVE)
		goto out;
	for (i = umh->n_nss; i-- > 0;) {
		if (umh_ns_alive(umh, &umh->nss[i], live, n))
			continue;
		bf_info("netns %llu is gone: dropping its tables and their state files",
			(unsigned long long)umh->nss[i].key);
		umh_state_remove(umh, umh->nss[i].key);
		umh_ns_entry_free(&umh->nss[i]);
		umh->nss[i] = umh->nss[--umh->n_nss];
	}
out:
	free(live);
}

static struct umh_ns *umh_ns_find(struct bf_umh *umh, uint64_t key)
{
	unsigned int i;

	for (i = 0; i < umh->n_nss; i++)
		if (umh->nss[i].key == key)
			return &umh->nss[i];
	return NULL;
}

/* A new namespace: its table, from its state or the initial one. */
static struct umh_ns *umh_ns_add(struct bf_umh *umh, uint64_t key,
				 uint64_t ino, int *err)
{
	struct umh_ns *nss, *e;
	int list[64];
	unsigned int n;

	nss = realloc(umh->nss, (umh->n_nss + 1) * sizeof(*nss));
	if (!nss) {
		*err = -ENOMEM;
		return NULL;
	}
	umh->nss = nss;
	e = &nss[umh->n_nss];
	*e = (struct umh_ns){ .key = key, .ino = ino,
			      .att_fds = { -1, -1, -1 } };
	n = umh_ns_resolve(umh, list);
	if (n) {
		e->ifindexes = calloc(n, sizeof(int));
		if (!e->ifindexes) {
			*err = -ENOMEM;
			return NULL;
		}
		memcpy(e->ifindexes, list, n * sizeof(int));
		e->n_ifindexes = n;
	}
	umh_ns_swap(umh, e);
	*err = umh_ns_init(umh);
	umh_ns_swap(umh, e);
	if (*err) {
		bf_err("netns %llu: cannot set up its filter table: %s",
		       (unsigned long long)key, strerror(-*err));
		umh_ns_entry_free(e);
		return NULL;
	}
	umh->n_nss++;
	bf_info("netns %llu: serving its own filter table (%u of the configured devices there)%s",
		(unsigned long long)key, e->n_ifindexes,
		e->n_ifindexes ? "" : ": its rules are not attached anywhere");
	return e;
}

/* Devices appeared or vanished since the last request: attach there. */
static void umh_ns_refresh(struct bf_umh *umh)
{
	int list[64];
	unsigned int n;

	n = umh_ns_resolve(umh, list);
	if (n != umh->n_ifindexes ||
	    (n && memcmp(list, umh->ifindexes, n * sizeof(int)))) {
		bf_info("netns %llu: configured devices changed (%u present)",
			(unsigned long long)umh->netns, n);
		bf_umh_set_ifaces(umh, list, n);
	}
	bf_umh_sync_ifaces(umh);
}

/* Enter /proc/<pid>/ns/net if it is the netns `key`; its inode in *ino. */
static int umh_ns_join(struct bf_umh *umh, uint32_t pid, uint64_t key,
		       uint64_t *ino)
{
	char path[64];
	struct stat st;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
		bf_warn("request from pid %u (netns %llu): cannot open %s: %s",
			pid, (unsigned long long)key, path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) || setns(fd, CLONE_NEWNET)) {
		r = -errno;
		close(fd);
		bf_err("request from pid %u: cannot enter its network namespace: %s",
		       pid, strerror(-r));
		return r;
	}
	close(fd);
	*ino = st.st_ino;
	if (bf_umh_net_cookie() != key) {
		bf_warn("request from pid %u: its thread is no longer in netns %llu (gone or moved): refused",
			pid, (unsigned long long)key);
		umh_ns_back(umh);
		return -ESRCH;
	}
	return 0;
}

int umh_ns_enter(struct bf_umh *umh, const struct bpfilter_req *req,
		 bool *entered)
{
	struct umh_ns *e;
	uint64_t ino = 0;
	int r;

	*entered = false;
	if (!umh->per_netns || !req->netns || req->netns == umh->netns)
		return 0;
	if (!req->pid)
		return -ESRCH;
	if (!umh_ns_find(umh, req->netns))
		umh_ns_prune(umh);
	r = umh_ns_join(umh, req->pid, req->netns, &ino);
	if (r)
		return r;
	e = umh_ns_find(umh, req->netns);
	if (e)
		e->ino = ino;	/* cookies are never reused; an inode can be */
	if (!e)
		e = umh_ns_add(umh, req->netns, ino, &r);
	if (!e) {
		umh_ns_back(umh);
		return r;
	}
	umh_ns_swap(umh, e);
	umh_ns_refresh(umh);
	umh->cur_ns = e;
	*entered = true;
	return 0;
}

void umh_ns_leave(struct bf_umh *umh)
{
	struct umh_ns *e = umh->cur_ns;

	umh->cur_ns = NULL;
	if (e)
		umh_ns_swap(umh, e);
	umh_ns_back(umh);
}
