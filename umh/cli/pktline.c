// SPDX-License-Identifier: GPL-2.0
/*
 * `bpfilter test` packet lines and the frames built from them.
 *
 * A line is space-separated key=value tokens over the defaults of
 * bf_pkt_spec_default(); each key at most once. The frame is Ethernet +
 * IPv4 (no options, correct header checksum) + the L4 header of proto
 * (TCP 20 bytes, UDP 8, ICMP 8, other protocols none) + zero payload up to
 * len. A len shorter than the headers cuts the L4 header short, which is
 * how a test reaches the truncated-header paths. A first fragment carries
 * MF and the L4 header; a non-first fragment carries payload bytes only,
 * exactly like a real one, so sport/dport/flags/type/code do not appear in
 * it.
 *
 * IPv6 lines (bpf_pktline_parse_family(AF_INET6)): Ethernet + IPv6 (40
 * bytes, payload_len = what follows in the frame) + the extension headers
 * of ext= in order + the L4 header (TCP, UDP, ICMPv6 8 bytes) + zeros up to
 * len. A non-first fragment carries payload only; ext=...,none ends the
 * chain with next header 59 and no L4 header.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pktline.h"

#define PKT_IP_HDR	20
#define PKT_TCP_HDR	20
#define PKT_UDP_HDR	8
#define PKT_ICMP_HDR	8
#define PKT_IP_MF	0x2000
#define PKT_IP_OFFMASK	0x1fff
#define PKT_IP6_HDR	40
#define PKT_ICMP6	58
#define PKT_NEXTHDR_NONE	59

void bf_pkt_spec_default_family(int family, struct bf_pkt_spec *spec)
{
	bf_pkt_spec_default(spec);
	if (family != AF_INET6)
		return;
	spec->family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", spec->saddr6);
	inet_pton(AF_INET6, "fd00::1", spec->daddr6);
	spec->icmp_type = 128;			/* echo request */
	spec->fh_id = 1;
	spec->fh_m = -1;
}

void bf_pkt_spec_default(struct bf_pkt_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->saddr = htonl(0x0a000002);	/* 10.0.0.2 */
	spec->daddr = htonl(0x0a000001);	/* 10.0.0.1 */
	spec->proto = IPPROTO_TCP;
	spec->sport = 40000;
	spec->dport = 80;
	spec->tcp_flags = 0x02;			/* SYN */
	spec->icmp_type = 8;			/* echo request */
	spec->ttl = 64;
	spec->frag = BF_PKT_FRAG_NONE;
	spec->smac[0] = 0x02;
	spec->smac[5] = 0x02;
	spec->l2type = BF_PKT_L2_UNICAST;
	spec->family = AF_INET;
}

/* ---- parsing ------------------------------------------------------------ */

struct pkt_key {
	const char *name;
	/* 0 or -EINVAL with a reason in why */
	int (*parse)(struct bf_pkt_spec *spec, const char *val, const char **why);
};

static int pkt_uint(const char *val, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*val || *val < '0' || *val > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(val, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int pkt_addr(const char *val, uint32_t *out, const char **why)
{
	struct in_addr a;

	if (inet_pton(AF_INET, val, &a) != 1) {
		*why = "expected a dotted-quad IPv4 address";
		return -EINVAL;
	}
	*out = a.s_addr;
	return 0;
}

static int pkt_addr6(const char *val, uint8_t out[16], const char **why)
{
	if (inet_pton(AF_INET6, val, out) != 1) {
		*why = "expected an IPv6 address";
		return -EINVAL;
	}
	return 0;
}

static int pkt_src(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	if (spec->family == AF_INET6)
		return pkt_addr6(val, spec->saddr6, why);
	return pkt_addr(val, &spec->saddr, why);
}

static int pkt_dst(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	if (spec->family == AF_INET6)
		return pkt_addr6(val, spec->daddr6, why);
	return pkt_addr(val, &spec->daddr, why);
}

static int pkt_proto(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	static const struct { const char *name; uint8_t proto; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmp6", PKT_ICMP6 }, { "ipv6-icmp", PKT_ICMP6 },
	};
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(val, names[i].name)) {
			spec->proto = names[i].proto;
			return 0;
		}
	}
	if (pkt_uint(val, 255, &v)) {
		*why = "expected tcp, udp, icmp, icmp6 or a protocol number 0..255";
		return -EINVAL;
	}
	spec->proto = (uint8_t)v;
	return 0;
}

