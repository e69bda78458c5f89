// SPDX-License-Identifier: GPL-2.0
/*
 * The -j LOG consumer: drains the ring buffer of every table this helper
 * holds (BF_MAP_LOG, struct bf_logrec records) and writes each record as
 * the kernel LOG target's line, at the rule's level, to /dev/kmsg, the
 * kernel log the kernel's own LOG target writes to (dmesg shows both the
 * same way; the facility is "user": /dev/kmsg does not let userspace
 * write facility 0, "kern").
 *
 * /dev/kmsg rate-limits writers when kernel.printk_devkmsg is "ratelimit"
 * (the default: 10 lines per 5 s per open file; the kernel then reports
 * the suppressed count itself). The kernel's LOG target has no limit of
 * its own; set printk_devkmsg=on, or rate-limit with a rule, for more
 * (docs/design-notes.md).
 *
 * The set of rings follows the tables: each call of bf_umh_log_fd()
 * compares the map ids in force with the ones drained, drains the old
 * rings one last time and rebuilds when they differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfilter/log.h"
#include "bpfilter/logrec.h"
#include "internal.h"

#define LOGD_MAX_RINGS	1024

struct logd_ring {
	struct logd *d;
	uint32_t map_id;
	int fd;			/* dup of the table's BF_MAP_LOG */
	int *ifindexes;		/* per-netns tables: configured devices, by position */
	unsigned int n_ifindexes;
	bool own;		/* the helper's own netns: if_indextoname() */
};

struct logd {
	struct bf_umh *umh;
	struct ring_buffer *rb;
	struct logd_ring *rings;
	unsigned int n;
	int kmsg;
	uint64_t lines;
};

static const char *logd_name(const struct logd_ring *r, uint32_t ifindex,
			     char buf[IF_NAMESIZE])
{
	unsigned int i;

	if (!ifindex)
		return "";
	if (!r->own && r->d->umh->ifnames) {
		for (i = 0; i < r->n_ifindexes && i < r->d->umh->n_ifnames; i++)
			if (r->ifindexes[i] == (int)ifindex)
				return r->d->umh->ifnames[i];
	}
	if (if_indextoname(ifindex, buf))
		return buf;
	snprintf(buf, IF_NAMESIZE, "if%u", ifindex);
	return buf;
}

static int logd_write(struct logd *d, unsigned int level, const char *line)
{
	char out[2048];
	int n;

	if (d->kmsg < 0)
		d->kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (d->kmsg < 0)
		return -errno;
	n = snprintf(out, sizeof(out), "<%u>%s\n", level & 7, line);
	if (n >= (int)sizeof(out))
		n = sizeof(out) - 1;
	if (write(d->kmsg, out, n) < 0)
		return -errno;
	d->lines++;
	return 0;
}

static int logd_sample(void *ctx, void *data, size_t size)
{
	const struct logd_ring *r = ctx;
	const struct bf_logrec *rec = data;
	char in[IF_NAMESIZE], out[IF_NAMESIZE], line[1536];

	if (size < sizeof(*rec))
		return 0;
	bf_logrec_format(rec, logd_name(r, rec->iif, in), logd_name(r, rec->oif, out),
			 line, sizeof(line));
	logd_write(r->d, rec->level, line);
	return 0;
}

