// SPDX-License-Identifier: GPL-2.0
/*
 * The helper core in TRANSLATE mode (no bpf()): the ip_tables sockopt
 * semantics through bf_umh_handle(), errno for errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#include "../../umh/umh.h"
#include "unit.h"

#define T_STD_SIZE	(sizeof(struct ipt_entry) + sizeof(struct xt_standard_target))
#define T_ERR_SIZE	(sizeof(struct ipt_entry) + sizeof(struct xt_error_target))

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

/* One request; returns reply.status. *out (may be NULL) gets the payload. */
static int t_call(uint32_t cmd, uint32_t family, uint32_t optname,
		  const void *buf, uint32_t optlen, struct bpfilter_reply *rep,
		  void **out)
{
	struct bpfilter_reply reply;
	struct bpfilter_req req;
	void *payload = NULL;

	bf_msg_req_init(&req, cmd, family, optname, optlen);
	req.pid = 1;
	req.seq = 0x1234567890ULL;
	ck_assert_int_eq(bf_umh_handle(umh, &req, buf, &reply, &payload), 0);
	ck_assert_uint_eq(reply.magic, BPFILTER_REPLY_MAGIC);
	ck_assert_uint_eq(reply.version, BPFILTER_VERSION);
	ck_assert_uint_eq(reply.hdr_size, sizeof(reply));
	ck_assert(reply.seq == req.seq);
	ck_assert(reply.status <= 0);
	ck_assert(!!payload == !!reply.payload_len);
	if (reply.status)
		ck_assert_uint_eq(reply.payload_len, 0);
	if (rep)
		*rep = reply;
	if (out)
		*out = payload;
	else
		free(payload);
	return reply.status;
}

static int t_get(uint32_t optname, const void *buf, uint32_t optlen,
		 struct bpfilter_reply *rep, void **out)
{
	return t_call(BPFILTER_CMD_GET, AF_INET, optname, buf, optlen, rep, out);
}

static int t_set(uint32_t optname, const void *buf, uint32_t optlen,
		 struct bpfilter_reply *rep, void **out)
{
	return t_call(BPFILTER_CMD_SET, AF_INET, optname, buf, optlen, rep, out);
}

static int t_getinfo(const char *name, struct ipt_getinfo *info)
{
	struct bpfilter_reply rep;
	struct ipt_getinfo in = {};
	void *out = NULL;
	int r;

	snprintf(in.name, sizeof(in.name), "%s", name);
	r = t_get(IPT_SO_GET_INFO, &in, sizeof(in), &rep, &out);
	if (!r) {
		ck_assert_uint_eq(rep.optlen, sizeof(*info));
		ck_assert_uint_eq(rep.payload_len, sizeof(*info));
		memcpy(info, out, sizeof(*info));
	}
	free(out);
	return r;
}

/* GET_ENTRIES with a correct optlen for `size`; *out: header + entries. */
static int t_getentries(uint32_t size, struct ipt_get_entries **out)
{
	struct bpfilter_reply rep;
	struct ipt_get_entries *in;
	void *res = NULL;
	int r;

	in = calloc(1, sizeof(*in) + size);
	ck_assert_ptr_nonnull(in);
	strcpy(in->name, "filter");
	in->size = size;
	r = t_get(IPT_SO_GET_ENTRIES, in, sizeof(*in) + size, &rep, &res);
	if (!r) {
		ck_assert_uint_eq(rep.optlen, sizeof(*in) + size);
		ck_assert_uint_eq(rep.payload_len, sizeof(*in) + size);
		ck_assert_int_eq(memcmp(res, in, sizeof(*in)), 0);
	}
	free(in);
	if (out)
		*out = res;
	else
		free(res);
	return r;
}

/* Counters of entry `idx` in a GET_ENTRIES answer. */
static struct xt_counters t_entry_counters(const struct ipt_get_entries *g,
					   unsigned int idx)
{
	const struct ipt_entry *e;
	uint32_t off = 0;

	for (;;) {
		ck_assert_uint_lt(off, g->size);
		e = (const struct ipt_entry *)((const char *)g->entrytable + off);
		if (!idx--)
			return e->counters;
		ck_assert_uint_ge(e->next_offset, sizeof(*e));
		off += e->next_offset;
	}
}

