// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence of the tables in force (ATTACH mode with a state_dir).
 *
 * After every change the daemon writes, for each family,
 * <state_dir>/ipv4-filter-<netns>.state and ipv6-filter-<netns>.state
 * (one pair per network namespace, so daemons of several namespaces can
 * share the default directory) atomically (a temporary file renamed over
 * the old one): the ipt_replace / ip6t_replace header and normalised
 * entries, the base counters (what SET_ADD_COUNTERS added), the ids of the
 * family's maps, the ids of the (two-family) programs it attached, the hook
 * and the netns it serves.
 *
 * At start, in this order:
 *  1. Each family's table is translated again from its file, with its base
 *     counters. Its maps are taken back by id when they still exist (an
 *     attached program holds them): the BPF per-rule counters go on.
 *  2. Adopt: both families came back with their maps, both files name the
 *     same programs, the hook is the same, and every configured device
 *     runs exactly those programs. The daemon takes fds on them: nothing
 *     is reloaded or reattached, packets never see a gap.
 *  3. Otherwise (a device was added, a program detached by hand, the
 *     daemon now runs with the other --hook, one family had no file...):
 *     the program is built again from both tables (with the maps found in
 *     1, else new ones) and attached; after a hook change the recorded
 *     programs of the old hook are detached from the configured devices.
 *  A family without a usable file (none, damaged, another netns, another
 *  format) starts with its initial table, as ip_tables does.
 * Not kept: BPF counters of maps that no longer exist, connections.
 * Attachments outlive the daemon (see bf_attach()), so between a stop and a
 * start the last rules stay in force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpfilter/log.h"
#include "internal.h"

#define UMH_STATE_MAGIC		0x62706673	/* "bpfs" */
#define UMH_STATE_VERSION	3	/* 3: BF_MAP_ICMPCT added to map_ids[] */

struct umh_state_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t netns;
	uint32_t hook;			/* the helper's opts hook */
	uint32_t n_entries;		/* base counters that follow the blob */
	uint64_t repl_len;		/* ipt_replace + entries */
	uint32_t prog_ids[UMH_NR_HOOKS];	/* by enum bf_hook, 0 = none */
	uint32_t family;		/* AF_INET, AF_INET6 */
	uint32_t map_ids[BF_MAP_NR];	/* this family's maps, 0 = none */
	uint32_t reserved;
};

static const char *const umh_map_names[BF_MAP_NR] = {
	[BF_MAP_COUNTERS] = "bpfilter_cnt",
	[BF_MAP_IFBITS] = "bpfilter_ifb",
	[BF_MAP_TEST] = "bpfilter_tst",
	[BF_MAP_LIMIT] = "bpfilter_lim",
	[BF_MAP_ADDRTYPE] = "bpfilter_adt",
	[BF_MAP_LOG] = "bpfilter_log",
	[BF_MAP_SCRATCH] = "bpfilter_scr",
	[BF_MAP_ICMPCT] = "bpfilter_icq",
	[BF_MAP_ICMPRL] = "bpfilter_irl",
	[BF_MAP_ADDRTYPE6] = "bpfilter_ad6",
};