static int pkt_port(const char *val, uint16_t *out, const char **why)
{
	unsigned long v;

	if (pkt_uint(val, 65535, &v)) {
		*why = "expected a port number 0..65535";
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

static int pkt_sport(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_port(val, &spec->sport, why);
}

static int pkt_dport(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_port(val, &spec->dport, why);
}

static int pkt_flags(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	static const char letters[] = "FSRPAUEC";	/* bit 0 .. bit 7 */
	uint8_t flags = 0;
	const char *c, *pos;

	if (!strcasecmp(val, "none")) {
		spec->tcp_flags = 0;
		return 0;
	}
	for (c = val; *c; c++) {
		pos = strchr(letters, *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		if (!pos) {
			*why = "expected TCP flag letters from FSRPAUEC (or none)";
			return -EINVAL;
		}
		flags |= (uint8_t)(1U << (pos - letters));
	}
	spec->tcp_flags = flags;
	return 0;
}

static int pkt_byte(const char *val, uint8_t *out, const char *what,
		    const char **why)
{
	unsigned long v;

	if (pkt_uint(val, 255, &v)) {
		*why = what;
		return -EINVAL;
	}
	*out = (uint8_t)v;
	return 0;
}

static int pkt_type(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_byte(val, &spec->icmp_type, "expected an ICMP type 0..255", why);
}

static int pkt_code(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_byte(val, &spec->icmp_code, "expected an ICMP code 0..255", why);
}

static int pkt_ttl(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_byte(val, &spec->ttl, "expected a TTL 0..255", why);
}

/* The names the kernel accepts for a device (dev_valid_name()). */
static int pkt_ifname(const char *val, char *out, const char **why)
{
	size_t len = strlen(val);

	if (!len) {
		out[0] = '\0';
		return 0;
	}
	if (len >= IF_NAMESIZE || !strcmp(val, ".") || !strcmp(val, "..") ||
	    strpbrk(val, "/:")) {
		*why = "expected an interface name of at most 15 characters without '/' or ':'";
		return -EINVAL;
	}
	memset(out, 0, IF_NAMESIZE);
	memcpy(out, val, len);
	return 0;
}

static int pkt_iif(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_ifname(val, spec->iif, why);
}

static int pkt_oif(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	return pkt_ifname(val, spec->oif, why);
}

static int pkt_len(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	unsigned long v;

	if (spec->family == AF_INET6 &&
	    (pkt_uint(val, BF_PKT_LEN_MAX, &v) || v < BF_PKT_LEN6_MIN)) {
		*why = "expected an IPv6 packet length 40..1500 (header included)";
		return -EINVAL;
	}
	if (pkt_uint(val, BF_PKT_LEN_MAX, &v) || v < BF_PKT_LEN_MIN) {
		*why = "expected an IP total length 20..1500";
		return -EINVAL;
	}
	spec->len = (uint16_t)v;
	return 0;
}

static int pkt_frag(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	unsigned long v;

	if (!strcmp(val, "none")) {
		spec->frag = BF_PKT_FRAG_NONE;
	} else if (!strcmp(val, "first")) {
		spec->frag = BF_PKT_FRAG_FIRST;
	} else if (!strcmp(val, "nonfirst")) {
		spec->frag = BF_PKT_FRAG_NONFIRST;
		spec->frag_off = BF_PKT_NONFIRST_OFF;
	} else if (!pkt_uint(val, PKT_IP_OFFMASK, &v) && v > 0) {
		spec->frag = BF_PKT_FRAG_NONFIRST;
		spec->frag_off = (uint16_t)v;
	} else {
		*why = "expected first, nonfirst, none or a fragment offset 1..8191 (8-byte units)";
		return -EINVAL;
	}
	return 0;
}

static int pkt_pkttype(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	static const char *const names[] = {
		[BF_PKT_L2_UNICAST] = "unicast",
		[BF_PKT_L2_BROADCAST] = "broadcast",
		[BF_PKT_L2_MULTICAST] = "multicast",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(val, names[i])) {
			spec->l2type = (uint8_t)i;
			return 0;
		}
	}
	*why = "expected unicast, broadcast or multicast";
	return -EINVAL;
}

static int pkt_hexbyte(const char *s, uint8_t *out)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 2; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = (uint8_t)v;
	return 0;
}

/* Six two-digit hex bytes separated by ':'. */
static int pkt_smac(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	uint8_t mac[6];
	int i;

	if (strlen(val) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		if (pkt_hexbyte(val + 3 * i, &mac[i]) ||
		    (i < 5 && val[3 * i + 2] != ':'))
			goto bad;
	}
	memcpy(spec->smac, mac, sizeof(mac));
	return 0;
bad:
	*why = "expected a MAC address xx:xx:xx:xx:xx:xx";
	return -EINVAL;
}

/* opts=HEX: TCP option bytes (up to 40), padded with EOL (0) to 4 bytes. */
static int pkt_opts(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	size_t n = strlen(val), i;

	spec->n_tcp_opts = 0;
	memset(spec->tcp_opts, 0, sizeof(spec->tcp_opts));
	if (!strcmp(val, "none"))
		return 0;
	if (!n || n % 2 || n / 2 > sizeof(spec->tcp_opts))
		goto bad;
	for (i = 0; i < n; i += 2) {
		char byte[3] = { val[i], val[i + 1], 0 };
		char *end;

		if (!isxdigit((unsigned char)val[i]) ||
		    !isxdigit((unsigned char)val[i + 1]))
			goto bad;
		spec->tcp_opts[i / 2] = (uint8_t)strtoul(byte, &end, 16);
	}
	spec->n_tcp_opts = (uint8_t)((n / 2 + 3) & ~3U);
	return 0;
bad:
	*why = "expected up to 40 TCP option bytes in hex (e.g. 020405b4), or none";
	return -EINVAL;
}

/* mark=N: skb->mark, decimal or 0x hex */
static int pkt_mark(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 0);
	if (!*val || *end || errno || v > UINT32_MAX || *val == '-') {
		*why = "expected a 32-bit mark (decimal or 0x hex)";
		return -EINVAL;
	}
	spec->mark = (uint32_t)v;
	return 0;
}

