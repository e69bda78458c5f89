// SPDX-License-Identifier: GPL-2.0
/*
 * bf_umh_new_per_netns() (--stdio under bpfilter.ko) in TRANSLATE mode:
 * one table per net cookie, requests checked against the caller's netns.
 * The tests that enter other namespaces need root; they are skipped (and
 * say so) without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#include "../../umh/umh.h"
#include "unit.h"

static struct bf_umh *umh;

static void t_setup(void)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TRANSLATE,
		.hook = BF_HOOK_XDP,
		.force_hook = -1,
	};
	static const char *const names[] = { "bft-nonexistent0" };

	ck_assert_int_eq(bf_umh_new_per_netns(&opts, names, 1, &umh), 0);
}

static void t_teardown(void)
{
	bf_umh_free(umh);
	umh = NULL;
}

static int t_call(uint32_t cmd, uint32_t optname, const void *buf,
		  uint32_t optlen, uint32_t pid, uint64_t netns, void **out)
{
	struct bpfilter_reply reply;
	struct bpfilter_req req;
	void *payload = NULL;

	bf_msg_req_init(&req, cmd, AF_INET, optname, optlen);
	req.pid = pid;
	req.netns = netns;
	req.seq = 7;
	ck_assert_int_eq(bf_umh_handle(umh, &req, buf, &reply, &payload), 0);
	ck_assert(reply.seq == 7);
	if (out)
		*out = payload;
	else
		free(payload);
	return reply.status;
}

static int t_getinfo(uint32_t pid, uint64_t netns, struct ipt_getinfo *info)
{
	struct ipt_getinfo in = {};
	void *out = NULL;
	int r;

	strcpy(in.name, "filter");
	r = t_call(BPFILTER_CMD_GET, IPT_SO_GET_INFO, &in, sizeof(in), pid,
		   netns, &out);
	if (!r)
		memcpy(info, out, sizeof(*info));
	free(out);
	return r;
}

/* The verdict of the INPUT policy in the table served for (pid, netns). */
static int t_input_policy(uint32_t pid, uint64_t netns)
{
	const struct xt_standard_target *st;
	const struct ipt_entry *e;
	struct ipt_get_entries *in;
	struct ipt_getinfo info;
	void *out = NULL;
	int verdict;

	ck_assert_int_eq(t_getinfo(pid, netns, &info), 0);
	in = calloc(1, sizeof(*in) + info.size);
	ck_assert_ptr_nonnull(in);
	strcpy(in->name, "filter");
	in->size = info.size;
	ck_assert_int_eq(t_call(BPFILTER_CMD_GET, IPT_SO_GET_ENTRIES, in,
				sizeof(*in) + info.size, pid, netns, &out), 0);
	e = (const void *)((const char *)out + sizeof(*in) +
			   info.hook_entry[NF_INET_LOCAL_IN]);
	st = (const void *)((const char *)e + e->target_offset);
	verdict = st->verdict;
	free(out);
	free(in);
	return verdict;
}

/* SET_REPLACE of the initial table with INPUT's policy DROP. */
static int t_input_drop(uint32_t pid, uint64_t netns)
{
	struct xt_standard_target *st;
	struct ipt_replace *repl;
	struct ipt_entry *e;
	size_t len;
	void *out = NULL;
	int r;

	ck_assert_int_eq(bf_xt4_initial_filter(&repl, &len), 0);
	e = (void *)((char *)repl->entries + repl->hook_entry[NF_INET_LOCAL_IN]);
	st = (void *)((char *)e + e->target_offset);
	st->verdict = -NF_DROP - 1;
	repl->num_counters = repl->num_entries;
	repl->counters = NULL;
	r = t_call(BPFILTER_CMD_SET, IPT_SO_SET_REPLACE, repl, len, pid, netns,
		   &out);
	free(out);
	free(repl);
	return r;
}

/* A child in a new netns: its pid, and the netns cookie in *cookie. */
static pid_t t_child_netns(uint64_t *cookie)
{
	char path[64], c;
	int p[2], self, fd;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		close(p[0]);
		c = unshare(CLONE_NEWNET) ? 'n' : 'y';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	ck_assert_int_eq(c, 'y');
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(self, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setns(fd, CLONE_NEWNET), 0);
	*cookie = bf_umh_net_cookie();
	ck_assert_int_eq(setns(self, CLONE_NEWNET), 0);
	close(fd);
	close(self);
	ck_assert(*cookie != 0);
	return pid;
}

static void t_child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool t_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "# test_umh_netns: not root, the other-netns cases are skipped\n");
	return false;
}