static size_t t_std_entry(void *p, int verdict, uint8_t proto)
{
	struct xt_standard_target *t;
	struct ipt_entry *e = p;

	memset(e, 0, T_STD_SIZE);
	e->ip.proto = proto;
	e->target_offset = sizeof(*e);
	e->next_offset = T_STD_SIZE;
	t = (struct xt_standard_target *)e->elems;
	t->target.u.user.target_size = sizeof(*t);
	t->verdict = verdict;
	return T_STD_SIZE;
}

static size_t t_err_entry(void *p, const char *name)
{
	struct xt_error_target *t;
	struct ipt_entry *e = p;

	memset(e, 0, T_ERR_SIZE);
	e->target_offset = sizeof(*e);
	e->next_offset = T_ERR_SIZE;
	t = (struct xt_error_target *)e->elems;
	t->target.u.user.target_size = sizeof(*t);
	strcpy(t->target.u.user.name, XT_ERROR_TARGET);
	strcpy(t->errorname, name);
	return T_ERR_SIZE;
}

/*
 * filter with "-A INPUT -p tcp -j DROP": 5 entries, 784 bytes.
 * *lenp = the whole SET_REPLACE buffer.
 */
static struct ipt_replace *t_table_tcp_drop(uint32_t num_counters, size_t *lenp)
{
	struct ipt_replace *r;
	size_t size = 4 * T_STD_SIZE + T_ERR_SIZE, off = 0;
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
	off += t_std_entry(p + off, -NF_DROP - 1, 6);
	r->underflow[NF_INET_LOCAL_IN] = off;
	off += t_std_entry(p + off, -NF_ACCEPT - 1, 0);
	r->hook_entry[NF_INET_FORWARD] = r->underflow[NF_INET_FORWARD] = off;
	off += t_std_entry(p + off, -NF_ACCEPT - 1, 0);
	r->hook_entry[NF_INET_LOCAL_OUT] = r->underflow[NF_INET_LOCAL_OUT] = off;
	off += t_std_entry(p + off, -NF_ACCEPT - 1, 0);
	off += t_err_entry(p + off, "ERROR");
	ck_assert_uint_eq(off, size);
	*lenp = sizeof(*r) + size;
	return r;
}

static void t_assert_initial(void)
{
	struct ipt_getinfo info;

	ck_assert_int_eq(t_getinfo("filter", &info), 0);
	ck_assert_uint_eq(info.valid_hooks, 0x0e);
	ck_assert_uint_eq(info.num_entries, 4);
	ck_assert_uint_eq(info.size, 632);
	ck_assert_str_eq(info.name, "filter");
	ck_assert_uint_eq(info.hook_entry[NF_INET_LOCAL_IN], 0);
	ck_assert_uint_eq(info.underflow[NF_INET_LOCAL_IN], 0);
	ck_assert_uint_eq(info.hook_entry[NF_INET_FORWARD], 152);
	ck_assert_uint_eq(info.hook_entry[NF_INET_LOCAL_OUT], 304);
	ck_assert_uint_eq(info.underflow[NF_INET_LOCAL_OUT], 304);
}

START_TEST(test_getinfo_initial)
{
	t_assert_initial();
	ck_assert_ptr_nonnull(bf_umh_ir(umh, AF_INET));
	ck_assert_uint_eq(bf_umh_ir(umh, AF_INET)->n_entries, 4);
	ck_assert_ptr_nonnull(bf_umh_prog(umh, AF_INET, BF_HOOK_XDP));
	ck_assert_ptr_null(bf_umh_prog(umh, AF_INET, BF_HOOK_TC_EGRESS));
	ck_assert_int_eq(bf_umh_prog_fd(umh, AF_INET, BF_HOOK_XDP), -1);
	/* the IPv6 table is its own (test_umh6.c) */
	ck_assert_ptr_ne(bf_umh_ir(umh, AF_INET6), bf_umh_ir(umh, AF_INET));
	ck_assert_str_eq(bf_umh_last_error(umh), "");
}
END_TEST