/* wait=MS: pause before this packet, at most 10 s (time-based matches) */
static int pkt_wait(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (!*val || *end || errno || v > 10000 || *val == '-') {
		*why = "expected milliseconds 0..10000";
		return -EINVAL;
	}
	spec->wait_ms = (uint32_t)v;
	return 0;
}

/* rt=TYPE:SEGS[:HDRLEN[:RESERVED]]: the routing headers' fields (IPv6) */
static int pkt_rt(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	unsigned long v[4] = { 0, 0, 0, 0 };
	const char *p = val;
	char *end;
	int i;

	if (spec->family != AF_INET6)
		goto bad;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		v[i] = strtoul(p, &end, 0);
		if (errno || v[i] > (i == 3 ? UINT32_MAX : 255))
			goto bad;
		if (!*end)
			break;
		if (*end != ':' || i == 3)
			goto bad;
		p = end + 1;
	}
	if (i < 1)
		goto bad;
	spec->rt_type = (uint8_t)v[0];
	spec->rt_segs = (uint8_t)v[1];
	spec->rt_hdrlen = (uint8_t)v[2];
	spec->rt_res = (uint32_t)v[3];
	return 0;
bad:
	*why = "expected TYPE:SEGS[:HDRLEN[:RESERVED]] (IPv6 lines; 0..255, the reserved word 32-bit)";
	return -EINVAL;
}

