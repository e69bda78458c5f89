// SPDX-License-Identifier: GPL-2.0
/*
 * Framing of include/bpfilter/msg.h over a blocking stream fd: full reads
 * and writes, EINTR retried, headers validated before any payload is read.
 * Plain libc only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfilter/log.h"
#include "umh.h"

/* 0 on success, 1 on EOF before the first byte, -EPIPE on a short read. */
static int msg_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return done ? -EPIPE : 1;
		done += n;
	}
	return 0;
}

static int msg_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		done += n;
	}
	return 0;
}

/* Header then payload in one writev-like sequence; payload may be NULL. */
static int msg_write_frame(int fd, const void *hdr, size_t hdr_len,
			   const void *payload, size_t payload_len)
{
	int r;

	r = msg_write_full(fd, hdr, hdr_len);
	if (r)
		return r;
	if (!payload_len)
		return 0;
	if (!payload)
		return -EINVAL;
	return msg_write_full(fd, payload, payload_len);
}

/* Read payload_len bytes into a fresh buffer; *payload = NULL when empty. */
static int msg_read_payload(int fd, uint32_t payload_len, void **payload)
{
	void *buf;
	int r;

	*payload = NULL;
	if (!payload_len)
		return 0;
	buf = malloc(payload_len);
	if (!buf)
		return -ENOMEM;
	r = msg_read_full(fd, buf, payload_len);
	if (r) {
		free(buf);
		return r > 0 ? -EPIPE : r;
	}
	*payload = buf;
	return 0;
}

int bf_msg_send_req(int fd, const struct bpfilter_req *req, const void *payload)
{
	if (!req || req->payload_len > BPFILTER_PAYLOAD_MAX)
		return -EINVAL;
	return msg_write_frame(fd, req, sizeof(*req), payload, req->payload_len);
}

int bf_msg_send_reply(int fd, const struct bpfilter_reply *reply,
		      const void *payload)
{
	if (!reply || reply->payload_len > BPFILTER_PAYLOAD_MAX)
		return -EINVAL;
	return msg_write_frame(fd, reply, sizeof(*reply), payload,
			       reply->payload_len);
}

void bf_msg_req_init(struct bpfilter_req *req, uint32_t cmd, uint32_t family,
		     uint32_t optname, uint32_t optlen)
{
	memset(req, 0, sizeof(*req));
	req->magic = BPFILTER_REQ_MAGIC;
	req->version = BPFILTER_VERSION;
	req->hdr_size = sizeof(*req);
	req->cmd = cmd;
	req->family = family;
	req->optname = optname;
	req->optlen = optlen;
	req->payload_len = cmd == BPFILTER_CMD_GET && optlen > BPFILTER_GET_IN_MAX ?
			   BPFILTER_GET_IN_MAX : optlen;
}

void bf_msg_reply_init(struct bpfilter_reply *reply,
		       const struct bpfilter_req *req, int status)
{
	memset(reply, 0, sizeof(*reply));
	reply->magic = BPFILTER_REPLY_MAGIC;
	reply->version = BPFILTER_VERSION;
	reply->hdr_size = sizeof(*reply);
	reply->status = status;
	reply->seq = req ? req->seq : 0;
}

int bf_msg_recv_req(int fd, struct bpfilter_req *req, void **payload)
{
	int r;

	*payload = NULL;
	memset(req, 0, sizeof(*req));
	r = msg_read_full(fd, req, sizeof(*req));
	if (r)
		return r;
	if (req->magic != BPFILTER_REQ_MAGIC) {
		bf_err("request seq %llu: bad magic 0x%08x",
		       (unsigned long long)req->seq, req->magic);
		return -EPROTO;
	}
	if (req->version != BPFILTER_VERSION ||
	    req->hdr_size != sizeof(*req)) {
		bf_err("request seq %llu: version %u header size %u, this helper speaks version %u size %zu",
		       (unsigned long long)req->seq, req->version,
		       req->hdr_size, BPFILTER_VERSION, sizeof(*req));
		return -EPROTO;
	}
	if (req->payload_len > BPFILTER_PAYLOAD_MAX) {
		bf_err("request seq %llu: payload of %u bytes is over the %u byte limit",
		       (unsigned long long)req->seq, req->payload_len,
		       BPFILTER_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	return msg_read_payload(fd, req->payload_len, payload);
}

int bf_msg_recv_reply(int fd, struct bpfilter_reply *reply, void **payload)
{
	int r;

	*payload = NULL;
	r = msg_read_full(fd, reply, sizeof(*reply));
	if (r)
		return r > 0 ? -EPIPE : r;
	if (reply->magic != BPFILTER_REPLY_MAGIC ||
	    reply->version != BPFILTER_VERSION ||
	    reply->hdr_size != sizeof(*reply))
		return -EPROTO;
	if (reply->payload_len > BPFILTER_PAYLOAD_MAX)
		return -EMSGSIZE;
	return msg_read_payload(fd, reply->payload_len, payload);
}