START_TEST(test_getinfo_errors)
{
	struct ipt_getinfo info = {}, longname;
	char buf[BPFILTER_GET_IN_MAX] = "filter";

	ck_assert_int_eq(t_get(IPT_SO_GET_INFO, buf, sizeof(info) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_INFO, buf, sizeof(info) + 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_INFO, buf, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_getinfo("nat", &info), -ENOENT);
	ck_assert_int_eq(t_getinfo("", &info), -ENOENT);
	/* Byte 31 is forced to NUL: 31 characters of "filter..." do not match. */
	memset(&longname, 0, sizeof(longname));
	memset(longname.name, 'x', sizeof(longname.name));
	ck_assert_int_eq(t_get(IPT_SO_GET_INFO, &longname, sizeof(longname), NULL, NULL), -ENOENT);
	/* "filter" then garbage after the NUL is still "filter". */
	memset(&longname, 0xff, sizeof(longname));
	strcpy(longname.name, "filter");
	ck_assert_int_eq(t_get(IPT_SO_GET_INFO, &longname, sizeof(longname), NULL, NULL), 0);
}
END_TEST

START_TEST(test_getentries_initial)
{
	struct ipt_get_entries *g;
	struct xt_counters c;
	unsigned int i;

	ck_assert_int_eq(t_getentries(632, &g), 0);
	ck_assert_uint_eq(g->size, 632);
	for (i = 0; i < 4; i++) {
		c = t_entry_counters(g, i);
		ck_assert(c.pcnt == 0 && c.bcnt == 0);
	}
	free(g);
}
END_TEST

START_TEST(test_getentries_errors)
{
	struct ipt_get_entries *in;
	size_t len = sizeof(*in) + 632;

	in = calloc(1, len + 64);
	strcpy(in->name, "filter");
	in->size = 632;
	/* optlen < sizeof(struct ipt_get_entries) */
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, sizeof(*in) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, 0, NULL, NULL), -EINVAL);
	/* optlen != 40 + get.size */
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, len + 8, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, len - 8, NULL, NULL), -EINVAL);
	/* get.size wrapping the sum must not match */
	in->size = 0xffffffffu - 20;
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, 19, NULL, NULL), -EINVAL);
	/* wrong table name, checked before the size */
	strcpy(in->name, "mangle");
	in->size = 600;
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, sizeof(*in) + 600, NULL, NULL), -ENOENT);
	/* a consistent request for another size: the table changed */
	strcpy(in->name, "filter");
	ck_assert_int_eq(t_get(IPT_SO_GET_ENTRIES, in, sizeof(*in) + 600, NULL, NULL), -EAGAIN);
	ck_assert_int_eq(t_getentries(784, NULL), -EAGAIN);
	ck_assert_int_eq(t_getentries(0, NULL), -EAGAIN);
	free(in);
}
END_TEST

START_TEST(test_revisions)
{
	struct xt_get_revision rev = {};

	strcpy(rev.name, "tcp");
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev) + 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_TARGET, &rev, sizeof(rev) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev), NULL, NULL),
			 bf_xt4_match_revision("tcp", 0));
	ck_assert_int_eq(bf_xt4_match_revision("tcp", 0), 0);
	rev.revision = 200;
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev), NULL, NULL), -EPROTONOSUPPORT);
	strcpy(rev.name, "no_such_match");
	rev.revision = 0;
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev), NULL, NULL), -ENOENT);
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_TARGET, &rev, sizeof(rev), NULL, NULL), -ENOENT);
	/* 29 name bytes without a NUL: the 29th is cut, still not found. */
	memset(rev.name, 'a', sizeof(rev.name));
	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_TARGET, &rev, sizeof(rev), NULL, NULL), -ENOENT);
	/* The name is NUL-terminated at byte 28: "tcp" + NULs is fine. */
	memset(&rev, 0, sizeof(rev));
	strcpy(rev.name, "tcp");
	{
		struct bpfilter_reply rep;
		void *out = (void *)1;

		ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_MATCH, &rev, sizeof(rev), &rep, &out), 0);
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(rep.payload_len, 0);
	}
}
END_TEST