/* fh=ID[:RES[:BITS[:M]]]: the fragment header's fields (IPv6, -m frag) */
static int pkt_fh(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	static const unsigned long max[4] = { UINT32_MAX, 255, 3, 1 };
	unsigned long v[4] = { 1, 0, 0, 0 };
	const char *p = val;
	char *end;
	int i;

	if (spec->family != AF_INET6)
		goto bad;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		v[i] = strtoul(p, &end, 0);
		if (errno || v[i] > max[i])
			goto bad;
		if (!*end)
			break;
		if (*end != ':' || i == 3)
			goto bad;
		p = end + 1;
	}
	spec->fh_id = (uint32_t)v[0];
	spec->fh_res = (uint8_t)v[1];
	spec->fh_bits = (uint8_t)v[2];
	spec->fh_m = i == 3 ? (int8_t)v[3] : -1;
	return 0;
bad:
	*why = "expected ID[:RES[:BITS[:M]]] (IPv6 lines; identification 32-bit, reserved byte 0..255, reserved bits 0..3, M 0..1)";
	return -EINVAL;
}

/* HEX bytes (hopts=, dopts=) into buf; *n = how many */
static int pkt_hex(const char *val, uint8_t *buf, uint8_t *n, const char **why)
{
	size_t len = strlen(val), i;

	*why = "expected 1..62 bytes in hex (IPv6 lines; the options after the header's first two bytes)";
	if (!len || len % 2 || len / 2 > BF_PKT_XOPTS_MAX)
		return -EINVAL;
	for (i = 0; i < len; i += 2) {
		char b[3] = { val[i], val[i + 1], 0 };
		char *end;

		if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
			return -EINVAL;
		buf[i / 2] = (uint8_t)strtoul(b, &end, 16);
	}
	*n = (uint8_t)(len / 2);
	return 0;
}

static int pkt_hopts(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	if (spec->family != AF_INET6) {
		*why = "hopts= is for IPv6 lines (bpfilter test -6)";
		return -EINVAL;
	}
	return pkt_hex(val, spec->hopts, &spec->n_hopts, why);
}

static int pkt_dopts(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	if (spec->family != AF_INET6) {
		*why = "dopts= is for IPv6 lines (bpfilter test -6)";
		return -EINVAL;
	}
	return pkt_hex(val, spec->dopts, &spec->n_dopts, why);
}

/* ext=hop,dst,rt,frag,ah,none: IPv6 extension headers in packet order. */
static int pkt_ext(struct bf_pkt_spec *spec, const char *val, const char **why)
{
	static const char *const names[] = {
		[BF_PKT_EXT_HOP] = "hop", [BF_PKT_EXT_DST] = "dst",
		[BF_PKT_EXT_RT] = "rt", [BF_PKT_EXT_FRAG] = "frag",
		[BF_PKT_EXT_AH] = "ah", [BF_PKT_EXT_NONE] = "none",
	};
	const char *p = val, *end;
	size_t i, len;

	if (spec->family != AF_INET6) {
		*why = "extension headers are for IPv6 lines (bpfilter test -6)";
		return -EINVAL;
	}
	spec->n_ext = 0;
	do {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i]) == len && !strncmp(p, names[i], len))
				break;
		if (i == sizeof(names) / sizeof(names[0]) ||
		    spec->n_ext == BF_PKT_EXT_MAX ||
		    (spec->n_ext && spec->ext[spec->n_ext - 1] == BF_PKT_EXT_NONE)) {
			*why = "expected a comma list of at most 8 of hop, dst, rt, frag, ah, none (none last)";
			return -EINVAL;
		}
		spec->ext[spec->n_ext++] = (uint8_t)i;
		p = end ? end + 1 : NULL;
	} while (p);
	return 0;
}

static const struct pkt_key pkt_keys[] = {
	{ "src", pkt_src },
	{ "dst", pkt_dst },
	{ "proto", pkt_proto },
	{ "sport", pkt_sport },
	{ "dport", pkt_dport },
	{ "flags", pkt_flags },
	{ "type", pkt_type },
	{ "code", pkt_code },
	{ "iif", pkt_iif },
	{ "oif", pkt_oif },
	{ "len", pkt_len },
	{ "ttl", pkt_ttl },
	{ "frag", pkt_frag },
	{ "pkttype", pkt_pkttype },
	{ "smac", pkt_smac },
	{ "opts", pkt_opts },
	{ "mark", pkt_mark },
	{ "wait", pkt_wait },
	{ "ext", pkt_ext },
	{ "rt", pkt_rt },
	{ "fh", pkt_fh },
	{ "hopts", pkt_hopts },
	{ "dopts", pkt_dopts },
};

