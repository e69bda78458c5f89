/* SPDX-License-Identifier: GPL-2.0 */
/* Private to the helper core: the files of umh/ except main.c. */
#ifndef BPFILTER_UMH_INTERNAL_H
#define BPFILTER_UMH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "umh.h"

#define UMH_NR_HOOKS	3	/* enum bf_hook: XDP, TC_INGRESS, TC_EGRESS */

/*
 * One table in force: the "filter" table of one family (AF_INET or
 * AF_INET6). `repl` is the ipt_replace header (ip6t_replace has the same
 * header layout) followed by the entries as normalised by
 * bf_xt4_translate() / bf_xt6_translate(); its num_counters and counters
 * pointer are zeroed.
 *
 * prog_fds: TEST mode loads each family's own programs. ATTACH mode loads
 * none per family: what runs on the devices is one program per hook
 * carrying both families (bf_umh.att_fds, see attach.c).
 */
struct umh_table {
	int family;
	struct ipt_replace *repl;
	size_t repl_len;
	struct xt_counters *base;	/* ir->n_entries: what SET_ADD_COUNTERS added */
	struct bf_ir *ir;
	struct bf_prog *progs[UMH_NR_HOOKS];	/* NULL where not generated */
	int prog_fds[UMH_NR_HOOKS];		/* -1 where not loaded */
	struct bf_maps maps;		/* fds -1 when no maps (TRANSLATE) */
	bool adopted;			/* programs taken over from a previous daemon */
};

struct bf_umh {
	enum bf_umh_mode mode;
	enum bf_hook hook;
	int force_hook;
	int *ifindexes;
	unsigned int n_ifindexes;
	char *state_dir;
	uint64_t netns;			/* the netns we run in (nsfs inode) */
	uint64_t check_netns;		/* requests must come from it; 0 = no check */
	struct umh_table *t4;
	struct umh_table *t6;		/* NULL if IPv6 could not be set up */
	int att_fds[UMH_NR_HOOKS];	/* ATTACH: the two-family program per hook, -1 */
	/*
	 * XDP: also attach the tables' tc egress observers (conntrack's ICMP
	 * query tracker, opts.observe). Set once a table with conntrack is
	 * installed, then kept (the observer passes all without one).
	 */
	bool xdp_observe;
	char last_error[1024];
	/* bf_umh_new_per_netns(): t4, netns (the key) and ifindexes above are
	 * the namespace being served; the others wait in `nss`. */
	bool per_netns;
	char **ifnames;
	unsigned int n_ifnames;
	struct umh_ns *nss;
	unsigned int n_nss;
	struct umh_ns *cur_ns;		/* in nss, swapped out while its netns is served */
	int self_nsfd;			/* the helper's own netns, -1 if not per_netns */
	struct logd *logd;		/* -j LOG consumer (logd.c), NULL until used */
};

/* A network namespace's table while another namespace is served. */
struct umh_ns {
	uint64_t key;			/* net cookie */
	uint64_t ino;			/* nsfs inode, to see whether it still exists */
	struct umh_table *t4;
	struct umh_table *t6;
	int att_fds[UMH_NR_HOOKS];
	int *ifindexes;
	unsigned int n_ifindexes;
};

/* table.c */
struct umh_table *umh_table_alloc(int family);
void umh_table_free(struct umh_table *t);
/*
 * Translate (and, unless TRANSLATE mode, create maps, sync and load) the
 * table in `repl` (taken over: freed with the table, also on failure).
 * With `cur` (SET_REPLACE), also what __do_replace checks: valid_hooks and
 * num_counters against the table in force.
 */
int umh_table_build(struct bf_umh *umh, int family,
		    struct ipt_replace *repl, size_t len,
		    const struct umh_table *cur, struct umh_table **tp,
		    struct bf_err *err);
/* umh_table_build() without maps and loading (num_counters still checked). */
int umh_table_translate(struct bf_umh *umh, int family,
			struct ipt_replace *repl, size_t len, const struct umh_table *cur,
			struct umh_table **tp, struct bf_err *err);
