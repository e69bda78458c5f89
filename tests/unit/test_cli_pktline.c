// SPDX-License-Identifier: GPL-2.0
/*
 * `bpfilter test` packet lines and frames. The parser lives in the CLI
 * (umh/cli/pktline.c), which the unit-test binary does not link, so it is
 * compiled into this file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "../../umh/cli/pktline.c"

#define ETH 14

static struct bf_pkt_spec parse_ok(const char *line)
{
	struct bf_pkt_spec spec;
	char err[256];
	int r = bf_pktline_parse(line, &spec, err, sizeof(err));

	ck_assert_msg(r == 1, "'%s': r=%d err=%s", line, r, err);
	return spec;
}

static void parse_bad(const char *line, const char *needle)
{
	struct bf_pkt_spec spec;
	char err[256];
	int r = bf_pktline_parse(line, &spec, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "'%s' parsed (r=%d)", line, r);
	ck_assert_msg(strstr(err, needle), "'%s': error '%s' lacks '%s'",
		      line, err, needle);
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)(p[0] << 8 | p[1]);
}

static int build(const char *line, uint8_t *buf)
{
	struct bf_pkt_spec spec = parse_ok(line);
	int n;

	memset(buf, 0xaa, BF_PKT_FRAME_MAX);
	n = bf_pkt_build(&spec, buf, BF_PKT_FRAME_MAX);
	ck_assert_int_gt(n, 0);
	return n;
}

/* A correct checksum sums (with itself) to 0xffff, i.e. folds to 0. */
static void assert_ip_csum(const uint8_t *ip)
{
	ck_assert_uint_eq(bf_pkt_csum(ip, 20, 0), 0);
}

static void assert_l4_csum(const uint8_t *ip)
{
	unsigned int len = get16(ip + 2) - 20;
	uint32_t sum = get16(ip + 12) + get16(ip + 14) + get16(ip + 16) +
		       get16(ip + 18) + ip[9] + len;

	ck_assert_uint_eq(bf_pkt_csum(ip + 20, len, sum), 0);
}