#define PKT_N_KEYS (sizeof(pkt_keys) / sizeof(pkt_keys[0]))

static int pkt_token(char *tok, struct bf_pkt_spec *spec, bool *seen,
		     char *err, size_t errlen)
{
	const char *why = NULL;
	char *eq = strchr(tok, '=');
	size_t i;

	if (!eq) {
		snprintf(err, errlen, "token '%s': expected key=value", tok);
		return -EINVAL;
	}
	for (i = 0; i < PKT_N_KEYS; i++) {
		size_t n = strlen(pkt_keys[i].name);

		if ((size_t)(eq - tok) == n && !strncmp(tok, pkt_keys[i].name, n))
			break;
	}
	if (i == PKT_N_KEYS) {
		snprintf(err, errlen, "token '%s': unknown key '%.*s' (keys: src dst proto sport dport flags type code iif oif len ttl frag pkttype smac opts ext mark wait rt fh hopts dopts)",
			 tok, (int)(eq - tok), tok);
		return -EINVAL;
	}
	if (seen[i]) {
		snprintf(err, errlen, "token '%s': key '%s' given twice", tok,
			 pkt_keys[i].name);
		return -EINVAL;
	}
	seen[i] = true;
	if (pkt_keys[i].parse(spec, eq + 1, &why)) {
		snprintf(err, errlen, "token '%s': %s", tok, why);
		return -EINVAL;
	}
	return 0;
}

static bool pkt_has_ext(const struct bf_pkt_spec *spec, enum bf_pkt_ext ext)
{
	unsigned int i;

	for (i = 0; i < spec->n_ext; i++)
		if (spec->ext[i] == ext)
			return true;
	return false;
}

/* IPv6: frag= needs a fragment header; add one before a final none. */
static int pkt_finish6(struct bf_pkt_spec *spec, char *err, size_t errlen)
{
	unsigned int at = spec->n_ext;

	if (spec->frag == BF_PKT_FRAG_NONE || pkt_has_ext(spec, BF_PKT_EXT_FRAG))
		return 0;
	if (spec->n_ext == BF_PKT_EXT_MAX) {
		snprintf(err, errlen, "frag= needs a fragment header and ext= has no room for one");
		return -EINVAL;
	}
	if (at && spec->ext[at - 1] == BF_PKT_EXT_NONE)
		at--;
	memmove(&spec->ext[at + 1], &spec->ext[at], spec->n_ext - at);
	spec->ext[at] = BF_PKT_EXT_FRAG;
	spec->n_ext++;
	return 0;
}

int bf_pktline_parse(const char *line, struct bf_pkt_spec *spec,
		     char *err, size_t errlen)
{
	return bf_pktline_parse_family(AF_INET, line, spec, err, errlen);
}

int bf_pktline_parse_family(int family, const char *line,
			    struct bf_pkt_spec *spec, char *err, size_t errlen)
{
	bool seen[PKT_N_KEYS] = { false };
	char *copy, *tok, *save = NULL;
	int r = 0, n = 0;

	if (errlen)
		err[0] = '\0';
	copy = strdup(line);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	bf_pkt_spec_default_family(family, spec);
	for (tok = strtok_r(copy, " \t\r\n", &save); tok && !r;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (tok[0] == '#')
			break;
		r = pkt_token(tok, spec, seen, err, errlen);
		n++;
	}
	free(copy);
	if (!r && n && family == AF_INET6)
		r = pkt_finish6(spec, err, errlen);
	if (r)
		return r;
	return n ? 1 : 0;
}

/* ---- frames ------------------------------------------------------------- */

static void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void pkt_put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p + 2, (uint16_t)v);
}

uint16_t bf_pkt_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool pkt_v6(const struct bf_pkt_spec *spec)
{
	return spec->family == AF_INET6;
}

