// SPDX-License-Identifier: GPL-2.0
/*
 * Table state: build a table of either family from a SET_REPLACE blob
 * (translate, generate, maps, and in TEST mode load), read its counters.
 * Putting it in force on the devices is attach.c's.
 *
 * A table under construction owns everything it created; building or
 * attaching it can fail at any step and then only the new table is freed:
 * the table in force and its programs are never touched before the new
 * one is attached everywhere.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpfilter/log.h"
#include "internal.h"

static void umh_maps_reset(struct bf_maps *maps)
{
	int i;

	for (i = 0; i < BF_MAP_NR; i++)
		maps->fd[i] = -1;
	maps->n_counters = 0;
}

static bool umh_maps_present(const struct bf_maps *maps)
{
	return maps->fd[BF_MAP_COUNTERS] >= 0;
}

struct umh_table **umh_tablep(struct bf_umh *umh, int family)
{
	if (family == AF_INET)
		return &umh->t4;
	if (family == AF_INET6)
		return &umh->t6;
	return NULL;
}

size_t umh_entry_size(int family)
{
	return family == AF_INET6 ? sizeof(struct ip6t_entry) :
				    sizeof(struct ipt_entry);
}

size_t umh_entry_next_off(int family)
{
	return family == AF_INET6 ? offsetof(struct ip6t_entry, next_offset) :
				    offsetof(struct ipt_entry, next_offset);
}

size_t umh_entry_counters_off(int family)
{
	return family == AF_INET6 ? offsetof(struct ip6t_entry, counters) :
				    offsetof(struct ipt_entry, counters);
}

struct umh_table *umh_table_alloc(int family)
{
	struct umh_table *t;
	int i;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->family = family;
	for (i = 0; i < UMH_NR_HOOKS; i++)
		t->prog_fds[i] = -1;
	umh_maps_reset(&t->maps);
	return t;
}

void umh_table_free(struct umh_table *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < UMH_NR_HOOKS; i++) {
		if (t->prog_fds[i] >= 0)
			close(t->prog_fds[i]);
		bf_prog_free(t->progs[i]);
	}
	bf_maps_close(&t->maps);
	bf_ir_free(t->ir);
	free(t->base);
	free(t->repl);
	free(t);
}

int umh_hooks(const struct bf_umh *umh, enum bf_hook hooks[UMH_NR_HOOKS])
{
	if (umh->hook == BF_HOOK_XDP) {
		hooks[0] = BF_HOOK_XDP;
		if (!umh->xdp_observe)
			return 1;
		/* conntrack's ICMP query tracker sees the host's own queries there */
		hooks[1] = BF_HOOK_TC_EGRESS;
		return 2;
	}
	/* A forced chain runs in one program: OUTPUT at egress, else ingress. */
	if (umh->force_hook >= 0) {
		hooks[0] = umh->force_hook == NF_INET_LOCAL_OUT ?
			   BF_HOOK_TC_EGRESS : BF_HOOK_TC_INGRESS;
		return 1;
	}
	hooks[0] = BF_HOOK_TC_INGRESS;
	hooks[1] = BF_HOOK_TC_EGRESS;
	return 2;
}

void umh_refuse(struct bf_umh *umh, const char *what, int ret,
		const struct bf_err *err)
{
	const char *msg = err && err->msg[0] ? err->msg : strerror(-ret);
	const char *log, *end;
	int lines = 0;

	snprintf(umh->last_error, sizeof(umh->last_error), "%s", msg);
	bf_err("%s refused (%s): %s", what, strerror(-ret), msg);
	if (!err || !err->verifier_log || !err->verifier_log[0])
		return;
	/* The tail of the verifier log says why; bound what goes to the log. */
	log = err->verifier_log + strlen(err->verifier_log);
	while (log > err->verifier_log && lines < 40) {
		log--;
		if (*log == '\n')
			lines++;
	}
	bf_err("verifier log%s:", log > err->verifier_log ? " (last lines)" : "");
	while (*log) {
		end = strchr(log, '\n');
		if (!end)
			end = log + strlen(log);
		if (end > log)
			bf_err("  %.*s", (int)(end - log), log);
		log = *end ? end + 1 : end;
	}
}

/* What __do_replace() checks after translate_table(). */
static int umh_table_check_replace(const struct ipt_replace *repl,
				   const struct umh_table *cur,
				   struct bf_err *err)
{
	if (strncmp(repl->name, "filter", sizeof(repl->name)))
		return bf_err_set(err, -ENOENT, "table '%.*s' does not exist (bpfilter serves 'filter')",
				  (int)sizeof(repl->name) - 1, repl->name);
	if (!cur)
		return 0;
	if (repl->valid_hooks != cur->repl->valid_hooks)
		return bf_err_set(err, -EINVAL, "valid_hooks 0x%x differ from the table's 0x%x",
				  repl->valid_hooks, cur->repl->valid_hooks);
	if (repl->num_counters != cur->ir->n_entries)
		return bf_err_set(err, -EAGAIN, "num_counters %u but the table in force has %u entries (it changed meanwhile)",
				  repl->num_counters, cur->ir->n_entries);
	return 0;
}

