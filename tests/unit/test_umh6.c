// SPDX-License-Identifier: GPL-2.0
/*
 * The helper core's ip6_tables sockopts (TRANSLATE mode, no bpf()): the
 * IPv6 table lives beside the IPv4 one, answers with ip6_tables' errnos,
 * and replacing either leaves the other alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "../../umh/umh.h"
#include "unit.h"

#define T6_STD_SIZE	(sizeof(struct ip6t_entry) + sizeof(struct xt_standard_target))
#define T6_ERR_SIZE	(sizeof(struct ip6t_entry) + sizeof(struct xt_error_target))

static struct bf_umh *umh;

static void t_setup(void)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TRANSLATE,
		.hook = BF_HOOK_XDP,
		.force_hook = -1,
	};

	ck_assert_int_eq(bf_umh_new(&opts, &umh), 0);
}

static void t_teardown(void)
{
	bf_umh_free(umh);
	umh = NULL;
}

static int t_call(uint32_t cmd, uint32_t family, uint32_t optname,
		  const void *buf, uint32_t optlen, void **out)
{
	struct bpfilter_reply reply;
	struct bpfilter_req req;
	void *payload = NULL;

	bf_msg_req_init(&req, cmd, family, optname, optlen);
	req.pid = 1;
	req.seq = 66;
	ck_assert_int_eq(bf_umh_handle(umh, &req, buf, &reply, &payload), 0);
	ck_assert(reply.seq == 66);
	if (reply.status)
		ck_assert_uint_eq(reply.payload_len, 0);
	if (out)
		*out = payload;
	else
		free(payload);
	return reply.status;
}

static int t_get6(uint32_t optname, const void *buf, uint32_t optlen, void **out)
{
	return t_call(BPFILTER_CMD_GET, AF_INET6, optname, buf, optlen, out);
}

static int t_set6(uint32_t optname, const void *buf, uint32_t optlen, void **out)
{
	return t_call(BPFILTER_CMD_SET, AF_INET6, optname, buf, optlen, out);
}

static int t_info(int family, struct ip6t_getinfo *info)
{
	struct ip6t_getinfo in = { .name = "filter" };
	void *out = NULL;
	int r;

	r = t_call(BPFILTER_CMD_GET, family, IP6T_SO_GET_INFO, &in, sizeof(in),
		   &out);
	if (!r)
		memcpy(info, out, sizeof(*info));
	free(out);
	return r;
}

static size_t t6_std(void *p, int verdict, uint8_t proto)
{
	struct xt_standard_target *t;
	struct ip6t_entry *e = p;

	memset(e, 0, T6_STD_SIZE);
	if (proto) {
		e->ipv6.proto = proto;
		e->ipv6.flags = IP6T_F_PROTO;
	}
	e->target_offset = sizeof(*e);
	e->next_offset = T6_STD_SIZE;
	t = (struct xt_standard_target *)e->elems;
	t->target.u.user.target_size = sizeof(*t);
	t->verdict = verdict;
	return T6_STD_SIZE;
}

static size_t t6_err(void *p, const char *name)
{
	struct xt_error_target *t;
	struct ip6t_entry *e = p;

	memset(e, 0, T6_ERR_SIZE);
	e->target_offset = sizeof(*e);
	e->next_offset = T6_ERR_SIZE;
	t = (struct xt_error_target *)e->elems;
	t->target.u.user.target_size = sizeof(*t);
	strcpy(t->target.u.user.name, XT_ERROR_TARGET);
	strcpy(t->errorname, name);
	return T6_ERR_SIZE;
}

/* IPv6 filter with "-A INPUT -p tcp -j DROP": 5 entries. */
static struct ip6t_replace *t6_table(uint32_t num_counters, size_t *lenp)
{
	size_t size = 4 * T6_STD_SIZE + T6_ERR_SIZE, off = 0;
	struct ip6t_replace *r;
	char *p;

	r = calloc(1, sizeof(*r) + size);
	ck_assert_ptr_nonnull(r);
	strcpy(r->name, "filter");
	r->valid_hooks = 0x0e;
	r->num_entries = 5;
	r->size = size;
	r->num_counters = num_counters;
	p = (char *)r->entries;
	r->hook_entry[NF_INET_LOCAL_IN] = off;
	off += t6_std(p + off, -NF_DROP - 1, 6);
	r->underflow[NF_INET_LOCAL_IN] = off;
	off += t6_std(p + off, -NF_ACCEPT - 1, 0);
	r->hook_entry[NF_INET_FORWARD] = r->underflow[NF_INET_FORWARD] = off;
	off += t6_std(p + off, -NF_ACCEPT - 1, 0);
	r->hook_entry[NF_INET_LOCAL_OUT] = r->underflow[NF_INET_LOCAL_OUT] = off;
	off += t6_std(p + off, -NF_ACCEPT - 1, 0);
	off += t6_err(p + off, "ERROR");
	ck_assert_uint_eq(off, size);
	*lenp = sizeof(*r) + size;
	return r;
}