unsigned int bf_pkt_l4_hdr_len(const struct bf_pkt_spec *spec)
{
	if (spec->frag == BF_PKT_FRAG_NONFIRST)
		return 0;
	if (pkt_v6(spec) && pkt_has_ext(spec, BF_PKT_EXT_NONE))
		return 0;
	switch (spec->proto) {
	case IPPROTO_TCP:
		return PKT_TCP_HDR + spec->n_tcp_opts;
	case IPPROTO_UDP:
		return PKT_UDP_HDR;
	case IPPROTO_ICMP:
		return pkt_v6(spec) ? 0 : PKT_ICMP_HDR;
	case PKT_ICMP6:
		return pkt_v6(spec) ? PKT_ICMP_HDR : 0;
	default:
		return 0;
	}
}

static unsigned int pkt_ext_size(const struct bf_pkt_spec *spec, uint8_t ext)
{
	if (ext == BF_PKT_EXT_NONE)
		return 0;
	if (ext == BF_PKT_EXT_RT)
		return (spec->rt_hdrlen + 1u) * 8;
	if (ext == BF_PKT_EXT_HOP && spec->n_hopts)
		return (2u + spec->n_hopts + 7) / 8 * 8;
	if (ext == BF_PKT_EXT_DST && spec->n_dopts)
		return (2u + spec->n_dopts + 7) / 8 * 8;
	return ext == BF_PKT_EXT_AH ? 16 : 8;
}

unsigned int bf_pkt_ext_len(const struct bf_pkt_spec *spec)
{
	unsigned int i, n = 0;

	if (!pkt_v6(spec))
		return 0;
	for (i = 0; i < spec->n_ext; i++)
		n += pkt_ext_size(spec, spec->ext[i]);
	return n;
}

static unsigned int pkt_l3_hdr(const struct bf_pkt_spec *spec)
{
	return pkt_v6(spec) ? PKT_IP6_HDR + bf_pkt_ext_len(spec) : PKT_IP_HDR;
}

unsigned int bf_pkt_ip_len(const struct bf_pkt_spec *spec)
{
	if (spec->len)
		return spec->len;
	if (spec->frag == BF_PKT_FRAG_NONFIRST)
		return pkt_l3_hdr(spec) + BF_PKT_NONFIRST_LEN - PKT_IP_HDR;
	return pkt_l3_hdr(spec) + bf_pkt_l4_hdr_len(spec);
}

/*
 * BPF_PROG_TEST_RUN runs skb programs on the loopback device, whose address
 * is all zeroes: that destination makes the frame PACKET_HOST. Any other
 * unicast address makes it PACKET_OTHERHOST, which IPv4 drops before
 * netfilter, so the program would (rightly) let it pass unfiltered.
 */
static void pkt_eth(const struct bf_pkt_spec *spec, uint8_t *eth)
{
	static const uint8_t dst[][6] = {
		[BF_PKT_L2_UNICAST] = { 0, 0, 0, 0, 0, 0 },
		[BF_PKT_L2_BROADCAST] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		[BF_PKT_L2_MULTICAST] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
	};
	static const uint8_t mcast6[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };

	memcpy(eth, dst[spec->l2type <= BF_PKT_L2_MULTICAST ? spec->l2type : 0], 6);
	if (pkt_v6(spec) && spec->l2type == BF_PKT_L2_MULTICAST)
		memcpy(eth, mcast6, 6);
	memcpy(eth + 6, spec->smac, 6);
	pkt_put16(eth + 12, pkt_v6(spec) ? 0x86dd : 0x0800);
}

static void pkt_ip(const struct bf_pkt_spec *spec, uint8_t *ip, unsigned int tot)
{
	uint16_t frag = 0;

	if (spec->frag == BF_PKT_FRAG_FIRST)
		frag = PKT_IP_MF;
	else if (spec->frag == BF_PKT_FRAG_NONFIRST)
		frag = spec->frag_off & PKT_IP_OFFMASK;
	ip[0] = 0x45;
	ip[1] = 0;
	pkt_put16(ip + 2, (uint16_t)tot);
	pkt_put16(ip + 4, 1);			/* id */
	pkt_put16(ip + 6, frag);
	ip[8] = spec->ttl;
	ip[9] = spec->proto;
	memcpy(ip + 12, &spec->saddr, 4);	/* both network order already */
	memcpy(ip + 16, &spec->daddr, 4);
	pkt_put16(ip + 10, bf_pkt_csum(ip, PKT_IP_HDR, 0));
}

