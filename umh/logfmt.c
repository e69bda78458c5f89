// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel LOG target's line for a struct bf_logrec: the format of
 * nf_log_syslog.c (nf_log_ip_packet) for IPv4, field by field, written
 * from its observable output (the xt_log unit tests compare with lines
 * the kernel's own iptables-legacy -j LOG wrote):
 *   <prefix>IN=<in> OUT=<out> [MAC=<14 bytes> | MACSRC= MACDST= MACPROTO=]
 *   SRC= DST= LEN= TOS=0x.. PREC=0x.. TTL= ID= [CE] [DF] [MF] [FRAG:n]
 *   [OPT (..)] PROTO=... [UID= GID=] [MARK=0x..]
 * MAC fields only when there is an input device (INPUT, FORWARD). At
 * FORWARD the kernel logs after ip_forward() decremented the TTL, so the
 * outer TTL is the captured one minus 1. Reads past the datagram are
 * "INCOMPLETE [n bytes]" / "TRUNCATED" as skb_header_pointer() failures
 * are in the kernel; the record's totlen plays skb->len.
 * IPv6 records (version 6 in the first byte) get dump_ipv6_packet()'s
 * line: SRC= DST= (%pI6, all eight groups) LEN= TC= HOPLIMIT= FLOWLBL=,
 * the extension headers (FRAG:, and with --log-ip-options "OPT ( ... )"),
 * then TCP/UDP as for IPv4 or ICMPv6 with its one-level dump of errors.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_LOG.h>

#include "bpfilter/logrec.h"

struct lf {
	char *buf;
	size_t len;
	size_t pos;
	const uint8_t *d;	/* datagram bytes */
	uint32_t have;		/* bytes of d we may read: min(totlen, caplen) */
	uint32_t skblen;	/* totlen */
	uint8_t flags;
	const struct bf_logrec *rec;	/* the record (--log-uid's credentials) */
};

static void lf_put(struct lf *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lf_put(struct lf *m, const char *fmt, ...)
{
	size_t room = m->pos < m->len ? m->len - m->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? m->buf + m->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->pos += n;
}

/* skb_header_pointer(): may n bytes at off be read? */
static bool lf_ok(const struct lf *m, uint32_t off, uint32_t n)
{
	return (uint64_t)off + n <= m->have;
}

/* lf_ok(), else "INCOMPLETE [n bytes] " as the kernel prints a short header */
static bool lf_need(struct lf *m, uint32_t off, uint32_t n)
{
	if (lf_ok(m, off, n))
		return true;
	lf_put(m, "INCOMPLETE [%u bytes] ", m->skblen - off);
	return false;
}

static uint16_t lf_16(const struct lf *m, uint32_t off)
{
	return (uint16_t)(m->d[off] << 8 | m->d[off + 1]);
}

static uint32_t lf_32(const struct lf *m, uint32_t off)
{
	return (uint32_t)lf_16(m, off) << 16 | lf_16(m, off + 2);
}

static void lf_hex(struct lf *m, uint32_t off, uint32_t n)
{
	uint32_t i;

	lf_put(m, "OPT (");
	for (i = 0; i < n; i++)
		lf_put(m, "%02X", m->d[off + i]);
	lf_put(m, ") ");
}

static void lf_mac(struct lf *m, const struct bf_logrec *rec)
{
	const uint8_t *p = rec->mac;
	int i;

	if (rec->flags & XT_LOG_MACDECODE) {
		lf_put(m, "MACSRC=%02x:%02x:%02x:%02x:%02x:%02x ",
		       p[6], p[7], p[8], p[9], p[10], p[11]);
		lf_put(m, "MACDST=%02x:%02x:%02x:%02x:%02x:%02x ",
		       p[0], p[1], p[2], p[3], p[4], p[5]);
		lf_put(m, "MACPROTO=%04x ", p[12] << 8 | p[13]);
		return;
	}
	lf_put(m, "MAC=%02x", p[0]);
	for (i = 1; i < 14; i++)
		lf_put(m, ":%02x", p[i]);
	lf_put(m, " ");
}

/* Returns 1 when the dump of this header ends the packet's line. */
static int lf_tcp(struct lf *m, uint32_t off, bool frag)
{
	static const char *const names[] = { "CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN" };
	uint32_t optsize;
	uint8_t fl;
	int i;

	lf_put(m, "PROTO=TCP ");
	if (frag)
		return 0;
	if (!lf_need(m, off, 20))
		return 1;
	lf_put(m, "SPT=%u DPT=%u ", lf_16(m, off), lf_16(m, off + 2));
	if (m->flags & XT_LOG_TCPSEQ)
		lf_put(m, "SEQ=%u ACK=%u ", lf_32(m, off + 4), lf_32(m, off + 8));
	lf_put(m, "WINDOW=%u ", lf_16(m, off + 14));
	/* 6.18: the reserved bits are 0x0E000000 of the flag word; AE is its own flag */
	lf_put(m, "RES=0x%02x ", (unsigned int)((lf_32(m, off + 12) & 0x0e000000) >> 22));
	if (m->d[off + 12] & 0x01)
		lf_put(m, "AE ");
	fl = m->d[off + 13];
	for (i = 0; i < 8; i++)
		if (fl & (0x80 >> i))
			lf_put(m, "%s ", names[i]);
	lf_put(m, "URGP=%u ", lf_16(m, off + 18));
	optsize = (m->d[off + 12] >> 4) * 4;
	if ((m->flags & XT_LOG_TCPOPT) && optsize > 20) {
		optsize -= 20;
		if (!lf_ok(m, off + 20, optsize)) {
			lf_put(m, "OPT (TRUNCATED)");
			return 1;
		}
		lf_hex(m, off + 20, optsize);
	}
	return 0;
}

static int lf_udp(struct lf *m, uint8_t proto, uint32_t off, bool frag)
{
	lf_put(m, proto == 17 ? "PROTO=UDP " : "PROTO=UDPLITE ");
	if (frag)
		return 0;
	if (!lf_need(m, off, 8))
		return 1;
	lf_put(m, "SPT=%u DPT=%u LEN=%u ", lf_16(m, off), lf_16(m, off + 2),
	       lf_16(m, off + 4));
	return 0;
}

/*
 * TCP, UDP and UDP-Lite, dumped alike in both families: 1 when the line
 * ends in the header, -1 for another protocol (the family's own).
 */
static int lf_tcpudp(struct lf *m, uint8_t proto, uint32_t off, bool frag)
{
	switch (proto) {
	case 6:
		return lf_tcp(m, off, frag);
	case 17:
	case 136:
		return lf_udp(m, proto, off, frag);
	default:
		return -1;
	}
}

/* The outer packet's line ends, both families: nf_log_dump_sk_uid_gid(), then the mark. */
static void lf_tail(struct lf *m, uint32_t mark)
{
	if (m->rec && m->rec->has_cred && (m->flags & XT_LOG_UID))
		lf_put(m, "UID=%u GID=%u ", m->rec->uid, m->rec->gid);
	if (mark)
		lf_put(m, "MARK=0x%x ", mark);
}

static void lf_ipv4(struct lf *m, uint32_t ioff, int ttl_delta, uint32_t mark);

/* ICMP: dump_ipv4_packet()'s case IPPROTO_ICMP */
static void lf_icmp(struct lf *m, uint32_t ioff, uint32_t off, bool frag)
{
	static const uint8_t need[19] = { [0] = 4, [3] = 28, [4] = 28, [5] = 28,
		[8] = 4, [11] = 28, [12] = 28, [13] = 20, [14] = 20, [17] = 12, [18] = 12 };
	uint8_t type, code;

	lf_put(m, "PROTO=ICMP ");
	if (frag || !lf_need(m, off, 8))
		return;
	type = m->d[off];
	code = m->d[off + 1];
	lf_put(m, "TYPE=%u CODE=%u ", type, code);
	if (type <= 18 && need[type] && m->skblen - off < need[type]) {
		lf_put(m, "INCOMPLETE [%u bytes] ", m->skblen - off);
		return;
	}
	switch (type) {
	case 0:
	case 8:
		lf_put(m, "ID=%u SEQ=%u ", lf_16(m, off + 4), lf_16(m, off + 6));
		break;
	case 12:
		lf_put(m, "PARAMETER=%u ", m->d[off + 4]);
		break;
	case 5:
		lf_put(m, "GATEWAY=%u.%u.%u.%u ", m->d[off + 4], m->d[off + 5],
		       m->d[off + 6], m->d[off + 7]);
		/* fall through */
	case 3:
	case 4:
	case 11:
		if (!ioff) {
			lf_put(m, "[");
			lf_ipv4(m, off + 8, 0, 0);
			lf_put(m, "] ");
		}
		if (type == 3 && code == 4)
			lf_put(m, "MTU=%u ", lf_16(m, off + 6));
		break;
	}
}

/* AH / ESP: "PROTO=name", then the SPI unless a non-first fragment */
static void lf_spi(struct lf *m, const char *name, uint32_t off, uint32_t spi_at,
		   uint32_t hdr, bool frag)
{
	lf_put(m, "PROTO=%s ", name);
	if (frag || !lf_need(m, off, hdr))
		return;
	lf_put(m, "SPI=0x%x ", lf_32(m, off + spi_at));
}

/* The IPv4 upper layers other than TCP and UDP: ICMP, AH, ESP, or the number */
static void lf_other4(struct lf *m, uint8_t proto, uint32_t ioff, uint32_t off, bool frag)
{
	switch (proto) {
	case 1:
		lf_icmp(m, ioff, off, frag);
		break;
	case 51:	/* AH: nothing at all for a non-first fragment */
		if (frag)
			break;
		lf_spi(m, "AH", off, 4, 12, false);	/* struct ip_auth_hdr */
		break;
	case 50:
		lf_spi(m, "ESP", off, 0, 8, frag);	/* struct ip_esp_hdr */
		break;
	default:
		lf_put(m, "PROTO=%u ", proto);
	}
}

static void lf_ipv4(struct lf *m, uint32_t ioff, int ttl_delta, uint32_t mark)
{
	uint32_t ihl, off;
	uint16_t fo;
	uint8_t tos, proto;
	bool frag;
	int ret;

	if (!lf_ok(m, ioff, 20)) {
		lf_put(m, "TRUNCATED");
		return;
	}
	ihl = (m->d[ioff] & 0x0f) * 4;
	tos = m->d[ioff + 1];
	fo = lf_16(m, ioff + 6);
	proto = m->d[ioff + 9];
	lf_put(m, "SRC=%u.%u.%u.%u DST=%u.%u.%u.%u ",
	       m->d[ioff + 12], m->d[ioff + 13], m->d[ioff + 14], m->d[ioff + 15],
	       m->d[ioff + 16], m->d[ioff + 17], m->d[ioff + 18], m->d[ioff + 19]);
	lf_put(m, "LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ", lf_16(m, ioff + 2),
	       tos & 0x1e, tos & 0xe0, (uint8_t)(m->d[ioff + 8] + ttl_delta),
	       lf_16(m, ioff + 4));
	if (fo & 0x8000)
		lf_put(m, "CE ");
	if (fo & 0x4000)
		lf_put(m, "DF ");
	if (fo & 0x2000)
		lf_put(m, "MF ");
	if (fo & 0x1fff)
		lf_put(m, "FRAG:%u ", fo & 0x1fff);
	if ((m->flags & XT_LOG_IPOPT) && ihl > 20) {
		if (!lf_ok(m, ioff + 20, ihl - 20)) {
			lf_put(m, "TRUNCATED");
			return;
		}
		lf_hex(m, ioff + 20, ihl - 20);
	}
	off = ioff + ihl;
	frag = fo & 0x1fff;
	ret = lf_tcpudp(m, proto, off, frag);
	if (ret > 0)
		return;
	if (ret < 0)
		lf_other4(m, proto, ioff, off, frag);
	if (!ioff)
		lf_tail(m, mark);
}

/* %pI6: eight groups of four hex digits */
static void lf_addr6(struct lf *m, const char *tag, uint32_t off)
{
	int i;

	lf_put(m, "%s=", tag);
	for (i = 0; i < 16; i += 2)
		lf_put(m, "%s%02x%02x", i ? ":" : "", m->d[off + i], m->d[off + i + 1]);
	lf_put(m, " ");
}

static void lf_ipv6(struct lf *m, uint32_t ioff, int hl_delta, uint32_t mark, bool recurse);

/* ICMPv6: dump_ipv6_packet()'s case IPPROTO_ICMPV6 */
static void lf_icmp6(struct lf *m, uint32_t off, bool frag, bool recurse)
{
	uint8_t type;

	lf_put(m, "PROTO=ICMPv6 ");
	if (frag || !lf_need(m, off, 8))
		return;
	type = m->d[off];
	lf_put(m, "TYPE=%u CODE=%u ", type, m->d[off + 1]);
	switch (type) {
	case 128:
	case 129:
		lf_put(m, "ID=%u SEQ=%u ", lf_16(m, off + 4), lf_16(m, off + 6));
		break;
	case 4:
		lf_put(m, "POINTER=%08x ", lf_32(m, off + 4));
		/* fall through */
	case 1:
	case 2:
	case 3:
		if (recurse) {
			lf_put(m, "[");
			lf_ipv6(m, off + 8, 0, 0, false);
			lf_put(m, "] ");
		}
		if (type == 2)
			lf_put(m, "MTU=%u ", lf_32(m, off + 4));
		break;
	}
}

/*
 * AH / ESP in the extension headers with --log-ip-options: "name ", then
 * the SPI unless a non-first fragment; 1 when the line ends here (the
 * entry closed with ")").
 */
static int lf_spi6(struct lf *m, const char *name, uint32_t off, uint32_t spi_at,
		   uint32_t hdr, bool frag)
{
	lf_put(m, "%s ", name);
	if (frag) {
		lf_put(m, ")");
		return 1;
	}
	if (!lf_ok(m, off, hdr)) {
		lf_put(m, "INCOMPLETE [%u bytes] )", m->skblen - off);
		return 1;
	}
	lf_put(m, "SPI=0x%x ", lf_32(m, off + spi_at));
	return 0;
}

/*
 * The extension headers dump_ipv6_packet() walks (nf_ip6_ext_hdr(), NONE
 * excluded). Returns 1 when the line ends here, else the upper-layer
 * header and its offset in *hdr / *off.
 */
static int lf_exthdrs6(struct lf *m, uint8_t *hdr, uint32_t *off, bool *frag)
{
	bool opt = m->flags & XT_LOG_IPOPT;
	uint32_t len;

	while (*hdr == 0 || *hdr == 43 || *hdr == 44 || *hdr == 50 || *hdr == 51 || *hdr == 60) {
		if (!lf_ok(m, *off, 2)) {
			lf_put(m, "TRUNCATED");
			return 1;
		}
		if (opt)
			lf_put(m, "OPT ( ");
		switch (*hdr) {
		case 44:
			lf_put(m, "FRAG:");
			if (!lf_ok(m, *off, 8)) {
				lf_put(m, "TRUNCATED ");
				return 1;
			}
			lf_put(m, "%u ", lf_16(m, *off + 2) & 0xfff8);
			if (m->d[*off + 3] & 0x01)
				lf_put(m, "INCOMPLETE ");
			lf_put(m, "ID:%08x ", lf_32(m, *off + 4));
			if (lf_16(m, *off + 2) & 0xfff8)
				*frag = true;
			len = 8;
			break;
		case 0:
		case 43:
		case 60:
			if (*frag) {
				if (opt)
					lf_put(m, ")");
				return 1;
			}
			len = (m->d[*off + 1] + 1) * 8;
			break;
		case 51:
			if (opt && lf_spi6(m, "AH", *off, 4, 12, *frag))	/* struct ip_auth_hdr */
				return 1;
			len = (m->d[*off + 1] + 2) * 4;
			break;
		default:	/* ESP: the end of what can be read */
			if (opt && !lf_spi6(m, "ESP", *off, 0, 8, *frag))	/* struct ip_esp_hdr */
				lf_put(m, ")");
			return 1;
		}
		if (opt)
			lf_put(m, ") ");
		*hdr = m->d[*off];
		*off += len;
	}
	return 0;
}

/* dump_ipv6_packet(): the header, the extension headers, the upper layer */
static void lf_ipv6(struct lf *m, uint32_t ioff, int hl_delta, uint32_t mark, bool recurse)
{
	uint32_t w, off = ioff + 40;
	bool frag = false;
	uint8_t hdr;
	int ret;

	if (!lf_ok(m, ioff, 40)) {
		lf_put(m, "TRUNCATED");
		return;
	}
	lf_addr6(m, "SRC", ioff + 8);
	lf_addr6(m, "DST", ioff + 24);
	w = lf_32(m, ioff);
	lf_put(m, "LEN=%u TC=%u HOPLIMIT=%u FLOWLBL=%u ", lf_16(m, ioff + 4) + 40u,
	       (w & 0x0ff00000) >> 20, (uint8_t)(m->d[ioff + 7] + hl_delta), w & 0x000fffff);
	hdr = m->d[ioff + 6];
	if (lf_exthdrs6(m, &hdr, &off, &frag))
		return;
	ret = lf_tcpudp(m, hdr, off, frag);
	if (ret > 0)
		return;
	if (ret < 0 && hdr == 58)
		lf_icmp6(m, off, frag, recurse);
	else if (ret < 0)
		lf_put(m, "PROTO=%u ", hdr);
	if (recurse)
		lf_tail(m, mark);
}

int bf_logrec_format(const struct bf_logrec *rec, const char *in,
		     const char *out, char *buf, size_t len)
{
	struct lf m = {
		.buf = buf, .len = len, .d = rec->data, .skblen = rec->totlen,
		.flags = rec->flags, .rec = rec,
	};

	if (buf && len)
		buf[0] = '\0';
	m.have = rec->caplen < rec->totlen ? rec->caplen : rec->totlen;
	if (m.have > BF_LOGREC_CAP)
		m.have = BF_LOGREC_CAP;
	lf_put(&m, "%.*sIN=%s OUT=%s ", (int)sizeof(rec->prefix), rec->prefix, in, out);
	if (rec->has_mac && in[0])
		lf_mac(&m, rec);
	if (m.have && rec->data[0] >> 4 == 6)
		lf_ipv6(&m, 0, rec->hook == NF_INET_FORWARD ? -1 : 0, rec->mark, true);
	else
		lf_ipv4(&m, 0, rec->hook == NF_INET_FORWARD ? -1 : 0, rec->mark);
	return (int)m.pos;
}