START_TEST(test_defaults)
{
	struct bf_pkt_spec spec = parse_ok("proto=tcp");
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	ck_assert_uint_eq(spec.saddr, htonl(0x0a000002));
	ck_assert_uint_eq(spec.daddr, htonl(0x0a000001));
	ck_assert_uint_eq(spec.sport, 40000);
	ck_assert_uint_eq(spec.dport, 80);
	ck_assert_uint_eq(spec.tcp_flags, 0x02);
	ck_assert_uint_eq(spec.ttl, 64);
	ck_assert_str_eq(spec.iif, "");
	ck_assert_str_eq(spec.oif, "");
	n = build("sport=40000", buf);
	ck_assert_int_eq(n, ETH + 20 + 20);
	ck_assert_uint_eq(get16(buf + 12), 0x0800);
	/* loopback's address: PACKET_HOST in BPF_PROG_TEST_RUN */
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0", 6);
	ck_assert_uint_eq(ip[0], 0x45);
	ck_assert_uint_eq(get16(ip + 2), 40);
	ck_assert_uint_eq(get16(ip + 6), 0);
	ck_assert_uint_eq(ip[8], 64);
	ck_assert_uint_eq(ip[9], 6);
	ck_assert_mem_eq(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	ck_assert_uint_eq(get16(ip + 20), 40000);
	ck_assert_uint_eq(get16(ip + 22), 80);
	ck_assert_uint_eq(ip[20 + 12], 0x50);
	ck_assert_uint_eq(ip[20 + 13], 0x02);
	assert_ip_csum(ip);
	assert_l4_csum(ip);
}
END_TEST

START_TEST(test_skip_lines)
{
	struct bf_pkt_spec spec;
	char err[64];

	ck_assert_int_eq(bf_pktline_parse("", &spec, err, sizeof(err)), 0);
	ck_assert_int_eq(bf_pktline_parse("  \t\n", &spec, err, sizeof(err)), 0);
	ck_assert_int_eq(bf_pktline_parse("# a comment dport=x", &spec, err, sizeof(err)), 0);
	ck_assert_int_eq(bf_pktline_parse("   #indented", &spec, err, sizeof(err)), 0);
	/* a trailing comment ends the tokens */
	spec = parse_ok("dport=22 # ssh dport=bad");
	ck_assert_uint_eq(spec.dport, 22);
}
END_TEST

START_TEST(test_tcp_flags)
{
	static const struct { const char *line; uint8_t flags; } cases[] = {
		{ "flags=F", 0x01 }, { "flags=S", 0x02 }, { "flags=R", 0x04 },
		{ "flags=P", 0x08 }, { "flags=A", 0x10 }, { "flags=U", 0x20 },
		{ "flags=E", 0x40 }, { "flags=C", 0x80 }, { "flags=SA", 0x12 },
		{ "flags=FSRPAUEC", 0xff }, { "flags=none", 0 }, { "flags=", 0 },
		{ "flags=pa", 0x18 },
	};
	uint8_t buf[BF_PKT_FRAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(cases[i].line, buf);
		ck_assert_msg(buf[ETH + 20 + 13] == cases[i].flags, "%s: 0x%02x",
			      cases[i].line, buf[ETH + 20 + 13]);
		/* ACK number only with ACK */
		ck_assert_uint_eq(buf[ETH + 20 + 11], cases[i].flags & 0x10 ? 1 : 0);
		assert_l4_csum(buf + ETH);
	}
}
END_TEST

START_TEST(test_udp_icmp_other)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	n = build("proto=udp sport=53 dport=5353 len=100 src=192.168.1.7", buf);
	ck_assert_int_eq(n, ETH + 100);
	ck_assert_uint_eq(ip[9], 17);
	ck_assert_uint_eq(get16(ip + 2), 100);
	ck_assert_uint_eq(get16(ip + 20), 53);
	ck_assert_uint_eq(get16(ip + 22), 5353);
	ck_assert_uint_eq(get16(ip + 24), 80);
	ck_assert_mem_eq(ip + 12, "\xc0\xa8\x01\x07", 4);
	assert_ip_csum(ip);
	assert_l4_csum(ip);

	n = build("proto=icmp type=3 code=4", buf);
	ck_assert_int_eq(n, ETH + 28);
	ck_assert_uint_eq(ip[9], 1);
	ck_assert_uint_eq(ip[20], 3);
	ck_assert_uint_eq(ip[21], 4);
	ck_assert_uint_eq(bf_pkt_csum(ip + 20, 8, 0), 0);
	assert_ip_csum(ip);

	n = build("proto=ICMP", buf);
	ck_assert_uint_eq(ip[20], 8);	/* echo request by default */

	n = build("proto=47 ttl=1", buf);
	ck_assert_int_eq(n, ETH + 20);	/* no L4 header for GRE */
	ck_assert_uint_eq(ip[9], 47);
	ck_assert_uint_eq(ip[8], 1);
	assert_ip_csum(ip);
}
END_TEST

START_TEST(test_fragments)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n, i;

	n = build("frag=first dport=22", buf);
	ck_assert_int_eq(n, ETH + 40);
	ck_assert_uint_eq(get16(ip + 6), 0x2000);	/* MF, offset 0 */
	ck_assert_uint_eq(get16(ip + 22), 22);		/* L4 header present */
	assert_ip_csum(ip);

	n = build("frag=nonfirst dport=22 flags=SA", buf);
	ck_assert_int_eq(n, ETH + 28);
	ck_assert_uint_eq(get16(ip + 6), 185);		/* 1480 bytes, no MF */
	for (i = 20; i < 28; i++)			/* payload only */
		ck_assert_uint_eq(ip[i], 0);
	assert_ip_csum(ip);

	n = build("frag=nonfirst proto=udp len=60", buf);
	ck_assert_int_eq(n, ETH + 60);
	for (i = 20; i < 60; i++)
		ck_assert_uint_eq(ip[i], 0);

	build("frag=1", buf);
	ck_assert_uint_eq(get16(ip + 6), 1);
	build("frag=none", buf);
	ck_assert_uint_eq(get16(ip + 6), 0);
}
END_TEST

START_TEST(test_len)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	/* shorter than the headers: the TCP header is cut */
	n = build("len=30", buf);
	ck_assert_int_eq(n, ETH + 30);
	ck_assert_uint_eq(get16(ip + 2), 30);
	ck_assert_uint_eq(get16(ip + 22), 80);
	assert_ip_csum(ip);

	n = build("len=1500 proto=tcp", buf);
	ck_assert_int_eq(n, ETH + 1500);
	assert_l4_csum(ip);

	n = build("len=20", buf);
	ck_assert_int_eq(n, ETH + 20);
}
END_TEST