/* Counters of entry idx as IPv6 GET_ENTRIES reports them. */
static struct xt_counters t6_counters(unsigned int idx)
{
	struct ip6t_getinfo info;
	struct ip6t_get_entries *in, *res;
	const struct ip6t_entry *e;
	struct xt_counters c;
	uint32_t off = 0;
	void *out = NULL;

	ck_assert_int_eq(t_info(AF_INET6, &info), 0);
	in = calloc(1, sizeof(*in) + info.size);
	strcpy(in->name, "filter");
	in->size = info.size;
	ck_assert_int_eq(t_get6(IP6T_SO_GET_ENTRIES, in, sizeof(*in) + info.size,
				&out), 0);
	res = out;
	for (;;) {
		ck_assert_uint_lt(off, info.size);
		e = (const struct ip6t_entry *)((const char *)res->entrytable + off);
		if (!idx--)
			break;
		off += e->next_offset;
	}
	c = e->counters;
	free(in);
	free(out);
	return c;
}

START_TEST(test_v6_initial)
{
	struct ip6t_getinfo info, info4;

	ck_assert_int_eq(t_info(AF_INET6, &info), 0);
	ck_assert_uint_eq(info.valid_hooks, 0x0e);
	ck_assert_uint_eq(info.num_entries, 4);
	/* 3 x (168 + 40) + (168 + 64) */
	ck_assert_uint_eq(info.size, 856);
	ck_assert_str_eq(info.name, "filter");
	ck_assert_ptr_nonnull(bf_umh_ir(umh, AF_INET6));
	ck_assert_int_eq(bf_umh_ir(umh, AF_INET6)->family, AF_INET6);
	ck_assert_ptr_nonnull(bf_umh_prog(umh, AF_INET6, BF_HOOK_XDP));
	/* the IPv4 table is another one */
	ck_assert_int_eq(t_info(AF_INET, &info4), 0);
	ck_assert_uint_eq(info4.size, 632);
}
END_TEST

