/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the xt front-end tests: fixtures under tests/unit/blobs/. */
#ifndef BF_TEST_XT_UTIL_H
#define BF_TEST_XT_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bpfilter/codegen.h"

/* blobs/<name>.bin (tests run from tests/unit), malloc'ed, 8-aligned. */
static inline struct ipt_replace *xtu_load(const char *name, size_t *lenp)
{
	struct ipt_replace *repl;
	char path[256];
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "blobs/%s.bin", name);
	f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s (run from tests/unit)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_int_ge(n, (long)sizeof(*repl));
	repl = malloc(n);
	ck_assert_ptr_nonnull(repl);
	ck_assert_int_eq(fread(repl, 1, n, f), n);
	fclose(f);
	*lenp = n;
	return repl;
}

/* Byte offset of entry `idx` in repl's entries. */
static inline uint32_t xtu_entry_off(const struct ipt_replace *repl, uint32_t idx)
{
	uint32_t off = 0;

	while (idx--)
		off += ((const struct ipt_entry *)((const char *)repl->entries + off))->next_offset;
	return off;
}

static inline struct ipt_entry *xtu_entry(struct ipt_replace *repl, uint32_t idx)
{
	return (struct ipt_entry *)((char *)repl->entries + xtu_entry_off(repl, idx));
}

/* The same for an IPv6 blob (ip6t_replace has ipt_replace's layout). */
static inline struct ip6t_replace *xtu6_load(const char *name, size_t *lenp)
{
	return (struct ip6t_replace *)xtu_load(name, lenp);
}

static inline uint32_t xtu6_entry_off(const struct ip6t_replace *repl, uint32_t idx)
{
	uint32_t off = 0;

	while (idx--)
		off += ((const struct ip6t_entry *)((const char *)repl->entries + off))->next_offset;
	return off;
}

static inline struct ip6t_entry *xtu6_entry(struct ip6t_replace *repl, uint32_t idx)
{
	return (struct ip6t_entry *)((char *)repl->entries + xtu6_entry_off(repl, idx));
}

/* The socket level of a family's x_tables options (same numbers for both). */
static inline int xtu_level(int af)
{
	return af == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
}

/*
 * Can this process use the kernel's ip_tables (ip6_tables for AF_INET6)
 * as an oracle: a scratch network namespace (root, CAP_SYS_ADMIN) with a
 * filter table? If not, the differential tests are skipped with a TAP
 * note.
 */
static inline bool xtu_kernel_oracle_af(const char *suite, int af)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct ipt_getinfo info = { .name = "filter" };
		socklen_t sl = sizeof(info);
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(1);
		fd = socket(af, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0 || getsockopt(fd, xtu_level(af), IPT_SO_GET_INFO, &info, &sl))
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return true;
	printf("# SKIP %s: no scratch netns with %s (needs root)\n", suite,
	       af == AF_INET6 ? "ip6_tables" : "ip_tables");
	return false;
}

static inline bool xtu_kernel_oracle(const char *suite)
{
	return xtu_kernel_oracle_af(suite, AF_INET);
}

/*
 * The kernel's SET_REPLACE for a blob of family af, in a scratch network
 * namespace: 0 or -errno. The blob's counters pointer is set here.
 */
static inline int xtu_kernel_replace(int af, struct ipt_replace *r, size_t len)
{
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct xt_counters cnt[64];
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(250);
		fd = socket(af, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0)
			_exit(251);
		if (len >= sizeof(*r))
			r->counters = cnt;
		/* IP6T_SO_SET_REPLACE == IPT_SO_SET_REPLACE */
		if (setsockopt(fd, xtu_level(af), IPT_SO_SET_REPLACE, r, len) < 0)
			_exit(errno);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) < 250, "scratch netns setup failed (%d)",
		      WEXITSTATUS(status));
	return -WEXITSTATUS(status);
}

/* ---- the fixture checks both families run (test_xt*_fixtures.c) ------- */

static inline int xtu_translate(int af, struct ipt_replace *r, size_t len,
				struct bf_ir **irp, struct bf_err *err)
{
	if (af == AF_INET6)
		return bf_xt6_translate((struct ip6t_replace *)r, len, irp, err);
	return bf_xt4_translate(r, len, irp, err);
}

static inline int xtu_from_ir(int af, const struct bf_ir *ir, void **blob,
			      uint32_t *size, uint32_t *n, uint32_t *he, uint32_t *uf)
{
	if (af == AF_INET6)
		return bf_xt6_from_ir(ir, blob, size, n, he, uf);
	return bf_xt4_from_ir(ir, blob, size, n, he, uf);
}