START_TEST(test_ifaces)
{
	struct bf_pkt_spec spec = parse_ok("iif=eth0 oif=veth-long-name");

	ck_assert_str_eq(spec.iif, "eth0");
	ck_assert_str_eq(spec.oif, "veth-long-name");
	spec = parse_ok("iif=");
	ck_assert_str_eq(spec.iif, "");
}
END_TEST

START_TEST(test_l2)
{
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t dflt[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t mac[6] = { 0x02, 0xab, 0xcd, 0xef, 0x00, 0x9f };
	uint8_t buf[BF_PKT_FRAME_MAX];

	build("proto=tcp", buf);
	ck_assert(!memcmp(buf, zero, 6));
	ck_assert(!memcmp(buf + 6, dflt, 6));
	build("pkttype=broadcast", buf);
	ck_assert(!memcmp(buf, bcast, 6));
	build("pkttype=multicast smac=02:AB:cd:ef:00:9f", buf);
	ck_assert(!memcmp(buf, mcast, 6));
	ck_assert(!memcmp(buf + 6, mac, 6));
	build("pkttype=unicast", buf);
	ck_assert(!memcmp(buf, zero, 6));
	ck_assert_uint_eq(get16(buf + 12), 0x0800);
	parse_bad("pkttype=host", "unicast, broadcast or multicast");
	parse_bad("smac=02:00:00:00:00", "MAC address");
	parse_bad("smac=02:00:00:00:00:0g", "MAC address");
	parse_bad("smac=02-00-00-00-00-01", "MAC address");
	parse_bad("smac=02:00:00:00:00:001", "MAC address");
}
END_TEST

START_TEST(test_bad_lines)
{
	parse_bad("dport", "token 'dport': expected key=value");
	parse_bad("foo=1", "unknown key 'foo'");
	parse_bad("src=10.0.0", "token 'src=10.0.0'");
	parse_bad("dst=10.0.0.256", "dotted-quad");
	parse_bad("dport=65536", "token 'dport=65536'");
	parse_bad("sport=-1", "port number");
	parse_bad("sport=80x", "port number");
	parse_bad("sport=", "port number");
	parse_bad("proto=sctp", "protocol number");
	parse_bad("proto=256", "token 'proto=256'");
	parse_bad("flags=SX", "FSRPAUEC");
	parse_bad("type=300", "ICMP type");
	parse_bad("code=x", "ICMP code");
	parse_bad("ttl=256", "TTL");
	parse_bad("len=19", "20..1500");
	parse_bad("len=1501", "20..1500");
	parse_bad("frag=second", "token 'frag=second'");
	parse_bad("frag=8192", "fragment offset");
	parse_bad("frag=0", "fragment offset");
	parse_bad("iif=abcdefghijklmnop", "interface name");
	parse_bad("oif=a/b", "interface name");
	parse_bad("dport=22 dport=23", "given twice");
	parse_bad("dport=22 =5", "unknown key ''");
}
END_TEST

/* ---- IPv6 (bpfilter test -6) --------------------------------------------- */

static struct bf_pkt_spec parse6_ok(const char *line)
{
	struct bf_pkt_spec spec;
	char err[256];
	int r = bf_pktline_parse_family(AF_INET6, line, &spec, err, sizeof(err));

	ck_assert_msg(r == 1, "'%s': r=%d err=%s", line, r, err);
	return spec;
}

static void parse6_bad(const char *line, const char *needle)
{
	struct bf_pkt_spec spec;
	char err[256];
	int r = bf_pktline_parse_family(AF_INET6, line, &spec, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "'%s' parsed (r=%d)", line, r);
	ck_assert_msg(strstr(err, needle), "'%s': error '%s' lacks '%s'",
		      line, err, needle);
}

static int build6(const char *line, uint8_t *buf)
{
	struct bf_pkt_spec spec = parse6_ok(line);
	int n;

	memset(buf, 0xaa, BF_PKT_FRAME_MAX);
	n = bf_pkt_build(&spec, buf, BF_PKT_FRAME_MAX);
	ck_assert_int_gt(n, 0);
	return n;
}

/* The upper-layer checksum at l4 (len bytes) over the IPv6 pseudo header. */
static void assert_l4_csum6(const uint8_t *ip, const uint8_t *l4,
			    unsigned int len, uint8_t proto)
{
	uint32_t sum = proto + len;
	int i;

	for (i = 8; i < 40; i += 2)
		sum += get16(ip + i);
	ck_assert_uint_eq(bf_pkt_csum(l4, len, sum), 0);
}

START_TEST(test_v6_defaults)
{
	static const uint8_t src[16] = { 0xfd, [15] = 2 };
	static const uint8_t dst[16] = { 0xfd, [15] = 1 };
	struct bf_pkt_spec spec = parse6_ok("proto=tcp");
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	ck_assert_int_eq(spec.family, AF_INET6);
	ck_assert_mem_eq(spec.saddr6, src, 16);
	ck_assert_mem_eq(spec.daddr6, dst, 16);
	ck_assert_uint_eq(spec.ttl, 64);
	ck_assert_uint_eq(spec.icmp_type, 128);
	n = build6("sport=40000", buf);
	ck_assert_int_eq(n, ETH + 40 + 20);
	ck_assert_uint_eq(get16(buf + 12), 0x86dd);
	ck_assert_uint_eq(ip[0], 0x60);
	ck_assert_uint_eq(get16(ip + 4), 20);	/* payload_len */
	ck_assert_uint_eq(ip[6], 6);		/* next header */
	ck_assert_uint_eq(ip[7], 64);		/* hop limit */
	ck_assert_mem_eq(ip + 8, src, 16);
	ck_assert_mem_eq(ip + 24, dst, 16);
	ck_assert_uint_eq(get16(ip + 40), 40000);
	ck_assert_uint_eq(get16(ip + 42), 80);
	ck_assert_uint_eq(ip[40 + 13], 0x02);
	assert_l4_csum6(ip, ip + 40, 20, 6);
	/* the IPv4 parser refuses IPv6 syntax and the other way round */
	parse_bad("src=fd00::9", "IPv4 address");
	parse6_bad("src=10.0.0.1", "IPv6 address");
	parse_bad("ext=hop", "bpfilter test -6");
}
END_TEST

START_TEST(test_v6_l4)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	n = build6("src=2001:db8::1 dst=2001:db8::2 proto=udp sport=53 dport=5353 ttl=1", buf);
	ck_assert_int_eq(n, ETH + 40 + 8);
	ck_assert_uint_eq(ip[6], 17);
	ck_assert_uint_eq(ip[7], 1);
	ck_assert_uint_eq(ip[8], 0x20);
	ck_assert_uint_eq(ip[39], 2);
	ck_assert_uint_eq(get16(ip + 44), 8);	/* udp length */
	assert_l4_csum6(ip, ip + 40, 8, 17);
	n = build6("proto=icmp6", buf);
	ck_assert_int_eq(n, ETH + 40 + 8);
	ck_assert_uint_eq(ip[6], 58);
	ck_assert_uint_eq(ip[40], 128);
	ck_assert_uint_eq(ip[41], 0);
	assert_l4_csum6(ip, ip + 40, 8, 58);
	n = build6("proto=58 type=1 code=4", buf);
	ck_assert_uint_eq(ip[40], 1);
	ck_assert_uint_eq(ip[41], 4);
	assert_l4_csum6(ip, ip + 40, 8, 58);
	/* len pads with zeros and payload_len follows; the sum covers it */
	n = build6("proto=udp len=100", buf);
	ck_assert_int_eq(n, ETH + 100);
	ck_assert_uint_eq(get16(ip + 4), 60);
	ck_assert_uint_eq(get16(ip + 44), 60);
	assert_l4_csum6(ip, ip + 40, 60, 17);
	/* len cuts the L4 header: payload_len is what the frame carries */
	n = build6("proto=tcp len=50", buf);
	ck_assert_int_eq(n, ETH + 50);
	ck_assert_uint_eq(get16(ip + 4), 10);
	/* multicast destination 33:33:00:00:00:01 */
	build6("pkttype=multicast", buf);
	ck_assert_mem_eq(buf, "\x33\x33\x00\x00\x00\x01", 6);
	parse6_bad("len=39", "40..1500");
	parse6_bad("len=1501", "40..1500");
}
END_TEST

