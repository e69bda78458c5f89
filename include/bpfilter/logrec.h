/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a -j LOG rule's program sends to the helper through the table's
 * BPF ring buffer (BF_MAP_LOG, "bpfilter_log"): one self-contained record
 * per logged packet, so the helper needs neither the IR nor the rule set
 * in force to write the kernel LOG target's line (umh/logfmt.c), and a
 * record that arrives after a table swap is still formatted correctly.
 */
#ifndef BPFILTER_LOGREC_H
#define BPFILTER_LOGREC_H

#include <stddef.h>
#include <stdint.h>

#define BF_LOGREC_CAP		256	/* bytes of the datagram kept, from the IPv4 header */
#define BF_LOGREC_RINGBUF	(256u * 1024)	/* ring size of a table with LOG rules */
#define BF_LOGREC_RING_MIN	4096u		/* ... without (the map always exists) */

struct bf_logrec {
	uint32_t rule;		/* blob entry index of the LOG rule */
	uint32_t iif;		/* ifindex, 0 = none (OUTPUT) */
	uint32_t oif;		/* ifindex, 0 = none (INPUT) */
	uint32_t mark;		/* skb->mark at tc, 0 at XDP */
	uint16_t caplen;	/* bytes in data[] */
	uint8_t hook;		/* NF_INET_LOCAL_IN / FORWARD / LOCAL_OUT */
	uint8_t level;		/* --log-level */
	uint8_t flags;		/* --log-* flags (XT_LOG_*) */
	uint8_t has_mac;	/* mac[] holds the Ethernet header (ingress) */
	uint16_t totlen;	/* IPv4 total length (skb->len from the IP header on) */
	char prefix[32];	/* --log-prefix, NUL terminated */
	uint8_t mac[16];	/* Ethernet header, 14 bytes */
	uint8_t data[BF_LOGREC_CAP];	/* IPv4 header and what follows */
	/* --log-uid (XT_LOG_UID): the sending socket file's credentials */
	uint32_t uid;		/* f_cred->fsuid */
	uint32_t gid;		/* f_cred->fsgid */
	uint8_t has_cred;	/* 1: uid/gid valid (a full socket with a file) */
	uint8_t pad[3];
};

#define BF_LOGREC_OFF_RULE	0
#define BF_LOGREC_OFF_IIF	4
#define BF_LOGREC_OFF_OIF	8
#define BF_LOGREC_OFF_MARK	12
#define BF_LOGREC_OFF_CAPLEN	16
#define BF_LOGREC_OFF_HOOK	18
#define BF_LOGREC_OFF_LEVEL	19
#define BF_LOGREC_OFF_FLAGS	20
#define BF_LOGREC_OFF_HASMAC	21
#define BF_LOGREC_OFF_TOTLEN	22
#define BF_LOGREC_OFF_PREFIX	24
#define BF_LOGREC_OFF_MAC	56
#define BF_LOGREC_OFF_DATA	72
#define BF_LOGREC_OFF_UID	(BF_LOGREC_OFF_DATA + BF_LOGREC_CAP)
#define BF_LOGREC_OFF_GID	(BF_LOGREC_OFF_UID + 4)
#define BF_LOGREC_OFF_HASCRED	(BF_LOGREC_OFF_UID + 8)
#define BF_LOGREC_SIZE		(BF_LOGREC_OFF_UID + 12)

_Static_assert(offsetof(struct bf_logrec, uid) == BF_LOGREC_OFF_UID, "bf_logrec.uid");
_Static_assert(offsetof(struct bf_logrec, has_cred) == BF_LOGREC_OFF_HASCRED, "bf_logrec.has_cred");
_Static_assert(sizeof(struct bf_logrec) == BF_LOGREC_SIZE, "bf_logrec size");

/*
 * The kernel LOG target's line for `rec` (nf_log_syslog.c's IPv4 format,
 * "IN=... OUT=... MAC=... SRC=..." with its trailing space, no newline,
 * no "<level>"), with device names `in` / `out` ("" for none). Returns
 * the length snprintf() would have written (umh/logfmt.c).
 */
int bf_logrec_format(const struct bf_logrec *rec, const char *in,
		     const char *out, char *buf, size_t len);

#endif /* BPFILTER_LOGREC_H */
