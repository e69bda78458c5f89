// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence of the table in force (ATTACH mode with a state_dir).
 *
 * After every change the daemon writes <state_dir>/ipv4-filter-<netns>.state
 * (one file per network namespace, so daemons of several namespaces can
 * share the default directory)
 * atomically (a temporary file renamed over the old one): the ipt_replace
 * header and normalised entries, the base counters (what SET_ADD_COUNTERS
 * added, plus counters folded in from programs that were replaced by a
 * reload), the ids of the programs it attached and the netns it serves.
 *
 * At start, in this order:
 *  1. Adopt: the state exists, belongs to this netns and hook, and every
 *     configured device has exactly the recorded programs attached. The
 *     daemon takes new fds on those programs (bpf_prog_get_fd_by_id) and on
 *     their maps (found by name through the program's map ids). Nothing is
 *     reloaded or reattached: the rules, the BPF per-rule counters and the
 *     base counters all survive, and packets never see a gap.
 *  2. Reload: the state exists but the attachments differ (a device was
 *     added, a program was detached by hand, the daemon now runs with the
 *     other --hook...). The saved blob is translated, loaded and attached
 *     again; after a hook change the recorded programs of the old hook are
 *     detached from the configured devices.
 *     The rules and base counters survive; the BPF counters survive too if
 *     the recorded programs still exist somewhere (they are read and added
 *     to the base counters), otherwise packets counted by them are lost.
 *  3. Otherwise (no state, damaged, saved in another netns): the initial
 *     table, as ip_tables starts with.
 * Not kept: BPF counters of programs that no longer exist, connections.
 * Attachments outlive the daemon (see bf_attach()), so between a stop and a
 * start the last rules stay in force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpfilter/log.h"
#include "internal.h"

#define UMH_STATE_MAGIC		0x62706673	/* "bpfs" */
#define UMH_STATE_VERSION	1
#define UMH_MAX_MAP_IDS		16

struct umh_state_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t netns;
	uint32_t hook;			/* the helper's opts hook */
	uint32_t n_entries;		/* base counters that follow the blob */
	uint64_t repl_len;		/* ipt_replace + entries */
	uint32_t prog_ids[UMH_NR_HOOKS];	/* by enum bf_hook, 0 = none */
	uint32_t reserved;
};

static const char *const umh_map_names[BF_MAP_NR] = {
	[BF_MAP_COUNTERS] = "bpfilter_cnt",
	[BF_MAP_IFBITS] = "bpfilter_ifb",
	[BF_MAP_TEST] = "bpfilter_tst",
	[BF_MAP_LOG] = "bpfilter_log",
	[BF_MAP_SCRATCH] = "bpfilter_scr",
};