START_TEST(test_v6_ext)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	/* hop, dst, rt, ah in order, each naming the next; then tcp */
	n = build6("ext=hop,dst,rt,ah", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 8 + 8 + 16 + 20);
	ck_assert_uint_eq(get16(ip + 4), 8 + 8 + 8 + 16 + 20);
	ck_assert_uint_eq(ip[6], 0);		/* hop-by-hop */
	ck_assert_uint_eq(ip[40], 60);		/* -> destination options */
	ck_assert_uint_eq(ip[41], 0);
	ck_assert_uint_eq(ip[42], 1);		/* PadN */
	ck_assert_uint_eq(ip[43], 4);
	ck_assert_uint_eq(ip[48], 43);		/* -> routing */
	ck_assert_uint_eq(ip[56], 51);		/* -> AH */
	ck_assert_uint_eq(ip[58], 0);		/* routing type 0 */
	ck_assert_uint_eq(ip[59], 0);		/* segments left 0 */
	ck_assert_uint_eq(ip[64], 6);		/* AH -> tcp */
	ck_assert_uint_eq(ip[65], 2);		/* (2 + 2) * 4 bytes */
	ck_assert_uint_eq(get16(ip + 80), 40000);
	assert_l4_csum6(ip, ip + 80, 20, 6);
	/* none: next header 59 and nothing after */
	n = build6("ext=dst,none", buf);
	ck_assert_int_eq(n, ETH + 48);
	ck_assert_uint_eq(ip[6], 60);
	ck_assert_uint_eq(ip[40], 59);
	ck_assert_uint_eq(get16(ip + 4), 8);
	n = build6("ext=none", buf);
	ck_assert_int_eq(n, ETH + 40);
	ck_assert_uint_eq(ip[6], 59);
	ck_assert_uint_eq(get16(ip + 4), 0);
	parse6_bad("ext=none,hop", "none last");
	parse6_bad("ext=hop,bogus", "hop, dst, rt, frag, ah, none");
	parse6_bad("ext=", "hop, dst, rt, frag, ah, none");
}
END_TEST