START_TEST(test_own_netns)
{
	struct ipt_getinfo info;
	uint64_t self = bf_umh_net_cookie();

	ck_assert(self != 0);
	ck_assert_int_eq(t_getinfo(getpid(), self, &info), 0);
	ck_assert_uint_eq(info.num_entries, 4);
	/* netns 0 (unknown): the helper's own table */
	ck_assert_int_eq(t_getinfo(getpid(), 0, &info), 0);
	ck_assert_int_eq(t_input_drop(getpid(), self), 0);
	ck_assert_int_eq(t_input_policy(1, 0), -NF_DROP - 1);
}
END_TEST

START_TEST(test_caller_gone)
{
	struct ipt_getinfo info;
	uint64_t self = bf_umh_net_cookie();

	/* no such pid: ESRCH, and the own table is untouched */
	ck_assert_int_eq(t_input_drop(0x7ffffff0, self + 1000), -ESRCH);
	ck_assert_int_eq(t_input_policy(1, self), -NF_ACCEPT - 1);
	ck_assert_int_eq(t_getinfo(0, self + 1000, &info), -ESRCH);
	if (!t_root())
		return;
	/* a pid whose netns is not the one named */
	ck_assert_int_eq(t_input_drop(getpid(), self + 1000), -ESRCH);
	ck_assert_int_eq(t_input_policy(1, self), -NF_ACCEPT - 1);
}
END_TEST

START_TEST(test_tables_per_netns)
{
	uint64_t self = bf_umh_net_cookie(), a, b, c;
	pid_t pa, pb, pc;

	if (!t_root())
		return;
	pa = t_child_netns(&a);
	pb = t_child_netns(&b);
	ck_assert(a != self && b != self && a != b);
	/* A's new table: initial, then its own change */
	ck_assert_int_eq(t_input_policy(pa, a), -NF_ACCEPT - 1);
	ck_assert_int_eq(t_input_drop(pa, a), 0);
	ck_assert_int_eq(t_input_policy(pa, a), -NF_DROP - 1);
	/* neither the helper's own nor B's table changed */
	ck_assert_int_eq(t_input_policy(getpid(), self), -NF_ACCEPT - 1);
	ck_assert_int_eq(t_input_policy(pb, b), -NF_ACCEPT - 1);
	/* A's pid with B's cookie: refused */
	ck_assert_int_eq(t_input_drop(pa, b), -ESRCH);
	ck_assert_int_eq(t_input_policy(pb, b), -NF_ACCEPT - 1);
	/* B dies; a new netns appears: A keeps its table */
	t_child_end(pb);
	pc = t_child_netns(&c);
	ck_assert_int_eq(t_input_policy(pc, c), -NF_ACCEPT - 1);
	ck_assert_int_eq(t_input_policy(pa, a), -NF_DROP - 1);
	/* and the helper is back in its own netns after all that */
	ck_assert(bf_umh_net_cookie() == self);
	t_child_end(pc);
	t_child_end(pa);
}
END_TEST

static bool t_state_exists(const char *dir, const char *family, uint64_t key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s-filter-%llu.state", dir, family,
		 (unsigned long long)key);
	return !access(path, F_OK);
}

/*
 * ATTACH mode with a state directory (bpf(): root): a namespace's state
 * files (both families) go when its table is dropped because the
 * namespace is gone; the others' stay.
 */
START_TEST(test_dead_netns_state_removed)
{
	char dir[] = "/tmp/bf-umh-ns.XXXXXX", cmd[64];
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_ATTACH,
		.hook = BF_HOOK_XDP,
		.force_hook = -1,
		.state_dir = dir,
	};
	uint64_t self = bf_umh_net_cookie(), a, c;
	pid_t pa, pc;

	if (!t_root())
		return;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	bf_umh_free(umh);
	ck_assert_int_eq(bf_umh_new_per_netns(&opts, NULL, 0, &umh), 0);
	ck_assert(t_state_exists(dir, "ipv4", self));
	ck_assert(t_state_exists(dir, "ipv6", self));
	pa = t_child_netns(&a);
	ck_assert_int_eq(t_input_drop(pa, a), 0);
	ck_assert(t_state_exists(dir, "ipv4", a));
	ck_assert(t_state_exists(dir, "ipv6", a));
	/* A dies; the next new namespace makes the helper look */
	t_child_end(pa);
	pc = t_child_netns(&c);
	ck_assert_int_eq(t_input_policy(pc, c), -NF_ACCEPT - 1);
	ck_assert(!t_state_exists(dir, "ipv4", a));
	ck_assert(!t_state_exists(dir, "ipv6", a));
	ck_assert(t_state_exists(dir, "ipv4", c));
	ck_assert(t_state_exists(dir, "ipv6", self));
	t_child_end(pc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *umh_netns_suite(void)
{
	Suite *s = suite_create("umh_netns");
	TCase *tc = tcase_create("per_netns");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_own_netns);
	tcase_add_test(tc, test_caller_gone);
	tcase_add_test(tc, test_tables_per_netns);
	tcase_add_test(tc, test_dead_netns_state_removed);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(umh_netns_suite);
