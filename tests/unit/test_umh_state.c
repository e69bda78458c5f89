// SPDX-License-Identifier: GPL-2.0
/*
 * The helper core with bpf(): TEST mode loads without attaching, and the
 * state file of ATTACH mode survives a restart (no devices: nothing is
 * attached, so a restart reloads the saved table with its base counters).
 * Needs root (bpf()); without it the tests pass without checking anything
 * and say so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "../../umh/umh.h"
#include "unit.h"

static bool t_no_bpf(void)
{
	if (geteuid() == 0)
		return false;
	printf("# SKIP umh_state: needs root for bpf()\n");
	return true;
}

static int t_call_family(struct bf_umh *u, uint32_t family, uint32_t cmd,
			 uint32_t optname, const void *buf, uint32_t optlen,
			 void **out)
{
	struct bpfilter_reply reply;
	struct bpfilter_req req;
	void *payload = NULL;

	bf_msg_req_init(&req, cmd, family, optname, optlen);
	ck_assert_int_eq(bf_umh_handle(u, &req, buf, &reply, &payload), 0);
	if (out)
		*out = payload;
	else
		free(payload);
	return reply.status;
}

static int t_call(struct bf_umh *u, uint32_t cmd, uint32_t optname,
		  const void *buf, uint32_t optlen, void **out)
{
	return t_call_family(u, AF_INET, cmd, optname, buf, optlen, out);
}

/* Packets of IPv6 entry 0 (the INPUT policy of the initial table). */
static uint64_t t_v6_pcnt0(struct bf_umh *u)
{
	struct ip6t_getinfo in = { .name = "filter" }, info;
	struct ip6t_get_entries *ge, *res;
	void *out = NULL;
	uint64_t pcnt;

	ck_assert_int_eq(t_call_family(u, AF_INET6, BPFILTER_CMD_GET, IP6T_SO_GET_INFO,
				       &in, sizeof(in), &out), 0);
	memcpy(&info, out, sizeof(info));
	free(out);
	ge = calloc(1, sizeof(*ge) + info.size);
	strcpy(ge->name, "filter");
	ge->size = info.size;
	ck_assert_int_eq(t_call_family(u, AF_INET6, BPFILTER_CMD_GET, IP6T_SO_GET_ENTRIES,
				       ge, sizeof(*ge) + info.size, &out), 0);
	res = out;
	pcnt = ((struct ip6t_entry *)res->entrytable)->counters.pcnt;
	free(ge);
	free(out);
	return pcnt;
}

static struct ipt_getinfo t_info(struct bf_umh *u)
{
	struct ipt_getinfo in = { .name = "filter" }, res;
	void *out;

	ck_assert_int_eq(t_call(u, BPFILTER_CMD_GET, IPT_SO_GET_INFO, &in, sizeof(in), &out), 0);
	memcpy(&res, out, sizeof(res));
	free(out);
	return res;
}

/* Counters of entry `idx` as GET_ENTRIES reports them. */
static struct xt_counters t_counters(struct bf_umh *u, unsigned int idx)
{
	struct ipt_getinfo info = t_info(u);
	struct ipt_get_entries *in, *res;
	struct xt_counters c;
	struct ipt_entry *e;
	uint32_t off = 0;
	void *out;

	in = calloc(1, sizeof(*in) + info.size);
	strcpy(in->name, "filter");
	in->size = info.size;
	ck_assert_int_eq(t_call(u, BPFILTER_CMD_GET, IPT_SO_GET_ENTRIES, in,
				sizeof(*in) + info.size, &out), 0);
	res = out;
	for (;;) {
		ck_assert_uint_lt(off, info.size);
		e = (struct ipt_entry *)((char *)res->entrytable + off);
		if (!idx--)
			break;
		off += e->next_offset;
	}
	c = e->counters;
	free(in);
	free(out);
	return c;
}

START_TEST(test_test_mode_loads)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TEST,
		.hook = BF_HOOK_TC_INGRESS,
		.force_hook = NF_INET_LOCAL_OUT,
	};
	const struct bf_maps *maps;
	struct bf_umh *u;

	if (t_no_bpf())
		return;
	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	ck_assert_int_ge(bf_umh_prog_fd(u, AF_INET, BF_HOOK_TC_EGRESS), 0);
	ck_assert_int_eq(bf_umh_prog_fd(u, AF_INET, BF_HOOK_TC_INGRESS), -1);
	maps = bf_umh_maps(u, AF_INET);
	ck_assert_ptr_nonnull(maps);
	ck_assert_int_ge(maps->fd[BF_MAP_COUNTERS], 0);
	ck_assert_int_ge(maps->fd[BF_MAP_TEST], 0);
	ck_assert_uint_eq(t_info(u).num_entries, 4);
	bf_umh_free(u);
}
END_TEST

static void t_rm_state(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/ipv4-filter-%llu.state", dir,
		 (unsigned long long)bf_umh_netns_of(0));
	unlink(path);
	snprintf(path, sizeof(path), "%s/ipv6-filter-%llu.state", dir,
		 (unsigned long long)bf_umh_netns_of(0));
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}

START_TEST(test_state_survives_restart)
{
	char dir[] = "/tmp/bf-umh-state.XXXXXX", sub[64];
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_ATTACH,
		.hook = BF_HOOK_XDP,
		.force_hook = -1,
	};
	struct {
		struct xt_counters_info info;
		struct xt_counters c[4];
	} add = { .info = { .name = "filter", .num_counters = 4 } };
	struct xt_counters c;
	struct stat st;
	struct bf_umh *u;

	if (t_no_bpf())
		return;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* a state directory that does not exist yet is created 0700 */
	snprintf(sub, sizeof(sub), "%s/state", dir);
	opts.state_dir = sub;
	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	add.c[1].pcnt = 7;
	add.c[1].bcnt = 700;
	ck_assert_int_eq(t_call(u, BPFILTER_CMD_SET, IPT_SO_SET_ADD_COUNTERS, &add,
				sizeof(add), NULL), 0);
	/* the IPv6 table's own counters, in its own file */
	add.c[1].pcnt = 0;
	add.c[0].pcnt = 9;
	ck_assert_int_eq(t_call_family(u, AF_INET6, BPFILTER_CMD_SET,
				       IP6T_SO_SET_ADD_COUNTERS, &add, sizeof(add),
				       NULL), 0);
	bf_umh_free(u);

	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	c = t_counters(u, 1);
	ck_assert(c.pcnt == 7 && c.bcnt == 700);
	ck_assert_uint_eq(t_counters(u, 0).pcnt, 0);
	ck_assert_uint_eq(t_v6_pcnt0(u), 9);
	ck_assert_uint_eq(t_info(u).num_entries, 4);
	bf_umh_free(u);

	/* A damaged state file is ignored: the initial table, no counters. */
	{
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "%s/ipv4-filter-%llu.state", sub,
			 (unsigned long long)bf_umh_netns_of(0));
		f = fopen(path, "r+");
		ck_assert_ptr_nonnull(f);
		fputs("garbage", f);
		fclose(f);
	}
	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	c = t_counters(u, 1);
	ck_assert(c.pcnt == 0 && c.bcnt == 0);
	bf_umh_free(u);
	t_rm_state(sub);
	rmdir(dir);
}
END_TEST

static Suite *umh_state_suite(void)
{
	Suite *s = suite_create("umh_state");
	TCase *tc = tcase_create("bpf");

	tcase_add_test(tc, test_test_mode_loads);
	tcase_add_test(tc, test_state_survives_restart);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(umh_state_suite);
