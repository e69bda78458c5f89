/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the xt front-end tests: fixtures under tests/unit/blobs/. */
#ifndef BF_TEST_XT_UTIL_H
#define BF_TEST_XT_UTIL_H

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

/*
 * Can this process use the kernel's ip_tables as an oracle: a scratch
 * network namespace (root, CAP_SYS_ADMIN) with a filter table? If not,
 * the differential tests are skipped with a TAP note.
 */
static inline bool xtu_kernel_oracle(const char *suite)
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
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0 || getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &sl))
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return true;
	printf("# SKIP %s: no scratch netns with ip_tables (needs root)\n", suite);
	return false;
}

#endif /* BF_TEST_XT_UTIL_H */