/*
 * Create the maps (unless the table has them: adopted) and fill the
 * interface map; TEST mode also loads the family's programs.
 */
int umh_table_load(struct bf_umh *umh, struct umh_table *t,
		   struct bf_err *err);
/* &umh->t4 or &umh->t6 (NULL for another family). */
struct umh_table **umh_tablep(struct bf_umh *umh, int family);
/* Offsets inside one entry of the family's blob. */
size_t umh_entry_size(int family);
size_t umh_entry_next_off(int family);
size_t umh_entry_counters_off(int family);
/* base + BPF counters, ir->n_entries of them, malloc'ed. */
int umh_table_counters(const struct umh_table *t, struct xt_counters **outp);
/* Hooks whose programs this helper generates, in order; returns how many. */
int umh_hooks(const struct bf_umh *umh, enum bf_hook hooks[UMH_NR_HOOKS]);
/* Remember and log a refusal. */
void umh_refuse(struct bf_umh *umh, const char *what, int ret,
		const struct bf_err *err);

/* attach.c */
/*
 * ATTACH mode: put `t` in force as the table of its family. One program
 * per hook carries both families (a prologue picks the family's code by
 * ethertype); it is rebuilt from t and the other family's table in force,
 * loaded and swapped in on every device, rolling back on failure. The
 * other family's maps (its counters) are shared, not touched. On success
 * the old programs are closed and umh->att_fds holds the new ones; the
 * caller swaps the table pointer. t NULL: the tables in force as they are.
 */
int umh_install(struct bf_umh *umh, struct umh_table *t, struct bf_err *err);
/* Attach umh->att_fds on every device (new devices); rolls back on failure. */
int umh_attach_all(struct bf_umh *umh, const int *old_fds, struct bf_err *err);
void umh_att_close(int fds[UMH_NR_HOOKS]);

/* umh.c */
/* The table of the netns in umh->netns: restored from its state, else initial. */
int umh_ns_init(struct bf_umh *umh);

/* netns.c */
/*
 * Per-netns mode: enter the caller's netns and swap its table in (*entered
 * true), or leave everything as is for the helper's own netns (false).
 * Returns 0 or a negative errno (-ESRCH: the caller is gone or is not in
 * req->netns any more); nothing is changed on failure.
 */
int umh_ns_enter(struct bf_umh *umh, const struct bpfilter_req *req,
		 bool *entered);
void umh_ns_leave(struct bf_umh *umh);
int umh_ns_setup(struct bf_umh *umh, const char *const *ifnames,
		 unsigned int n);
void umh_ns_free(struct bf_umh *umh);

/* sockopt.c */
/* An ip_tables (AF_INET) or ip6_tables (AF_INET6) request. */
int umh_sockopt(struct bf_umh *umh, const struct bpfilter_req *req,
		const void *payload, struct bpfilter_reply *reply,
		void **payload_out);

/* logd.c */
void umh_log_free(struct bf_umh *umh);

/* persist.c */
/* Save both families' tables (<family>-filter-<netns>.state). */
int umh_state_save(struct bf_umh *umh);
/*
 * The saved tables of umh->netns, in force again: each family's table is
 * restored with its base counters and, where they still exist, its maps
 * (so its BPF counters go on counting); if every device still runs the
 * recorded programs and both families got their maps back, those programs
 * are adopted as they are, else a new program is built and attached.
 * Families without a usable state get their initial table. 0 or a
 * negative errno.
 */
int umh_state_restore(struct bf_umh *umh);
/* Delete the state files of the netns `key` (its namespace is gone). */
void umh_state_remove(const struct bf_umh *umh, uint64_t key);
/* The initial table of `family` (not attached). */
int umh_initial_table(struct bf_umh *umh, int family, struct umh_table **tp);

#endif /* BPFILTER_UMH_INTERNAL_H */