static uint32_t umh_prog_id(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static uint32_t umh_map_id(int fd)
{
	struct bpf_map_info info = {};
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

static const char *umh_family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static int umh_state_write(int fd, const struct bf_umh *umh,
			   const struct umh_table *t)
{
	struct umh_state_hdr hdr = {
		.magic = UMH_STATE_MAGIC,
		.version = UMH_STATE_VERSION,
		.netns = umh->netns,
		.hook = umh->hook,
		.n_entries = t->ir->n_entries,
		.repl_len = t->repl_len,
		.family = t->family,
	};
	int i, r;

	for (i = 0; i < UMH_NR_HOOKS; i++)
		hdr.prog_ids[i] = umh_prog_id(umh->att_fds[i]);
	for (i = 0; i < BF_MAP_NR; i++)
		hdr.map_ids[i] = umh_map_id(t->maps.fd[i]);
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

/* <state_dir>/<ipv4|ipv6>-filter-<netns>.state */
static void umh_state_path(const struct bf_umh *umh, int family, uint64_t key,
			   char *path, size_t len)
{
	snprintf(path, len, "%s/%s-filter-%llu.state", umh->state_dir,
		 umh_family_name(family), (unsigned long long)key);
}

static int umh_state_save_one(struct bf_umh *umh, const struct umh_table *t)
{
	char path[4096], tmp[4096 + 8];
	int fd, r;

	umh_state_path(umh, t->family, umh->netns, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = umh_state_write(fd, umh, t);
	close(fd);
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int umh_state_save(struct bf_umh *umh)
{
	int r;

	if (!umh->state_dir || !umh->t4)
		return 0;
	r = umh_mkdir_p(umh->state_dir);
	if (r)
		return r;
	r = umh_state_save_one(umh, umh->t4);
	if (!r && umh->t6)
		r = umh_state_save_one(umh, umh->t6);
	return r;
}

void umh_state_remove(const struct bf_umh *umh, uint64_t key)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char path[4096];
	unsigned int i;

	if (!umh->state_dir)
		return;
	for (i = 0; i < 2; i++) {
		umh_state_path(umh, families[i], key, path, sizeof(path));
		if (!unlink(path))
			bf_info("removed %s: its network namespace is gone", path);
	}
}

/* The whole state file, malloc'ed, checked against this helper. */
static int umh_state_read(const struct bf_umh *umh, int family, char *path,
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
	if (!r && (hdr->magic != UMH_STATE_MAGIC ||
		   hdr->version != UMH_STATE_VERSION)) {
		free(buf);
		return -EPROTO;
	}
	want = sizeof(*hdr) + hdr->repl_len +
	       (size_t)hdr->n_entries * sizeof(struct xt_counters);
	if (!r && (hdr->magic != UMH_STATE_MAGIC ||
		   hdr->version != UMH_STATE_VERSION ||
		   hdr->repl_len < sizeof(struct ipt_replace) ||
		   hdr->repl_len > BPFILTER_PAYLOAD_MAX ||
		   want != (size_t)st.st_size))
		r = -EINVAL;
	if (!r && hdr->family != (uint32_t)family)
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

/*
 * Take back the maps recorded in hdr, if they still exist and fit t. The
 * counters map decides; a map no program uses (the test map, the
 * interface map of a table without -i/-o) is gone with the old daemon and
 * made again.
 */
static int umh_maps_by_id(const struct umh_state_hdr *hdr, struct umh_table *t)
{
	struct bf_maps *maps = &t->maps, fresh;
	uint32_t want = t->ir->n_entries ? t->ir->n_entries : 1;
	bool missing = false;
	int m, fd;

	for (m = 0; m < BF_MAP_NR; m++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);

		fd = hdr->map_ids[m] ? bpf_map_get_fd_by_id(hdr->map_ids[m]) : -1;
		if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) ||
				strcmp(info.name, umh_map_names[m]) ||
				(m == BF_MAP_COUNTERS &&
				 (info.value_size != sizeof(struct xt_counters) ||
				  info.max_entries != want)))) {
			close(fd);
			fd = -1;
		}
		maps->fd[m] = fd;
		missing |= fd < 0;
	}
	if (maps->fd[BF_MAP_COUNTERS] < 0)
		goto fail;
	if (missing) {
		if (bf_maps_create(t->ir, &fresh, NULL))
			goto fail;
		for (m = 0; m < BF_MAP_NR; m++) {
			if (maps->fd[m] < 0) {
				maps->fd[m] = fresh.fd[m];
				fresh.fd[m] = -1;
			}
		}
		bf_maps_close(&fresh);
	}
	maps->n_counters = t->ir->n_entries;
	return 0;
fail:
	umh_maps_close_fds(maps);
	return -ENOENT;
}

/*
 * One family's table from its state file (translated, base counters,
 * maps taken back when they still exist). -ENOENT: no usable state.
 */
static int umh_state_load(struct bf_umh *umh, int family,
			  struct umh_state_hdr *hdr, struct umh_table **tp)
{
	struct ipt_replace *repl;
	struct umh_table *t;
	struct bf_err err = {};
	char path[4096];
	void *buf = NULL;
	int r;

	umh_state_path(umh, family, umh->netns, path, sizeof(path));
	r = umh_state_read(umh, family, path, hdr, &buf);
	if (r) {
		if (r != -ENOENT)
			bf_warn("%s: not used (%s)", path,
				r == -ESTALE ? "saved by a daemon of another netns" :
				r == -EPROTO ? "another format" : strerror(-r));
		return -ENOENT;
	}
	repl = malloc(hdr->repl_len);
	if (!repl) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(repl, (char *)buf + sizeof(*hdr), hdr->repl_len);
	/* Saved normalised (no counters); what a SET_REPLACE would carry. */
	repl->num_counters = hdr->n_entries;
	r = umh_table_translate(umh, family, repl, hdr->repl_len, NULL, &t, &err);
	if (r) {
		umh_refuse(umh, path, r, &err);
		bf_err_clear(&err);
		free(buf);
		return -ENOENT;
	}
	bf_err_clear(&err);
	if (t->ir->n_entries != hdr->n_entries) {
		bf_warn("%s: %u counters for %u entries, not used", path,
			hdr->n_entries, t->ir->n_entries);
		umh_table_free(t);
		free(buf);
		return -ENOENT;
	}
	memcpy(t->base, (char *)buf + sizeof(*hdr) + hdr->repl_len,
	       hdr->n_entries * sizeof(*t->base));
	free(buf);
	t->adopted = !umh_maps_by_id(hdr, t);
	*tp = t;
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

	if (!umh->n_ifindexes || hdr->hook != (uint32_t)umh->hook)
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

/* Take fds on the recorded programs: they are what runs. */
static int umh_adopt(struct bf_umh *umh, const struct umh_state_hdr *hdr)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	int h, n, fd;

	n = umh_hooks(umh, hooks);
	for (h = 0; h < n; h++) {
		fd = bpf_prog_get_fd_by_id(hdr->prog_ids[hooks[h]]);
		if (fd < 0) {
			fd = -errno;
			umh_att_close(umh->att_fds);
			return fd;
		}
		umh->att_fds[hooks[h]] = fd;
	}
	return 0;
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

/* Both families' tables from their files, else their initial tables. */
static int umh_restore_tables(struct bf_umh *umh, struct umh_state_hdr hdrs[2],
			      bool got[2])
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct umh_table **tp;
	int k, r;

	for (k = 0; k < 2; k++) {
		tp = umh_tablep(umh, families[k]);
		got[k] = !umh_state_load(umh, families[k], &hdrs[k], tp);
		if (got[k])
			continue;
		r = umh_initial_table(umh, families[k], tp);
		if (r && families[k] == AF_INET)
			return r;
		if (r)
			bf_err("IPv6: no initial table (%s): ip6tables requests are refused",
			       strerror(-r));
	}
	return 0;
}

/* Every table came back with its maps and names the attached programs. */
static bool umh_can_adopt(const struct bf_umh *umh,
			  const struct umh_state_hdr hdrs[2], const bool got[2])
{
	const struct umh_table *tabs[2] = { umh->t4, umh->t6 };
	int k;

	for (k = 0; k < 2; k++) {
		if (!tabs[k])
			continue;
		if (!got[k] || !tabs[k]->adopted ||
		    memcmp(hdrs[k].prog_ids, hdrs[0].prog_ids,
			   sizeof(hdrs[0].prog_ids)))
			return false;
	}
	return got[0] && umh_attached_match(umh, &hdrs[0]);
}

static int umh_reload(struct bf_umh *umh)
{
	struct umh_table *tabs[2] = { umh->t4, umh->t6 };
	struct bf_err err = {};
	int k, r = 0;

	for (k = 0; k < 2 && !r; k++)
		if (tabs[k])
			r = umh_table_load(umh, tabs[k], &err);
	if (!r)
		r = umh_install(umh, NULL, &err);
	if (r)
		umh_refuse(umh, "putting the saved tables in force", r, &err);
	bf_err_clear(&err);
	return r;
}

static int umh_restore_initial(struct bf_umh *umh)
{
	int r;

	r = umh_initial_table(umh, AF_INET, &umh->t4);
	if (r)
		return r;
	if (umh_initial_table(umh, AF_INET6, &umh->t6))
		bf_err("IPv6: no initial table: ip6tables requests are refused");
	return umh_reload(umh);
}

int umh_state_restore(struct bf_umh *umh)
{
	struct umh_state_hdr hdrs[2] = {};
	bool got[2] = { false, false };
	int r, k;

	r = umh_restore_tables(umh, hdrs, got);
	if (r)
		return r;
	/* the previous XDP daemon had the conntrack observer at tc egress: so do we */
	if (got[0] && umh->hook == BF_HOOK_XDP && hdrs[0].hook == BF_HOOK_XDP &&
	    hdrs[0].prog_ids[BF_HOOK_TC_EGRESS])
		umh->xdp_observe = true;
	if (umh_can_adopt(umh, hdrs, got) && !umh_adopt(umh, &hdrs[0])) {
		bf_info("adopted the attached programs and their counters (IPv4 %u entries%s)",
			umh->t4->ir->n_entries, umh->t6 ? ", IPv6 too" : "");
		bf_umh_sync_ifaces(umh);
		return 0;
	}
	r = umh_reload(umh);
	if (r) {
		/* Saved rules that no longer load: start as ip_tables does. */
		bf_warn("the saved tables cannot be put in force again: starting with the initial tables");
		umh_table_free(umh->t4);
		umh_table_free(umh->t6);
		umh->t4 = umh->t6 = NULL;
		got[0] = got[1] = false;
		r = umh_restore_initial(umh);
		if (r)
			return r;
	}
	for (k = 0; k < 2; k++) {
		if (got[k] && hdrs[k].hook != (uint32_t)umh->hook) {
			umh_detach_other_hook(umh, &hdrs[k]);
			break;
		}
	}
	if (got[0] || got[1])
		bf_info("reloaded the saved tables (%s%s%s)", got[0] ? "IPv4" : "",
			got[0] && got[1] ? ", " : "", got[1] ? "IPv6" : "");
	r = umh_state_save(umh);
	if (r)
		bf_warn("cannot save the table state in %s: %s", umh->state_dir,
			strerror(-r));
	return 0;
}