/* The pseudo header's sum without the length: addresses and protocol. */
static uint32_t pkt_pseudo(const struct bf_pkt_spec *spec, const uint8_t *ip)
{
	const uint8_t *addrs = pkt_v6(spec) ? ip + 8 : ip + 12;
	unsigned int i, n = pkt_v6(spec) ? 32 : 8;
	uint32_t sum = spec->proto;

	for (i = 0; i < n; i += 2)
		sum += (uint32_t)(addrs[i] << 8 | addrs[i + 1]);
	return sum;
}

/*
 * Fill the full L4 header into l4 (the buffer always has room), checksum
 * what the datagram carries (l4len bytes); a cut-short header keeps only
 * its first l4len bytes in the frame.
 */
static void pkt_l4(const struct bf_pkt_spec *spec, uint32_t psum,
		   uint8_t *l4, unsigned int l4len)
{
	switch (spec->proto) {
	case IPPROTO_TCP:
		pkt_put16(l4, spec->sport);
		pkt_put16(l4 + 2, spec->dport);
		pkt_put32(l4 + 4, 1);				/* seq */
		pkt_put32(l4 + 8, spec->tcp_flags & 0x10 ? 1 : 0);	/* ack */
		l4[12] = (uint8_t)(((PKT_TCP_HDR + spec->n_tcp_opts) / 4) << 4);
		l4[13] = spec->tcp_flags;
		pkt_put16(l4 + 14, 65535);			/* window */
		memcpy(l4 + PKT_TCP_HDR, spec->tcp_opts, spec->n_tcp_opts);
		pkt_put16(l4 + 16, bf_pkt_csum(l4, l4len, psum + l4len));
		break;
	case IPPROTO_UDP:
		pkt_put16(l4, spec->sport);
		pkt_put16(l4 + 2, spec->dport);
		pkt_put16(l4 + 4, (uint16_t)l4len);
		pkt_put16(l4 + 6, bf_pkt_csum(l4, l4len, psum + l4len));
		break;
	case IPPROTO_ICMP:
	case PKT_ICMP6:
		l4[0] = spec->icmp_type;
		l4[1] = spec->icmp_code;
		pkt_put16(l4 + 4, 1);				/* id */
		pkt_put16(l4 + 6, 1);				/* sequence */
		/* ICMPv6 sums the pseudo header too, ICMP does not */
		pkt_put16(l4 + 2, bf_pkt_csum(l4, l4len,
					      pkt_v6(spec) ? psum + l4len : 0));
		break;
	}
}

static uint8_t pkt_ext_proto(uint8_t ext)
{
	static const uint8_t protos[] = {
		[BF_PKT_EXT_HOP] = 0, [BF_PKT_EXT_DST] = 60,
		[BF_PKT_EXT_RT] = 43, [BF_PKT_EXT_FRAG] = 44,
		[BF_PKT_EXT_AH] = 51, [BF_PKT_EXT_NONE] = PKT_NEXTHDR_NONE,
	};

	return protos[ext];
}

/* A hop-by-hop or destination header's length and options (hopts=/dopts=) */
static void pkt_ext_opts(const struct bf_pkt_spec *spec, uint8_t ext, uint8_t *p)
{
	const uint8_t *o = ext == BF_PKT_EXT_HOP ? spec->hopts : spec->dopts;
	uint8_t n = ext == BF_PKT_EXT_HOP ? spec->n_hopts : spec->n_dopts;

	if (!n) {
		p[2] = 1;			/* PadN */
		p[3] = 4;
		return;
	}
	p[1] = (uint8_t)(pkt_ext_size(spec, ext) / 8 - 1);
	memcpy(p + 2, o, n);			/* zeros after: Pad1s */
}