static uint32_t umh_prog_id(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static int umh_mkdir_p(const char *dir)
{
	char path[4096];
	size_t i, n;

	n = snprintf(path, sizeof(path), "%s", dir);
	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		path[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static int umh_write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static int umh_state_write(int fd, const struct bf_umh *umh)
{
	const struct umh_table *t = umh->t4;
	struct umh_state_hdr hdr = {
		.magic = UMH_STATE_MAGIC,
		.version = UMH_STATE_VERSION,
		.netns = umh->netns,
		.hook = umh->hook,
		.n_entries = t->ir->n_entries,
		.repl_len = t->repl_len,
	};
	int i, r;

	for (i = 0; i < UMH_NR_HOOKS; i++)
		hdr.prog_ids[i] = umh_prog_id(t->prog_fds[i]);
	r = umh_write_all(fd, &hdr, sizeof(hdr));
	if (!r)
		r = umh_write_all(fd, t->repl, t->repl_len);
	if (!r)
		r = umh_write_all(fd, t->base,
				  t->ir->n_entries * sizeof(*t->base));
	if (!r && fsync(fd))
		r = -errno;
	return r;
}

/* <state_dir>/ipv4-filter-<netns inode>.state */
static void umh_state_path(const struct bf_umh *umh, char *path, size_t len)
{
	snprintf(path, len, "%s/ipv4-filter-%llu.state", umh->state_dir,
		 (unsigned long long)umh->netns);
}


int umh_state_save(struct bf_umh *umh)
{
	char path[4096], tmp[4096 + 8];
	int fd, r;

	if (!umh->state_dir || !umh->t4)
		return 0;
	r = umh_mkdir_p(umh->state_dir);
	if (r)
		return r;
	umh_state_path(umh, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = umh_state_write(fd, umh);
	close(fd);
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* The whole state file, malloc'ed, checked against this helper. */
static int umh_state_read(const struct bf_umh *umh, char *path,
			  struct umh_state_hdr *hdr, void **bufp)
{
	struct stat st;
	size_t want;
	void *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*hdr) ||
	    st.st_size > (off_t)BPFILTER_PAYLOAD_MAX * 2) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size)
		r = -EIO;
	memcpy(hdr, buf, sizeof(*hdr));
	want = sizeof(*hdr) + hdr->repl_len +
	       (size_t)hdr->n_entries * sizeof(struct xt_counters);
	if (!r && (hdr->magic != UMH_STATE_MAGIC ||
		   hdr->version != UMH_STATE_VERSION ||
		   hdr->repl_len < sizeof(struct ipt_replace) ||
		   hdr->repl_len > BPFILTER_PAYLOAD_MAX ||
		   want != (size_t)st.st_size))
		r = -EINVAL;
	if (!r && (hdr->netns != umh->netns ||
		   (hdr->hook != BF_HOOK_XDP && hdr->hook != BF_HOOK_TC_INGRESS)))
		r = -ESTALE;
	if (r) {
		free(buf);
		return r;
	}
	*bufp = buf;
	return 0;
}

static void umh_maps_close_fds(struct bf_maps *maps)
{
	int i;

	for (i = 0; i < BF_MAP_NR; i++) {
		if (maps->fd[i] >= 0)
			close(maps->fd[i]);
		maps->fd[i] = -1;
	}
	maps->n_counters = 0;
}

/* Take fds on a program's maps, recognised by their names. */
static int umh_prog_maps(int prog_fd, struct bf_maps *maps)
{
	uint32_t ids[UMH_MAX_MAP_IDS], len, i;
	struct bpf_prog_info info = {};
	int m, fd;

	for (m = 0; m < BF_MAP_NR; m++)
		maps->fd[m] = -1;
	maps->n_counters = 0;
	info.nr_map_ids = UMH_MAX_MAP_IDS;
	info.map_ids = (uint64_t)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (i = 0; i < info.nr_map_ids && i < UMH_MAX_MAP_IDS; i++) {
		struct bpf_map_info minfo = {};
		uint32_t mlen = sizeof(minfo);

		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen)) {
			close(fd);
			continue;
		}
		for (m = 0; m < BF_MAP_NR; m++)
			if (maps->fd[m] < 0 && !strcmp(minfo.name, umh_map_names[m]))
				break;
		if (m == BF_MAP_NR) {
			close(fd);
			continue;
		}
		maps->fd[m] = fd;
		if (m == BF_MAP_COUNTERS) {
			if (minfo.value_size != sizeof(struct xt_counters))
				break;
			maps->n_counters = minfo.max_entries;
		}
	}
	if (maps->fd[BF_MAP_COUNTERS] < 0 || !maps->n_counters) {
		umh_maps_close_fds(maps);
		return -ENOENT;
	}
	return 0;
}

/* Are the recorded programs the ones attached on every device? */
static bool umh_attached_match(const struct bf_umh *umh,
			       const struct umh_state_hdr *hdr)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	unsigned int i;
	uint32_t id;
	int h, n;

	if (!umh->n_ifindexes)
		return false;
	n = umh_hooks(umh, hooks);
	for (h = 0; h < n; h++) {
		if (!hdr->prog_ids[hooks[h]])
			return false;
		for (i = 0; i < umh->n_ifindexes; i++) {
			if (bf_attached_id(hooks[h], umh->ifindexes[i], &id) ||
			    id != hdr->prog_ids[hooks[h]])
				return false;
		}
	}
	return true;
}

static int umh_adopt(const struct bf_umh *umh, const struct umh_state_hdr *hdr,
		     struct umh_table *t)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	int h, n, fd, r;

	n = umh_hooks(umh, hooks);
	for (h = 0; h < n; h++) {
		fd = bpf_prog_get_fd_by_id(hdr->prog_ids[hooks[h]]);
		if (fd < 0)
			return -errno;
		t->prog_fds[hooks[h]] = fd;
	}
	r = umh_prog_maps(t->prog_fds[hooks[0]], &t->maps);
	if (r)
		return r;
	if (t->maps.n_counters < t->ir->n_entries) {
		umh_maps_close_fds(&t->maps);
		return -EINVAL;
	}
	t->adopted = true;
	return 0;
}

static void umh_unadopt(struct umh_table *t)
{
	int i;

	for (i = 0; i < UMH_NR_HOOKS; i++) {
		if (t->prog_fds[i] >= 0)
			close(t->prog_fds[i]);
		t->prog_fds[i] = -1;
	}
	umh_maps_close_fds(&t->maps);
	t->adopted = false;
}

/* Fold what the recorded (replaced) programs counted into the base. */
static void umh_salvage_counters(const struct umh_state_hdr *hdr,
				 struct umh_table *t)
{
	struct xt_counters *c;
	struct bf_maps maps;
	uint32_t i;
	int h, fd;

