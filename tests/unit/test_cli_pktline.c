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
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(cli_pktline_suite);
