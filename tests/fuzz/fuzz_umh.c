// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_umh: bytes as the stream a transport writes to the helper: framed
 * requests (struct bpfilter_req + payload) of both families (AF_INET with
 * IPT_SO_*, AF_INET6 with IP6T_SO_*: the seeds have both, and streams
 * that mix them) with hostile lengths, truncated frames, wrong
 * magic/versions, unknown commands, families and optnames. A fresh helper in BF_UMH_TRANSLATE mode
 * (no bpf()) serves them with bf_umh_serve_fd() over a socketpair; two
 * threads play the transport: one writes the bytes, one reads replies.
 *
 * The replies are checked against what the input says must happen: one
 * well-formed reply per complete frame, echoing its seq, in order, status
 * 0 or a negative errno; a frame with a bad header is answered once and
 * ends the stream; a truncated frame ends it without a reply. libFuzzer's
 * -timeout catches hangs, LeakSanitizer leaks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_util.h"
#include "umh/umh.h"

#define FU_MAX_FRAMES	4096

struct fu_peer {
	int fd;
	const uint8_t *in;
	size_t len;
	uint64_t seq[FU_MAX_FRAMES];	/* seq of every frame that gets a reply */
	uint32_t n_expect;
	uint32_t n_got;
};

/* Which frames of the input get a reply, from the framing rules. */
static void fu_expect(struct fu_peer *p)
{
	size_t pos = 0;

	while (pos + sizeof(struct bpfilter_req) <= p->len &&
	       p->n_expect < FU_MAX_FRAMES) {
		struct bpfilter_req req;
		bool bad;

		memcpy(&req, p->in + pos, sizeof(req));
		bad = req.magic != BPFILTER_REQ_MAGIC ||
		      req.version != BPFILTER_VERSION ||
		      req.hdr_size != sizeof(req) ||
		      req.payload_len > BPFILTER_PAYLOAD_MAX;
		if (!bad && p->len - pos - sizeof(req) < req.payload_len)
			return;		/* truncated: no reply */
		p->seq[p->n_expect++] = req.seq;
		if (bad)
			return;
		pos += sizeof(req) + req.payload_len;
	}
}

/* Read len bytes (blocking); false at EOF before the first byte. */
static bool fu_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n > 0) {
			done += n;
			continue;
		}
		if (n == 0 || errno == ECONNRESET) {
			if (done)
				fz_fail("umh: reply truncated after %zu of %zu bytes", done, len);
			return false;
		}
		if (errno != EINTR)
			fz_fail("umh: reading replies: %s", strerror(errno));
	}
	return true;
}

static void fu_check_reply(struct fu_peer *p, const struct bpfilter_reply *r)
{
	if (r->magic != BPFILTER_REPLY_MAGIC || r->version != BPFILTER_VERSION ||
	    r->hdr_size != sizeof(*r) || r->reserved)
		fz_fail("umh: reply %u has a bad header", p->n_got);
	if (r->status > 0 || r->status < -4095)
		fz_fail("umh: reply %u status %d", p->n_got, r->status);
	if (r->payload_len > BPFILTER_PAYLOAD_MAX || (r->status && r->payload_len))
		fz_fail("umh: reply %u: status %d with %u payload bytes",
			p->n_got, r->status, r->payload_len);
	if (p->n_got >= p->n_expect)
		fz_fail("umh: reply %u (seq %llu) to no request (%u expected)",
			p->n_got, (unsigned long long)r->seq, p->n_expect);
	if (r->seq != p->seq[p->n_got])
		fz_fail("umh: reply %u echoes seq %llu, request had %llu", p->n_got,
			(unsigned long long)r->seq,
			(unsigned long long)p->seq[p->n_got]);
	p->n_got++;
}

/* The transport's reading side: replies until the helper closes. */
static void *fu_reader(void *arg)
{
	struct fu_peer *p = arg;
	struct bpfilter_reply r;
	void *buf;

	while (fu_read_full(p->fd, &r, sizeof(r))) {
		fu_check_reply(p, &r);
		buf = malloc(r.payload_len ? r.payload_len : 1);
		if (!buf)
			abort();
		if (r.payload_len && !fu_read_full(p->fd, buf, r.payload_len))
			fz_fail("umh: reply payload missing");
		free(buf);
	}
	return NULL;
}

/* The transport's writing side: the whole input, then end of stream. */
static void *fu_writer(void *arg)
{
	struct fu_peer *p = arg;
	size_t done = 0;

	while (done < p->len) {
		ssize_t n = send(p->fd, p->in + done, p->len - done, MSG_NOSIGNAL);

		if (n > 0)
			done += n;
		else if (n < 0 && errno != EINTR)
			break;	/* the helper closed the stream */
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct bf_umh_opts o = { .sz = sizeof(o), .mode = BF_UMH_TRANSLATE,
				 .hook = BF_HOOK_XDP, .force_hook = -1 };
	static struct fu_peer p;
	struct bf_umh *umh;
	pthread_t rd, wr;
	int sv[2], r;

	memset(&p, 0, sizeof(p));
	r = bf_umh_new(&o, &umh);
	if (r)
		fz_fail("bf_umh_new: %d", r);
	bf_umh_set_netns(umh, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	p.fd = sv[0];
	p.in = data;
	p.len = len;
	fu_expect(&p);
	if (pthread_create(&rd, NULL, fu_reader, &p) ||
	    pthread_create(&wr, NULL, fu_writer, &p))
		abort();
	r = bf_umh_serve_fd(umh, sv[1]);
	close(sv[1]);
	pthread_join(wr, NULL);
	pthread_join(rd, NULL);
	close(sv[0]);
	if (r > 0)
		fz_fail("bf_umh_serve_fd: %d", r);
	if (p.n_got != p.n_expect)
		fz_fail("umh: %u replies, %u expected (serve_fd %d)", p.n_got,
			p.n_expect, r);
	bf_umh_free(umh);
	return 0;
}