/* Checked against the kernel's ip6_tables in a scratch netns (6.18). */
START_TEST(test_v6_get_errors)
{
	char buf[BPFILTER_GET_IN_MAX] = "filter", nat[BPFILTER_GET_IN_MAX] = "nat";
	struct ip6t_get_entries ge = { .name = "filter", .size = 1 };
	struct xt_get_revision rev = { .name = "tcp" };

	ck_assert_int_eq(t_get6(IP6T_SO_GET_INFO, buf, 80, NULL), -EINVAL);
	ck_assert_int_eq(t_get6(IP6T_SO_GET_INFO, nat, 84, NULL), -ENOENT);
	ck_assert_int_eq(t_get6(IP6T_SO_GET_ENTRIES, &ge, sizeof(ge), NULL), -EINVAL);
	ge.size = 0;
	ck_assert_int_eq(t_get6(IP6T_SO_GET_ENTRIES, &ge, sizeof(ge), NULL), -EAGAIN);
	/* the IPv6 revision probes are 68 and 69 */
	ck_assert_int_eq(t_get6(IP6T_SO_GET_REVISION_MATCH, &rev, sizeof(rev), NULL), 0);
	ck_assert_int_eq(t_get6(IP6T_SO_GET_REVISION_MATCH, &rev, 29, NULL), -EINVAL);
	strcpy(rev.name, "nosuchmatch");
	ck_assert_int_lt(t_get6(IP6T_SO_GET_REVISION_MATCH, &rev, sizeof(rev), NULL), 0);
	strcpy(rev.name, "DROP");
	ck_assert_int_ne(t_get6(IP6T_SO_GET_REVISION_TARGET, &rev, sizeof(rev), NULL),
			 -ENOPROTOOPT);
	/* 66/67 are IPV6_RECVTCLASS/TCLASS: never ip6_tables' */
	ck_assert_int_eq(t_get6(66, buf, 84, NULL), -EINVAL);
	ck_assert_int_eq(t_get6(IP6T_SO_GET_MAX + 1, buf, 84, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_get6(IP6T_BASE_CTL - 1, buf, 84, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_set6(IP6T_SO_SET_MAX + 1, buf, 84, NULL), -ENOPROTOOPT);
}
END_TEST

START_TEST(test_v6_replace)
{
	struct {
		struct xt_counters_info info;
		struct xt_counters c[5];
	} add = { .info = { .name = "filter", .num_counters = 5 } };
	struct ip6t_getinfo info, info4;
	struct ip6t_replace *r;
	struct xt_counters c, *old;
	void *out = NULL;
	size_t len;

	/* stale num_counters: EAGAIN, nothing changes */
	r = t6_table(3, &len);
	ck_assert_int_eq(t_set6(IP6T_SO_SET_REPLACE, r, len, NULL), -EAGAIN);
	free(r);
	ck_assert_int_eq(t_info(AF_INET6, &info), 0);
	ck_assert_uint_eq(info.num_entries, 4);
	/* a good one: the 4 old counters come back */
	r = t6_table(4, &len);
	ck_assert_int_eq(t_set6(IP6T_SO_SET_REPLACE, r, len, &out), 0);
	ck_assert_ptr_nonnull(out);
	old = out;
	ck_assert(old[0].pcnt == 0 && old[3].bcnt == 0);
	free(out);
	free(r);
	ck_assert_int_eq(t_info(AF_INET6, &info), 0);
	ck_assert_uint_eq(info.num_entries, 5);
	ck_assert_uint_eq(info.size, 4 * T6_STD_SIZE + T6_ERR_SIZE);
	/* the IPv4 table did not move */
	ck_assert_int_eq(t_info(AF_INET, &info4), 0);
	ck_assert_uint_eq(info4.num_entries, 4);
	ck_assert_uint_eq(info4.size, 632);
	/* SET_ADD_COUNTERS on the IPv6 table */
	add.c[0].pcnt = 3;
	add.c[0].bcnt = 300;
	ck_assert_int_eq(t_set6(IP6T_SO_SET_ADD_COUNTERS, &add, sizeof(add), NULL), 0);
	c = t6_counters(0);
	ck_assert(c.pcnt == 3 && c.bcnt == 300);
	add.info.num_counters = 4;
	ck_assert_int_eq(t_set6(IP6T_SO_SET_ADD_COUNTERS, &add,
				sizeof(add.info) + 4 * sizeof(add.c[0]), NULL), -EINVAL);
	strcpy(add.info.name, "nat");
	add.info.num_counters = 5;
	ck_assert_int_eq(t_set6(IP6T_SO_SET_ADD_COUNTERS, &add, sizeof(add), NULL), -ENOENT);
	/* replacing again hands back what was added */
	r = t6_table(5, &len);
	ck_assert_int_eq(t_set6(IP6T_SO_SET_REPLACE, r, len, &out), 0);
	old = out;
	ck_assert(old[0].pcnt == 3 && old[0].bcnt == 300);
	free(out);
	free(r);
}
END_TEST

/* A refused IPv6 table leaves both tables as they were. */
START_TEST(test_v6_rollback)
{
	struct ip6t_getinfo info;
	struct ip6t_replace *r;
	size_t len;

	r = t6_table(4, &len);
	/* a jump past the end of the table */
	((struct xt_standard_target *)((struct ip6t_entry *)r->entries)->elems)->verdict = 4096;
	ck_assert_int_lt(t_set6(IP6T_SO_SET_REPLACE, r, len, NULL), 0);
	ck_assert_str_ne(bf_umh_last_error(umh), "");
	free(r);
	r = t6_table(4, &len);
	strcpy(r->name, "nat");
	ck_assert_int_eq(t_set6(IP6T_SO_SET_REPLACE, r, len, NULL), -ENOENT);
	free(r);
	ck_assert_int_eq(t_info(AF_INET6, &info), 0);
	ck_assert_uint_eq(info.num_entries, 4);
	ck_assert_uint_eq(info.size, 856);
	ck_assert_int_eq(t_info(AF_INET, (struct ip6t_getinfo *)&info), 0);
	ck_assert_uint_eq(info.size, 632);
}
END_TEST

static Suite *umh6_suite(void)
{
	Suite *s = suite_create("umh6");
	TCase *tc = tcase_create("sockopt6");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_v6_initial);
	tcase_add_test(tc, test_v6_get_errors);
	tcase_add_test(tc, test_v6_replace);
	tcase_add_test(tc, test_v6_rollback);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(umh6_suite);