/* One extension header at p; `next` is the header after it. */
static void pkt_ext_hdr(const struct bf_pkt_spec *spec, uint8_t ext,
			uint8_t next, uint8_t *p)
{
	uint16_t off = 0;

	p[0] = next;
	switch (ext) {
	case BF_PKT_EXT_HOP:
	case BF_PKT_EXT_DST:
		pkt_ext_opts(spec, ext, p);
		break;
	case BF_PKT_EXT_FRAG:
		if (spec->frag == BF_PKT_FRAG_FIRST)
			off = 1;		/* offset 0, M */
		else if (spec->frag == BF_PKT_FRAG_NONFIRST)
			off = (uint16_t)(spec->frag_off << 3);
		if (spec->fh_m >= 0)
			off = (uint16_t)((off & ~1u) | (uint16_t)spec->fh_m);
		off |= (uint16_t)(spec->fh_bits << 1);
		p[1] = spec->fh_res;
		pkt_put16(p + 2, off);
		pkt_put32(p + 4, spec->fh_id);	/* identification */
		break;
	case BF_PKT_EXT_AH:
		p[1] = 2;			/* (2 + 2) * 4 = 16 bytes */
		pkt_put32(p + 4, 1);		/* SPI */
		pkt_put32(p + 8, 1);		/* sequence */
		break;
	case BF_PKT_EXT_RT:
		p[1] = spec->rt_hdrlen;
		p[2] = spec->rt_type;
		p[3] = spec->rt_segs;
		pkt_put32(p + 4, spec->rt_res);
		break;
	}
}

/* IPv6 header and extension headers; returns the L4 offset from ip. */
static unsigned int pkt_ip6(const struct bf_pkt_spec *spec, uint8_t *ip,
			    unsigned int tot)
{
	unsigned int i, off = PKT_IP6_HDR;
	uint8_t next;

	ip[0] = 0x60;
	pkt_put16(ip + 4, (uint16_t)(tot - PKT_IP6_HDR));
	ip[6] = spec->n_ext ? pkt_ext_proto(spec->ext[0]) : spec->proto;
	ip[7] = spec->ttl;
	memcpy(ip + 8, spec->saddr6, 16);
	memcpy(ip + 24, spec->daddr6, 16);
	for (i = 0; i < spec->n_ext; i++) {
		if (spec->ext[i] == BF_PKT_EXT_NONE)
			break;
		next = i + 1 < spec->n_ext ? pkt_ext_proto(spec->ext[i + 1]) :
					     spec->proto;
		pkt_ext_hdr(spec, spec->ext[i], next, ip + off);
		off += pkt_ext_size(spec, spec->ext[i]);
	}
	return off;
}

int bf_pkt_build(const struct bf_pkt_spec *spec, uint8_t *buf, size_t size)
{
	unsigned int tot = bf_pkt_ip_len(spec);
	unsigned int l4hdr = bf_pkt_l4_hdr_len(spec);
	unsigned int l3hdr = pkt_l3_hdr(spec), full, l4off;
	uint8_t *ip = buf + BF_PKT_ETH_LEN;

	if (tot < (pkt_v6(spec) ? PKT_IP6_HDR : PKT_IP_HDR) ||
	    tot > BF_PKT_LEN_MAX)
		return -EINVAL;
	full = l3hdr + l4hdr > tot ? l3hdr + l4hdr : tot;
	if (size < BF_PKT_ETH_LEN + full)
		return -ENOSPC;
	memset(buf, 0, BF_PKT_ETH_LEN + full);
	pkt_eth(spec, buf);
	if (pkt_v6(spec)) {
		l4off = pkt_ip6(spec, ip, tot);
	} else {
		pkt_ip(spec, ip, tot);
		l4off = PKT_IP_HDR;
	}
	if (l4hdr && tot > l4off)
		pkt_l4(spec, pkt_pseudo(spec, ip), ip + l4off, tot - l4off);
	if (full > tot)
		memset(ip + tot, 0, full - tot);	/* not part of the frame */
	return (int)(BF_PKT_ETH_LEN + tot);
}
