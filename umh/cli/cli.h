/* SPDX-License-Identifier: GPL-2.0 */
/* The `bpfilter` command-line tool: subcommands and what they share. */
#ifndef BF_CLI_H
#define BF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../umh.h"

/* Exit codes of every subcommand. */
#define BF_EXIT_OK	0
#define BF_EXIT_FAIL	1
#define BF_EXIT_USAGE	2

#define BF_CLI_PRELOAD_NAME	"libbpfilter-preload.so"
#define BF_CLI_UMH_NAME		"bpfilter-umh"
#define BF_CLI_RESTORE_NAME	"iptables-legacy-restore"
#define BF_CLI_RESTORE6_NAME	"ip6tables-legacy-restore"

int bf_cli_daemon(int argc, char **argv);
int bf_cli_exec(int argc, char **argv);
int bf_cli_translate(int argc, char **argv);
int bf_cli_test(int argc, char **argv);

/* paths.c */
/* "<dir of /proc/self/exe>/name" if that file exists: 0, else -ENOENT. */
int bf_cli_sibling(const char *name, char *buf, size_t len);
/* The preload library: next to this binary, else BPFILTER_LIBDIR. */
int bf_cli_preload_path(char *buf, size_t len);
/* Prepend lib to LD_PRELOAD in this process's environment. */
int bf_cli_set_preload(const char *lib);
/* "xdp" / "tc" -> BF_HOOK_XDP / BF_HOOK_TC_INGRESS; -EINVAL otherwise. */
int bf_cli_parse_hook(const char *s, enum bf_hook *hook);
const char *bf_cli_hook_name(enum bf_hook hook);

/*
 * restore.c: run iptables-legacy-restore (AF_INET) or
 * ip6tables-legacy-restore (AF_INET6) against an in-process helper.
 */
struct bf_cli_restore {
	struct bf_umh *umh;
	int family;
	int wstatus;		/* iptables-legacy-restore's wait status */
	char *output;		/* its stdout + stderr, NUL-terminated */
	unsigned int n_replaced;	/* SET_REPLACE requests of `family` that succeeded */
	unsigned int n_refused;		/* requests answered with an error */
};

/* 0 when the helper ran (look at wstatus), a negative errno otherwise. */
int bf_cli_restore_run(const char *file, int family,
		       const struct bf_umh_opts *opts, struct bf_cli_restore *r);
/* The restore program of a family. */
const char *bf_cli_restore_name(int family);
/* Print why the run failed and return true, or return false if it did not. */
bool bf_cli_restore_failed(const struct bf_cli_restore *r, const char *file);
void bf_cli_restore_fini(struct bf_cli_restore *r);

/* veth.c: interfaces `bpfilter test` creates for the run. */
/* Create a veth pair named name (peer bft<pid>_<n>); *ifindex its index. */
int bf_cli_veth_add(const char *name, int *ifindex);
/* Delete every pair created; also runs from the signal handlers. */
void bf_cli_veth_cleanup(void);

/* run.c: one frame through BPF_PROG_TEST_RUN. */
extern bool bf_cli_verbose;	/* test -v: print each return code on stderr */
/* 1 = ACCEPT, 0 = DROP, negative errno on failure (message printed). */
int bf_cli_run_frame(int prog_fd, enum bf_hook hook, const void *frame,
		     size_t len);
/* The same with skb->mark = mark for tc programs (-m mark). */
int bf_cli_run_frame_mark(int prog_fd, enum bf_hook hook, const void *frame,
			  size_t len, uint32_t mark);
int bf_cli_set_test_ifs(int map_fd, uint32_t iif, uint32_t oif);

#endif /* BF_CLI_H */