static int umh_table_gen(struct bf_umh *umh, struct umh_table *t,
			 struct bf_err *err)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	int i, n, r;

	n = umh_hooks(umh, hooks);
	/* at XDP the tc egress observer is made for every table: umh_install decides */
	if (umh->hook == BF_HOOK_XDP && umh->mode == BF_UMH_ATTACH) {
		hooks[0] = BF_HOOK_XDP;
		hooks[1] = BF_HOOK_TC_EGRESS;
		n = 2;
	}
	for (i = 0; i < n; i++) {
		struct bf_gen_opts opts = {
			.sz = sizeof(opts),
			.hook = hooks[i],
			.force_hook = umh->mode == BF_UMH_ATTACH ? -1 : umh->force_hook,
			.observe = umh->hook == BF_HOOK_XDP &&
				   hooks[i] == BF_HOOK_TC_EGRESS,
		};

		r = bf_gen(t->ir, &opts, &t->progs[hooks[i]], err);
		if (r)
			return r;
	}
	return 0;
}

int umh_table_load(struct bf_umh *umh, struct umh_table *t,
		   struct bf_err *err)
{
	int i, fd, r;

	if (!umh_maps_present(&t->maps)) {
		r = bf_maps_create(t->ir, &t->maps, err);
		if (r) {
			umh_maps_reset(&t->maps);
			return r;
		}
	}
	r = bf_maps_sync_ifaces(t->ir, &t->maps);
	if (r)
		return bf_err_set(err, r, "cannot fill the interface map: %s",
				  strerror(-r));
	r = bf_maps_sync_addrs(t->ir, &t->maps);
	if (r)
		return bf_err_set(err, r, "cannot fill the address type map: %s",
				  strerror(-r));
	/* ATTACH mode loads one program for both families (attach.c). */
	if (umh->mode != BF_UMH_TEST)
		return 0;
	for (i = 0; i < UMH_NR_HOOKS; i++) {
		if (!t->progs[i])
			continue;
		fd = bf_prog_load(t->progs[i], &t->maps, err);
		if (fd < 0)
			return fd;
		t->prog_fds[i] = fd;
	}
	return 0;
}

int umh_table_translate(struct bf_umh *umh, int family,
			struct ipt_replace *repl, size_t len,
			const struct umh_table *cur, struct umh_table **tp,
			struct bf_err *err)
{
	struct umh_table *t;
	int r;

	t = umh_table_alloc(family);
	if (!t) {
		free(repl);
		return -ENOMEM;
	}
	t->repl = repl;
	t->repl_len = len;
	if (family == AF_INET6)
		r = bf_xt6_translate((struct ip6t_replace *)repl, len, &t->ir,
				     err);
	else
		r = bf_xt4_translate(repl, len, &t->ir, err);
	if (r)
		goto err_free;
	r = umh_table_check_replace(repl, cur, err);
	if (r)
		goto err_free;
	r = -ENOMEM;
	t->base = calloc(t->ir->n_entries ? t->ir->n_entries : 1,
			 sizeof(*t->base));
	if (!t->base)
		goto err_free;
	r = umh_table_gen(umh, t, err);
	if (r)
		goto err_free;
	repl->num_counters = 0;
	repl->counters = NULL;
	*tp = t;
	return 0;

err_free:
	umh_table_free(t);
	return r;
}

int umh_table_build(struct bf_umh *umh, int family,
		    struct ipt_replace *repl, size_t len,
		    const struct umh_table *cur, struct umh_table **tp,
		    struct bf_err *err)
{
	struct umh_table *t;
	int r;

	r = umh_table_translate(umh, family, repl, len, cur, &t, err);
	if (r)
		return r;
	if (umh->mode != BF_UMH_TRANSLATE) {
		r = umh_table_load(umh, t, err);
		if (r) {
			umh_table_free(t);
			return r;
		}
	}
	*tp = t;
	return 0;
}

int umh_table_counters(const struct umh_table *t, struct xt_counters **outp)
{
	uint32_t i, n = t->ir->n_entries;
	struct xt_counters *out, *bpf = NULL;
	int r;

	out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	memcpy(out, t->base, n * sizeof(*out));
	if (umh_maps_present(&t->maps) && t->maps.n_counters) {
		bpf = calloc(t->maps.n_counters, sizeof(*bpf));
		if (!bpf) {
			free(out);
			return -ENOMEM;
		}
		r = bf_maps_read_counters(&t->maps, bpf);
		if (r) {
			bf_warn("cannot read the BPF counters: %s", strerror(-r));
		} else {
			for (i = 0; i < n && i < t->maps.n_counters; i++) {
				out[i].pcnt += bpf[i].pcnt;
				out[i].bcnt += bpf[i].bcnt;
			}
		}
		free(bpf);
	}
	*outp = out;
	return 0;
}

int bf_umh_set_ifaces(struct bf_umh *umh, const int *ifindexes, unsigned int n)
{
	struct bf_err err = {};
	unsigned int old_n = umh->n_ifindexes;
	int *old = umh->ifindexes, *copy = NULL;
	int r = 0;

	if (n && !ifindexes)
		return -EINVAL;
	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, ifindexes, n * sizeof(*copy));
	}
	umh->ifindexes = copy;
	umh->n_ifindexes = n;
	/* Attaching again where the programs already are is a no-op swap. */
	if (umh->mode == BF_UMH_ATTACH && n) {
		r = umh_attach_all(umh, umh->att_fds, &err);
		if (r)
			umh_refuse(umh, "attaching on the new devices", r, &err);
	}
	bf_err_clear(&err);
	if (r) {
		free(copy);
		umh->ifindexes = old;
		umh->n_ifindexes = old_n;
		return r;
	}
	free(old);
	if (umh->mode == BF_UMH_ATTACH && umh->state_dir)
		umh_state_save(umh);
	return 0;
}