START_TEST(test_other_optnames)
{
	char buf[BPFILTER_GET_IN_MAX] = "filter";
	struct bpfilter_reply rep;

	ck_assert_int_eq(t_get(IPT_SO_GET_REVISION_TARGET + 1, buf, 84, NULL, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_get(IPT_BASE_CTL - 1, buf, 84, NULL, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_get(0, buf, 84, NULL, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS + 1, buf, 84, NULL, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_set(IPT_BASE_CTL - 1, buf, 84, NULL, NULL), -ENOPROTOOPT);
	ck_assert_int_eq(t_call(BPFILTER_CMD_PING, 0, 0, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(rep.payload_len, 0);
	ck_assert_int_eq(t_call(BPFILTER_CMD_GET, AF_UNIX, IPT_SO_GET_INFO, buf, 84, NULL, NULL), -EAFNOSUPPORT);
	ck_assert_int_eq(t_call(BPFILTER_CMD_SET, AF_UNIX, IPT_SO_SET_REPLACE, buf, 84, NULL, NULL), -EAFNOSUPPORT);
	ck_assert_int_eq(t_call(BPFILTER_CMD_GET, 0, IPT_SO_GET_INFO, buf, 84, NULL, NULL), -EAFNOSUPPORT);
	ck_assert_int_eq(t_call(77, AF_INET, IPT_SO_GET_INFO, buf, 84, NULL, NULL), -EPROTO);
}
END_TEST

START_TEST(test_bad_frames)
{
	struct bpfilter_req req = {
		.magic = BPFILTER_REQ_MAGIC,
		.version = BPFILTER_VERSION,
		.hdr_size = sizeof(req),
		.cmd = BPFILTER_CMD_PING,
		.seq = 7,
	};
	struct bpfilter_reply rep;
	struct bpfilter_req bad;
	char buf[BPFILTER_GET_IN_MAX] = "filter";
	void *out;

	bad = req;
	bad.magic = 0x12345678;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, NULL, &rep, &out), -EPROTO);
	ck_assert_int_eq(rep.status, -EPROTO);
	ck_assert(rep.seq == 7);
	ck_assert_ptr_null(out);
	bad = req;
	bad.version = BPFILTER_VERSION + 1;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, NULL, &rep, &out), -EPROTO);
	bad = req;
	bad.hdr_size = sizeof(req) - 8;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, NULL, &rep, &out), -EPROTO);
	bad = req;
	bad.payload_len = BPFILTER_PAYLOAD_MAX + 1;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, buf, &rep, &out), -EMSGSIZE);
	ck_assert_int_eq(rep.status, -EMSGSIZE);

	/* Payloads that disagree with optlen: a transport bug, -EPROTO. */
	bad = req;
	bad.cmd = BPFILTER_CMD_GET;
	bad.family = AF_INET;
	bad.optname = IPT_SO_GET_INFO;
	bad.optlen = 84;
	bad.payload_len = 40;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, buf, &rep, &out), 0);
	ck_assert_int_eq(rep.status, -EPROTO);
	bad.cmd = BPFILTER_CMD_SET;
	bad.optname = IPT_SO_SET_ADD_COUNTERS;
	bad.optlen = 56;
	bad.payload_len = 40;
	ck_assert_int_eq(bf_umh_handle(umh, &bad, buf, &rep, &out), 0);
	ck_assert_int_eq(rep.status, -EPROTO);
	t_assert_initial();
}
END_TEST

START_TEST(test_netns)
{
	struct ipt_getinfo in = {};
	struct bpfilter_reply rep;
	struct bpfilter_req req = {
		.magic = BPFILTER_REQ_MAGIC,
		.version = BPFILTER_VERSION,
		.hdr_size = sizeof(req),
		.cmd = BPFILTER_CMD_GET,
		.family = AF_INET,
		.optname = IPT_SO_GET_INFO,
		.optlen = sizeof(in),
		.payload_len = sizeof(in),
	};
	void *out;
	uint64_t own = bf_umh_netns_of(0);

	strcpy(in.name, "filter");
	ck_assert(own != 0);
	ck_assert(bf_umh_netns(umh) == own);
	req.netns = own;
	ck_assert_int_eq(bf_umh_handle(umh, &req, &in, &rep, &out), 0);
	ck_assert_int_eq(rep.status, 0);
	free(out);
	req.netns = own + 1;
	ck_assert_int_eq(bf_umh_handle(umh, &req, &in, &rep, &out), 0);
	ck_assert_int_eq(rep.status, -EXDEV);
	ck_assert_ptr_null(out);
	/* 0 disables the check (the kernel module's --stdio). */
	bf_umh_set_netns(umh, 0);
	ck_assert_int_eq(bf_umh_handle(umh, &req, &in, &rep, &out), 0);
	ck_assert_int_eq(rep.status, 0);
	free(out);
}
END_TEST

START_TEST(test_replace)
{
	struct ipt_replace *repl;
	struct ipt_getinfo info;
	struct bpfilter_reply rep;
	struct xt_counters *old;
	void *out = NULL;
	size_t len;

	repl = t_table_tcp_drop(4, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, &rep, &out), 0);
	ck_assert_uint_eq(rep.payload_len, 4 * sizeof(struct xt_counters));
	old = out;
	ck_assert(old[0].pcnt == 0 && old[3].bcnt == 0);
	free(out);
	ck_assert_int_eq(t_getinfo("filter", &info), 0);
	ck_assert_uint_eq(info.num_entries, 5);
	ck_assert_uint_eq(info.size, 784);
	ck_assert_uint_eq(info.hook_entry[NF_INET_FORWARD], 304);
	ck_assert_uint_eq(info.underflow[NF_INET_LOCAL_IN], 152);
	ck_assert_uint_eq(bf_umh_ir(umh, AF_INET)->n_entries, 5);
	ck_assert_int_eq(t_getentries(632, NULL), -EAGAIN);
	ck_assert_int_eq(t_getentries(784, NULL), 0);
	/* The old count is stale now. */
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -EAGAIN);
	repl->num_counters = 5;
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), 0);
	free(repl);
}
END_TEST