/* rt=TYPE:SEGS[:HDRLEN[:RESERVED]] shapes the routing header (-m rt) */
START_TEST(test_v6_rt)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	n = build6("ext=rt,dst rt=2:7:1:0x01020304 proto=udp", buf);
	ck_assert_int_eq(n, ETH + 40 + 16 + 8 + 8);
	ck_assert_uint_eq(ip[6], 43);
	ck_assert_uint_eq(ip[40], 60);		/* -> destination options */
	ck_assert_uint_eq(ip[41], 1);		/* hdrlen: 16 bytes */
	ck_assert_uint_eq(ip[42], 2);		/* type */
	ck_assert_uint_eq(ip[43], 7);		/* segments left */
	ck_assert_uint_eq(ip[44], 1);		/* reserved, network order */
	ck_assert_uint_eq(ip[47], 4);
	ck_assert_uint_eq(ip[48], 0);		/* zeros up to 16 bytes */
	ck_assert_uint_eq(ip[56], 17);		/* dst -> udp */
	n = build6("ext=rt rt=0:3", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 20);
	ck_assert_uint_eq(ip[41], 0);
	ck_assert_uint_eq(ip[43], 3);
	parse6_bad("rt=", "TYPE:SEGS");
	parse6_bad("rt=256:0", "TYPE:SEGS");
	parse6_bad("rt=0:0:0:0:0", "TYPE:SEGS");
	parse6_bad("rt=0:", "TYPE:SEGS");
	parse6_bad("rt=-1", "TYPE:SEGS");
	parse_bad("rt=0:0", "TYPE:SEGS");	/* IPv4 line */
}
END_TEST

