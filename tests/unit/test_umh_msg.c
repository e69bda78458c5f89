// SPDX-License-Identifier: GPL-2.0
/*
 * Framing: bf_umh_serve_fd() on a socketpair fed with good and bad frames.
 * The server runs in a thread; every test bounds it in time, so a server
 * that hangs fails the test instead of hanging the suite.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#include "../../umh/umh.h"
#include "unit.h"

#define T_TIMEOUT_S	2

struct t_server {
	struct bf_umh *umh;
	int fd;
	int ret;
	pthread_t thread;
};

static struct t_server srv;
static int cfd = -1;

static void *t_server_main(void *arg)
{
	struct t_server *s = arg;

	s->ret = bf_umh_serve_fd(s->umh, s->fd);
	/* The connection ends with the server, as the daemon closes it. */
	shutdown(s->fd, SHUT_RDWR);
	return NULL;
}

static void t_setup(void)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TRANSLATE,
		.hook = BF_HOOK_XDP,
		.force_hook = -1,
	};
	struct timeval tv = { .tv_sec = T_TIMEOUT_S };
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	memset(&srv, 0, sizeof(srv));
	ck_assert_int_eq(bf_umh_new(&opts, &srv.umh), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	srv.fd = sv[0];
	cfd = sv[1];
	/* Neither side may block forever. */
	setsockopt(srv.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, t_server_main, &srv), 0);
}

/* Join the server within the time limit; returns its bf_umh_serve_fd(). */
static int t_join(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += T_TIMEOUT_S + 2;
	ck_assert_msg(pthread_timedjoin_np(srv.thread, NULL, &ts) == 0,
		      "the server hung");
	srv.thread = 0;
	return srv.ret;
}

static void t_teardown(void)
{
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	if (srv.thread)
		t_join();
	close(srv.fd);
	bf_umh_free(srv.umh);
}

static struct bpfilter_req t_req(uint32_t cmd, uint32_t optname,
				 uint32_t optlen, uint32_t payload_len,
				 uint64_t seq)
{
	struct bpfilter_req req;

	/* the test chooses payload_len itself: hostile lengths included */
	bf_msg_req_init(&req, cmd, AF_INET, optname, optlen);
	req.payload_len = payload_len;
	req.seq = seq;
	return req;
}

static void t_write(const void *buf, size_t len)
{
	ck_assert_int_eq(write(cfd, buf, len), (ssize_t)len);
}

/* The client sees the server's end closed: EOF or a reset. */
static void t_assert_closed(void)
{
	char c;
	ssize_t n = read(cfd, &c, 1);

	ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET),
		      "expected EOF, read returned %zd", n);
}

START_TEST(test_serve_requests_then_eof)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 1);
	struct ipt_getinfo in = {}, *info;
	struct bpfilter_reply rep;
	void *out;

	ck_assert_int_eq(bf_msg_send_req(cfd, &req, NULL), 0);
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert(rep.seq == 1);
	ck_assert_ptr_null(out);

	strcpy(in.name, "filter");
	req = t_req(BPFILTER_CMD_GET, IPT_SO_GET_INFO, sizeof(in), sizeof(in), 2);
	ck_assert_int_eq(bf_msg_send_req(cfd, &req, &in), 0);
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert(rep.seq == 2);
	ck_assert_uint_eq(rep.payload_len, sizeof(*info));
	info = out;
	ck_assert_uint_eq(info->num_entries, 4);
	ck_assert_uint_eq(info->size, 632);
	free(out);

	req = t_req(BPFILTER_CMD_GET, IPT_SO_GET_INFO, 3, 3, 3);
	ck_assert_int_eq(bf_msg_send_req(cfd, &req, &in), 0);
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, -EINVAL);
	ck_assert(rep.seq == 3);

	shutdown(cfd, SHUT_WR);
	ck_assert_int_eq(t_join(), 0);
}
END_TEST

/* A bad header is answered with `status`, then the server drops the stream. */
static void t_bad_header(const struct bpfilter_req *req, int status)
{
	struct bpfilter_reply rep;
	void *out;

	t_write(req, sizeof(*req));
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, status);
	ck_assert(rep.seq == req->seq);
	ck_assert_uint_eq(rep.payload_len, 0);
	ck_assert_int_eq(t_join(), status);
	t_assert_closed();
}

START_TEST(test_wrong_magic)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 9);

	req.magic = BPFILTER_REPLY_MAGIC;
	t_bad_header(&req, -EPROTO);
}
END_TEST