START_TEST(test_replace_stale_counters)
{
	struct ipt_replace *repl;
	size_t len;

	repl = t_table_tcp_drop(3, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -EAGAIN);
	repl->num_counters = 5;
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -EAGAIN);
	t_assert_initial();
	free(repl);
}
END_TEST

START_TEST(test_replace_errors)
{
	struct ipt_replace *repl;
	size_t len;

	repl = t_table_tcp_drop(4, &len);
	/* shorter than struct ipt_replace */
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, sizeof(*repl) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, 0, NULL, NULL), -EINVAL);
	/* entries shorter than repl->size */
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len - 8, NULL, NULL), -EINVAL);
	/* num_counters 0, and absurdly large */
	repl->num_counters = 0;
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -EINVAL);
	repl->num_counters = 0x7fffffff;
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -ENOMEM);
	repl->num_counters = 4;
	/* another table */
	strcpy(repl->name, "nat");
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -ENOENT);
	strcpy(repl->name, "filter");
	t_assert_initial();
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), 0);
	free(repl);
}
END_TEST

/* A refused table leaves GET_INFO and GET_ENTRIES exactly as they were. */
START_TEST(test_replace_refused_keeps_table)
{
	struct ipt_get_entries *before, *after;
	struct ipt_replace *repl;
	struct ipt_entry *e;
	struct xt_entry_target *t;
	struct ipt_getinfo info;
	size_t len;

	ck_assert_int_eq(t_getentries(632, &before), 0);
	repl = t_table_tcp_drop(4, &len);
	/* an unknown target on the first rule */
	e = (struct ipt_entry *)repl->entries;
	t = (struct xt_entry_target *)e->elems;
	strcpy(t->u.user.name, "NO_SUCH_TARGET");
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -ENOENT);
	ck_assert_str_ne(bf_umh_last_error(umh), "");
	/* a broken next_offset */
	strcpy(t->u.user.name, "");
	e->next_offset = 12;
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL), -EINVAL);
	/* a jump into the middle of an entry */
	e->next_offset = T_STD_SIZE;
	((struct xt_standard_target *)t)->verdict = 8;
	ck_assert(t_set(IPT_SO_SET_REPLACE, repl, len, NULL, NULL) < 0);
	t_assert_initial();
	ck_assert_int_eq(t_getinfo("filter", &info), 0);
	ck_assert_int_eq(t_getentries(632, &after), 0);
	ck_assert_int_eq(memcmp(before, after, sizeof(*before) + 632), 0);
	ck_assert_uint_eq(bf_umh_ir(umh, AF_INET)->n_entries, 4);
	free(before);
	free(after);
	free(repl);
}
END_TEST

static void *t_counters_info(const char *name, uint32_t n, uint32_t *lenp)
{
	struct xt_counters_info *ci;
	uint32_t i;

	ci = calloc(1, sizeof(*ci) + n * sizeof(struct xt_counters));
	ck_assert_ptr_nonnull(ci);
	snprintf(ci->name, sizeof(ci->name), "%s", name);
	ci->num_counters = n;
	for (i = 0; i < n; i++) {
		ci->counters[i].pcnt = i + 1;
		ci->counters[i].bcnt = 100 * (i + 1);
	}
	*lenp = sizeof(*ci) + n * sizeof(struct xt_counters);
	return ci;
}

START_TEST(test_add_counters_errors)
{
	struct xt_counters_info *ci;
	uint32_t len;

	ci = t_counters_info("filter", 4, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, sizeof(*ci) - 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len - 16, NULL, NULL), -EINVAL);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len - 1, NULL, NULL), -EINVAL);
	strcpy(ci->name, "raw");
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), -ENOENT);
	free(ci);
	/* a consistent request for 3 counters: the table has 4 */
	ci = t_counters_info("filter", 3, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), -EINVAL);
	free(ci);
	ci = t_counters_info("filter", 0, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), -EINVAL);
	free(ci);
	/* num_counters * 16 wrapping 32 bits must not pass the length check */
	ci = t_counters_info("filter", 4, &len);
	ci->num_counters = 0x10000004;
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), -EINVAL);
	free(ci);
}
END_TEST