static uint32_t logd_map_id(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Is the ring of map `id` already among out[0, n)? (a ring shared by two tables) */
static bool logd_have(const struct logd_ring *out, unsigned int n, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (out[i].map_id == id)
			return true;
	return false;
}

/* Append table t's ring unless it is there already (or t has none). */
static unsigned int logd_add_table(struct logd_ring *out, unsigned int n, unsigned int max,
			     const struct umh_table *t, const struct logd_ring *tmpl)
{
	uint32_t id;

	if (!t || n >= max)
		return n;
	id = logd_map_id(t->maps.fd[BF_MAP_LOG]);
	if (!id || logd_have(out, n, id))
		return n;
	out[n] = *tmpl;
	out[n].fd = t->maps.fd[BF_MAP_LOG];
	out[n].map_id = id;
	return n + 1;
}

/*
 * Tables with a log ring: the own netns' and, per netns, the waiting ones;
 * both families (an IPv6 record is told apart by its version nibble).
 */
static unsigned int logd_collect(struct bf_umh *umh, struct logd_ring *out,
				 unsigned int max)
{
	const struct logd_ring own = { .own = true };
	unsigned int n = 0, i;

	n = logd_add_table(out, n, max, umh->t4, &own);
	n = logd_add_table(out, n, max, umh->t6, &own);
	for (i = 0; i < umh->n_nss; i++) {
		const struct logd_ring ns = {
			.ifindexes = umh->nss[i].ifindexes,
			.n_ifindexes = umh->nss[i].n_ifindexes,
		};

		n = logd_add_table(out, n, max, umh->nss[i].t4, &ns);
		n = logd_add_table(out, n, max, umh->nss[i].t6, &ns);
	}
	return n;
}

static void logd_drop_rings(struct logd *d)
{
	unsigned int i;

	if (d->rb) {
		ring_buffer__consume(d->rb);
		ring_buffer__free(d->rb);
		d->rb = NULL;
	}
	for (i = 0; i < d->n; i++) {
		close(d->rings[i].fd);
		free(d->rings[i].ifindexes);
	}
	free(d->rings);
	d->rings = NULL;
	d->n = 0;
}

static bool logd_same(const struct logd *d, const struct logd_ring *cur,
		      unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!cur[i].map_id)
			continue;
		if (k >= d->n || d->rings[k].map_id != cur[i].map_id)
			return false;
		k++;
	}
	return k == d->n;
}

static int logd_add(struct logd *d, const struct logd_ring *src)
{
	struct logd_ring *r = &d->rings[d->n];
	int ret;

	*r = *src;
	r->d = d;
	r->fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 0);
	r->ifindexes = NULL;
	if (r->fd < 0)
		return -errno;
	if (src->n_ifindexes) {
		r->ifindexes = calloc(src->n_ifindexes, sizeof(int));
		if (!r->ifindexes) {
			close(r->fd);
			return -ENOMEM;
		}
		memcpy(r->ifindexes, src->ifindexes, src->n_ifindexes * sizeof(int));
	}
	d->n++;
	if (!d->rb) {
		d->rb = ring_buffer__new(r->fd, logd_sample, r, NULL);
		ret = d->rb ? 0 : -errno;
	} else {
		ret = ring_buffer__add(d->rb, r->fd, logd_sample, r);
	}
	return ret < 0 ? ret : 0;
}

static int logd_rebuild(struct logd *d, const struct logd_ring *cur,
			unsigned int n)
{
	unsigned int i;
	int ret = 0;

	logd_drop_rings(d);
	d->rings = calloc(n ? n : 1, sizeof(*d->rings));
	if (!d->rings)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		if (cur[i].map_id)
			ret = logd_add(d, &cur[i]);
	if (ret)
		bf_warn("-j LOG: cannot watch a table's log ring: %s", strerror(-ret));
	return ret;
}

static struct logd *logd_get(struct bf_umh *umh)
{
	if (!umh->logd) {
		umh->logd = calloc(1, sizeof(*umh->logd));
		if (!umh->logd)
			return NULL;
		umh->logd->umh = umh;
		umh->logd->kmsg = -1;
	}
	return umh->logd;
}

int bf_umh_log_fd(struct bf_umh *umh)
{
	struct logd_ring *cur;
	struct logd *d;
	unsigned int n;

	if (!umh || umh->mode != BF_UMH_ATTACH)
		return -1;
	d = logd_get(umh);
	cur = calloc(LOGD_MAX_RINGS, sizeof(*cur));
	if (!d || !cur) {
		free(cur);
		return -1;
	}
	n = logd_collect(umh, cur, LOGD_MAX_RINGS);
	if (!logd_same(d, cur, n))
		logd_rebuild(d, cur, n);
	free(cur);
	return d->rb ? ring_buffer__epoll_fd(d->rb) : -1;
}

int bf_umh_log_drain(struct bf_umh *umh)
{
	if (!umh || !umh->logd || !umh->logd->rb)
		return 0;
	return ring_buffer__consume(umh->logd->rb);
}

void umh_log_free(struct bf_umh *umh)
{
	if (!umh || !umh->logd)
		return;
	logd_drop_rings(umh->logd);
	if (umh->logd->kmsg >= 0)
		close(umh->logd->kmsg);
	free(umh->logd);
	umh->logd = NULL;
}