/* Load blobs/<name>.bin and translate it, which must succeed. */
static inline struct bf_ir *xtu_translate_fixture(int af, const char *name,
						  struct ipt_replace **replp,
						  size_t *lenp)
{
	struct bf_err err = { 0 };
	struct bf_ir *ir = NULL;
	int ret;

	*replp = xtu_load(name, lenp);
	ret = xtu_translate(af, *replp, *lenp, &ir, &err);
	ck_assert_msg(ret == 0, "%s: %d %s", name, ret, err.msg);
	ck_assert_int_eq(ir->family, af);
	return ir;
}

/* Translation normalises in place: a kernel-made blob stays as it was. */
static inline void xtu_check_normalise_identity(int af, const char *name)
{
	struct ipt_replace *repl, *orig;
	struct bf_ir *ir;
	size_t len, olen;

	orig = xtu_load(name, &olen);
	ir = xtu_translate_fixture(af, name, &repl, &len);
	ck_assert_int_eq(len, olen);
	/* Kernel-written comefrom == ours; counters were already zero. */
	ck_assert_msg(!memcmp(repl, orig, len), "%s: normalised blob differs", name);
	ck_assert_uint_eq(ir->n_entries, repl->num_entries);
	bf_ir_free(ir);
	free(repl);
	free(orig);
}

/* blob -> IR -> blob is byte for byte the kernel's blob. */
static inline void xtu_check_round_trip(int af, const char *name)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ipt_replace *repl;
	struct bf_ir *ir;
	void *blob;
	size_t len;

	ir = xtu_translate_fixture(af, name, &repl, &len);
	ck_assert_int_eq(xtu_from_ir(af, ir, &blob, &size, &n, he, uf), 0);
	ck_assert_uint_eq(size, repl->size);
	ck_assert_uint_eq(n, repl->num_entries);
	ck_assert(!memcmp(he, repl->hook_entry, sizeof(he)));
	ck_assert(!memcmp(uf, repl->underflow, sizeof(uf)));
	ck_assert_msg(!memcmp(blob, repl->entries, size), "%s: blob differs", name);
	free(blob);
	bf_ir_free(ir);
	free(repl);
}

/* IR -> blob -> IR -> blob is stable too (twice through both ways). */
static inline void xtu_check_round_trip_twice(int af, const char *name)
{
	uint32_t size, n, he[BF_NR_HOOKS], uf[BF_NR_HOOKS];
	struct ipt_replace *repl, *again;
	struct bf_err err = { 0 };
	struct bf_ir *ir, *ir2;
	void *blob;
	size_t len;

	ir = xtu_translate_fixture(af, name, &repl, &len);
	ck_assert_int_eq(xtu_from_ir(af, ir, &blob, &size, &n, he, uf), 0);
	again = calloc(1, sizeof(*again) + size);
	memcpy(again, repl, sizeof(*again));
	memcpy(again->entries, blob, size);
	ck_assert_int_eq(xtu_translate(af, again, sizeof(*again) + size, &ir2, &err), 0);
	ck_assert_uint_eq(ir2->n_chains, ir->n_chains);
	ck_assert_uint_eq(ir2->n_ifpats, ir->n_ifpats);
	ck_assert(!memcmp(again->entries, repl->entries, size));
	bf_ir_free(ir2);
	free(again);
	free(blob);
	bf_ir_free(ir);
	free(repl);
}

/* fixture, chain, rule (1-based), expected IR text */
struct xtu_golden {
	const char *fixture;
	const char *chain;
	uint32_t rule;
	const char *text;
};

static inline void xtu_check_golden(int af, const struct xtu_golden *g)
{
	const struct bf_chain *ch = NULL;
	struct ipt_replace *repl;
	struct bf_ir *ir;
	char line[512];
	size_t len;
	uint32_t c;
	int n;

	ir = xtu_translate_fixture(af, g->fixture, &repl, &len);
	for (c = 0; c < ir->n_chains; c++)
		if (!strcmp(ir->chains[c].name, g->chain))
			ch = &ir->chains[c];
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_ge(ch->n_rules, g->rule);
	n = bf_ir_rule_str(ir, ch, &ch->rules[g->rule - 1], line, sizeof(line));
	ck_assert_str_eq(line, g->text);
	ck_assert_int_eq(n, (int)strlen(g->text));
	bf_ir_free(ir);
	free(repl);
}

#endif /* BF_TEST_XT_UTIL_H */