START_TEST(test_add_counters_sums)
{
	struct xt_counters_info *ci;
	struct ipt_get_entries *g;
	struct ipt_replace *repl;
	struct bpfilter_reply rep;
	struct xt_counters c, *old;
	void *out = NULL;
	unsigned int i;
	uint32_t len;
	size_t rlen;

	ci = t_counters_info("filter", 4, &len);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), 0);
	ck_assert_int_eq(t_set(IPT_SO_SET_ADD_COUNTERS, ci, len, NULL, NULL), 0);
	ck_assert_int_eq(t_getentries(632, &g), 0);
	for (i = 0; i < 4; i++) {
		c = t_entry_counters(g, i);
		ck_assert(c.pcnt == 2 * (i + 1));
		ck_assert(c.bcnt == 200 * (i + 1));
	}
	free(g);
	free(ci);

	/* SET_REPLACE hands the old counters back; the new table starts at 0. */
	repl = t_table_tcp_drop(4, &rlen);
	ck_assert_int_eq(t_set(IPT_SO_SET_REPLACE, repl, rlen, &rep, &out), 0);
	ck_assert_uint_eq(rep.payload_len, 4 * sizeof(struct xt_counters));
	old = out;
	for (i = 0; i < 4; i++) {
		ck_assert(old[i].pcnt == 2 * (i + 1));
		ck_assert(old[i].bcnt == 200 * (i + 1));
	}
	free(out);
	ck_assert_int_eq(t_getentries(784, &g), 0);
	for (i = 0; i < 5; i++) {
		c = t_entry_counters(g, i);
		ck_assert(c.pcnt == 0 && c.bcnt == 0);
	}
	free(g);
	free(repl);
}
END_TEST

START_TEST(test_opts)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TRANSLATE,
		.hook = BF_HOOK_TC_EGRESS,
		.force_hook = -1,
	};
	struct bf_umh *u = NULL;

	ck_assert_int_eq(bf_umh_new(&opts, &u), -EINVAL);
	opts.hook = BF_HOOK_TC_INGRESS;
	opts.force_hook = 7;
	ck_assert_int_eq(bf_umh_new(&opts, &u), -EINVAL);
	opts.force_hook = -1;
	opts.sz = 4;
	ck_assert_int_eq(bf_umh_new(&opts, &u), -EINVAL);
	ck_assert_int_eq(bf_umh_new(NULL, &u), -EINVAL);
	opts.sz = sizeof(opts);
	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	/* tc: an ingress and an egress program */
	ck_assert_ptr_nonnull(bf_umh_prog(u, AF_INET, BF_HOOK_TC_INGRESS));
	ck_assert_ptr_nonnull(bf_umh_prog(u, AF_INET, BF_HOOK_TC_EGRESS));
	ck_assert_ptr_null(bf_umh_prog(u, AF_INET, BF_HOOK_XDP));
	bf_umh_free(u);
	/* a forced OUTPUT chain runs in the egress program only */
	opts.force_hook = NF_INET_LOCAL_OUT;
	ck_assert_int_eq(bf_umh_new(&opts, &u), 0);
	ck_assert_ptr_nonnull(bf_umh_prog(u, AF_INET, BF_HOOK_TC_EGRESS));
	ck_assert_ptr_null(bf_umh_prog(u, AF_INET, BF_HOOK_TC_INGRESS));
	bf_umh_free(u);
}
END_TEST

static Suite *umh_suite(void)
{
	Suite *s = suite_create("umh");
	TCase *tc = tcase_create("sockopt");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_getinfo_initial);
	tcase_add_test(tc, test_getinfo_errors);
	tcase_add_test(tc, test_getentries_initial);
	tcase_add_test(tc, test_getentries_errors);
	tcase_add_test(tc, test_revisions);
	tcase_add_test(tc, test_other_optnames);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_netns);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_replace_stale_counters);
	tcase_add_test(tc, test_replace_errors);
	tcase_add_test(tc, test_replace_refused_keeps_table);
	tcase_add_test(tc, test_add_counters_errors);
	tcase_add_test(tc, test_add_counters_sums);
	suite_add_tcase(s, tc);
	tc = tcase_create("opts");
	tcase_add_test(tc, test_opts);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(umh_suite);