START_TEST(test_wrong_version)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 10);

	req.version = BPFILTER_VERSION + 1;
	t_bad_header(&req, -EPROTO);
}
END_TEST

START_TEST(test_wrong_hdr_size)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 11);

	req.hdr_size = sizeof(req) + 8;
	t_bad_header(&req, -EPROTO);
}
END_TEST

START_TEST(test_hostile_payload_len)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_SET, IPT_SO_SET_REPLACE,
					0xffffffffu, 0xffffffffu, 12);

	t_bad_header(&req, -EMSGSIZE);
}
END_TEST

START_TEST(test_payload_just_over_max)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_SET, IPT_SO_SET_REPLACE,
					BPFILTER_PAYLOAD_MAX + 1,
					BPFILTER_PAYLOAD_MAX + 1, 13);

	t_bad_header(&req, -EMSGSIZE);
}
END_TEST

START_TEST(test_truncated_header)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 14);

	t_write(&req, 10);
	shutdown(cfd, SHUT_WR);
	ck_assert_int_eq(t_join(), -EPIPE);
	t_assert_closed();
}
END_TEST

START_TEST(test_truncated_payload)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_SET, IPT_SO_SET_REPLACE,
					1000, 1000, 15);
	char junk[10] = {};

	t_write(&req, sizeof(req));
	t_write(junk, sizeof(junk));
	shutdown(cfd, SHUT_WR);
	ck_assert_int_eq(t_join(), -EPIPE);
	t_assert_closed();
}
END_TEST

/* A peer that sends half a header and then nothing: the receive timeout ends it. */
START_TEST(test_stalled_peer)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 16);

	t_write(&req, 8);
	ck_assert_int_eq(t_join(), -EAGAIN);
}
END_TEST

START_TEST(test_garbage_after_good_frame)
{
	struct bpfilter_req req = t_req(BPFILTER_CMD_PING, 0, 0, 0, 17);
	struct bpfilter_reply rep;
	char garbage[sizeof(req)];
	void *out;

	memset(garbage, 0xa5, sizeof(garbage));
	ck_assert_int_eq(bf_msg_send_req(cfd, &req, NULL), 0);
	t_write(garbage, sizeof(garbage));
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert(rep.seq == 17);
	ck_assert_int_eq(bf_msg_recv_reply(cfd, &rep, &out), 0);
	ck_assert_int_eq(rep.status, -EPROTO);
	ck_assert_int_eq(t_join(), -EPROTO);
	t_assert_closed();
}
END_TEST

START_TEST(test_client_checks_reply)
{
	struct bpfilter_reply rep = {
		.magic = 0xdeadbeef,
		.version = BPFILTER_VERSION,
		.hdr_size = sizeof(rep),
	};
	struct bpfilter_reply got;
	int sv[2];
	void *out;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_int_eq(bf_msg_recv_reply(sv[1], &got, &out), -EPROTO);
	rep.magic = BPFILTER_REPLY_MAGIC;
	rep.payload_len = BPFILTER_PAYLOAD_MAX + 1;
	ck_assert_int_eq(write(sv[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_int_eq(bf_msg_recv_reply(sv[1], &got, &out), -EMSGSIZE);
	rep.payload_len = 4;
	ck_assert_int_eq(write(sv[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	close(sv[0]);
	ck_assert_int_eq(bf_msg_recv_reply(sv[1], &got, &out), -EPIPE);
	ck_assert_int_eq(bf_msg_recv_reply(sv[1], &got, &out), -EPIPE);
	close(sv[1]);
	/* and the server thread of the fixture ends on EOF */
	shutdown(cfd, SHUT_WR);
	ck_assert_int_eq(t_join(), 0);
}
END_TEST

static Suite *umh_msg_suite(void)
{
	Suite *s = suite_create("umh_msg");
	TCase *tc = tcase_create("frames");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_serve_requests_then_eof);
	tcase_add_test(tc, test_wrong_magic);
	tcase_add_test(tc, test_wrong_version);
	tcase_add_test(tc, test_wrong_hdr_size);
	tcase_add_test(tc, test_hostile_payload_len);
	tcase_add_test(tc, test_payload_just_over_max);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_truncated_payload);
	tcase_add_test(tc, test_stalled_peer);
	tcase_add_test(tc, test_garbage_after_good_frame);
	tcase_add_test(tc, test_client_checks_reply);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(umh_msg_suite);