	for (h = 0; h < UMH_NR_HOOKS; h++) {
		fd = hdr->prog_ids[h] ? bpf_prog_get_fd_by_id(hdr->prog_ids[h]) : -1;
		if (fd >= 0)
			break;
	}
	if (fd < 0)
		return;
	if (umh_prog_maps(fd, &maps)) {
		close(fd);
		return;
	}
	close(fd);
	c = calloc(maps.n_counters, sizeof(*c));
	if (c && maps.n_counters >= t->ir->n_entries &&
	    !bf_maps_read_counters(&maps, c)) {
		for (i = 0; i < t->ir->n_entries; i++) {
			t->base[i].pcnt += c[i].pcnt;
			t->base[i].bcnt += c[i].bcnt;
		}
		bf_info("kept the counters of the previous programs");
	}
	free(c);
	umh_maps_close_fds(&maps);
}

/*
 * The daemon moved from xdp to tc or back: take the recorded programs of
 * the other hook off the configured devices, or packets would be filtered
 * twice.
 */
static void umh_detach_other_hook(const struct bf_umh *umh,
				  const struct umh_state_hdr *hdr)
{
	static const enum bf_hook xdp[] = { BF_HOOK_XDP };
	static const enum bf_hook tc[] = { BF_HOOK_TC_INGRESS, BF_HOOK_TC_EGRESS };
	const enum bf_hook *hooks = hdr->hook == BF_HOOK_XDP ? xdp : tc;
	int n = hdr->hook == BF_HOOK_XDP ? 1 : 2, h;
	unsigned int i;
	uint32_t id;

	for (i = 0; i < umh->n_ifindexes; i++) {
		for (h = 0; h < n; h++) {
			if (!hdr->prog_ids[hooks[h]] ||
			    bf_attached_id(hooks[h], umh->ifindexes[i], &id) ||
			    id != hdr->prog_ids[hooks[h]])
				continue;
			if (bf_detach(hooks[h], umh->ifindexes[i]))
				bf_warn("device #%d: cannot detach the previous program %u",
					umh->ifindexes[i], id);
		}
	}
}

static int umh_reload(struct bf_umh *umh, const struct umh_state_hdr *hdr,
		      struct umh_table *t)
{
	struct bf_err err = {};
	int r;

	umh_salvage_counters(hdr, t);
	r = umh_table_load(t, &err);
	if (!r)
		r = umh_table_attach(umh, t, NULL, &err);
	if (r)
		umh_refuse(umh, "reloading the saved table", r, &err);
	bf_err_clear(&err);
	return r;
}

int umh_state_restore(struct bf_umh *umh, struct umh_table **tp)
{
	struct umh_state_hdr hdr = {};
	struct ipt_replace *repl;
	struct umh_table *t;
	struct bf_err err = {};
	char path[4096];
	void *buf = NULL;
	int r;

	umh_state_path(umh, path, sizeof(path));
	r = umh_state_read(umh, path, &hdr, &buf);
	if (r) {
		if (r != -ENOENT)
			bf_warn("%s: not used (%s)", path,
				r == -ESTALE ? "saved by a daemon of another netns" :
				strerror(-r));
		return -ENOENT;
	}
	repl = malloc(hdr.repl_len);
	if (!repl) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(repl, (char *)buf + sizeof(hdr), hdr.repl_len);
	/* Saved normalised (no counters); what a SET_REPLACE would carry. */
	repl->num_counters = hdr.n_entries;
	r = umh_table_translate(umh, repl, hdr.repl_len, NULL, &t, &err);
	if (r) {
		umh_refuse(umh, path, r, &err);
		bf_err_clear(&err);
		free(buf);
		return -ENOENT;
	}
	bf_err_clear(&err);
	if (t->ir->n_entries != hdr.n_entries) {
		bf_warn("%s: %u counters for %u entries, not used", path,
			hdr.n_entries, t->ir->n_entries);
		umh_table_free(t);
		free(buf);
		return -ENOENT;
	}
	memcpy(t->base, (char *)buf + sizeof(hdr) + hdr.repl_len,
	       hdr.n_entries * sizeof(*t->base));
	if (hdr.hook == umh->hook && umh_attached_match(umh, &hdr)) {
		r = umh_adopt(umh, &hdr, t);
		if (!r) {
			bf_info("adopted the attached programs and their counters (%u entries)",
				t->ir->n_entries);
			free(buf);
			*tp = t;
			return 0;
		}
		bf_warn("cannot adopt the attached programs (%s): reloading",
			strerror(-r));
		umh_unadopt(t);
	}
	r = umh_reload(umh, &hdr, t);
	free(buf);
	if (r) {
		umh_table_free(t);
		return -ENOENT;
	}
	if (hdr.hook != umh->hook)
		umh_detach_other_hook(umh, &hdr);
	bf_info("reloaded the saved table (%u entries)", t->ir->n_entries);
	*tp = t;
	umh_state_save(umh);
	return 0;
}