/* fh= shapes the fragment header (-m frag), hopts=/dopts= the options headers */
START_TEST(test_v6_xh)
{
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	n = build6("ext=frag fh=0x01020304:5:3:1 frag=16 proto=udp", buf);
	ck_assert_uint_eq(ip[41], 5);			/* reserved byte */
	ck_assert_uint_eq(get16(ip + 42), 16 << 3 | 3 << 1 | 1);
	ck_assert_uint_eq(ip[44], 1);			/* identification */
	ck_assert_uint_eq(ip[47], 4);
	n = build6("ext=frag frag=first fh=7:0:0:0", buf);
	ck_assert_uint_eq(get16(ip + 42), 0);		/* M cleared */
	n = build6("ext=frag frag=first", buf);
	ck_assert_uint_eq(get16(ip + 42), 1);
	ck_assert_uint_eq(ip[47], 1);			/* default id 1 */
	n = build6("ext=hop,dst hopts=0502 dopts=1e0c00 proto=udp", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 8 + 8);
	ck_assert_uint_eq(ip[41], 0);			/* 8 bytes */
	ck_assert_uint_eq(ip[42], 5);
	ck_assert_uint_eq(ip[43], 2);
	ck_assert_uint_eq(ip[44], 0);			/* zero padding */
	ck_assert_uint_eq(ip[50], 0x1e);
	n = build6("ext=dst dopts=1e0c000000000000 proto=udp", buf);
	ck_assert_int_eq(n, ETH + 40 + 16 + 8);		/* 2 + 8 bytes: 16 */
	ck_assert_uint_eq(ip[41], 1);
	n = build6("ext=hop proto=udp", buf);
	ck_assert_uint_eq(ip[42], 1);			/* default: a PadN */
	ck_assert_uint_eq(ip[43], 4);
	parse6_bad("fh=", "ID[:RES");
	parse6_bad("fh=1:256", "ID[:RES");
	parse6_bad("fh=1:0:4", "ID[:RES");
	parse6_bad("fh=1:0:0:2", "ID[:RES");
	parse6_bad("hopts=1", "hex");
	parse6_bad("dopts=zz", "hex");
	parse_bad("fh=1", "ID[:RES");			/* IPv4 line */
	parse_bad("hopts=00", "IPv6 lines");
}
END_TEST

START_TEST(test_v6_frag)
{
	struct bf_pkt_spec spec;
	uint8_t buf[BF_PKT_FRAME_MAX];
	const uint8_t *ip = buf + ETH;
	int n;

	/* ext=frag alone: offset 0, no MF, then the L4 header */
	n = build6("ext=frag proto=udp", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 8);
	ck_assert_uint_eq(ip[6], 44);
	ck_assert_uint_eq(ip[40], 17);
	ck_assert_uint_eq(get16(ip + 42), 0);
	/* first: MF, offset 0, L4 header present */
	n = build6("ext=frag frag=first", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 20);
	ck_assert_uint_eq(get16(ip + 42), 1);
	ck_assert_uint_eq(get16(ip + 48), 40000);
	/* nonfirst: offset 185, no MF, 8 payload bytes, no L4 header */
	n = build6("ext=hop,frag frag=nonfirst", buf);
	ck_assert_int_eq(n, ETH + 40 + 8 + 8 + 8);
	ck_assert_uint_eq(ip[48], 6);		/* frag -> tcp */
	ck_assert_uint_eq(get16(ip + 50), 185 << 3);
	ck_assert_uint_eq(get16(ip + 4), 24);
	/* frag= without ext=frag adds the fragment header (before none) */
	spec = parse6_ok("frag=7 ext=dst,none");
	ck_assert_uint_eq(spec.n_ext, 3);
	ck_assert_uint_eq(spec.ext[1], BF_PKT_EXT_FRAG);
	ck_assert_uint_eq(spec.ext[2], BF_PKT_EXT_NONE);
	n = build6("frag=7", buf);
	ck_assert_uint_eq(ip[6], 44);
	ck_assert_uint_eq(get16(ip + 42), 7 << 3);
	ck_assert_int_eq(n, ETH + 40 + 8 + 8);
	parse6_bad("ext=hop,hop,hop,hop,hop,hop,hop,hop frag=first", "no room");
}
END_TEST

static Suite *cli_pktline_suite(void)
{
	Suite *s = suite_create("cli_pktline");
	TCase *tc = tcase_create("pktline");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_skip_lines);
	tcase_add_test(tc, test_tcp_flags);
	tcase_add_test(tc, test_udp_icmp_other);
	tcase_add_test(tc, test_fragments);
	tcase_add_test(tc, test_len);
	tcase_add_test(tc, test_ifaces);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_l2);
	tcase_add_test(tc, test_v6_defaults);
	tcase_add_test(tc, test_v6_l4);
	tcase_add_test(tc, test_v6_ext);
	tcase_add_test(tc, test_v6_rt);
	tcase_add_test(tc, test_v6_xh);
	tcase_add_test(tc, test_v6_frag);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(cli_pktline_suite);
