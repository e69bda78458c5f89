// SPDX-License-Identifier: GPL-2.0
/*
 * ip6tables -j LOG and -j REJECT in the xt front-end (target_log.c serves
 * both families, target_reject6.c is ip6t_REJECT):
 *   xt6_targets         the fixture's IR text, refusals with messages,
 *                       and the IPv6 LOG line (umh/logfmt.c);
 *   xt6_targets_kernel  the same mutated blobs through the kernel's own
 *                       IP6T_SO_SET_REPLACE and IP6T_SO_GET_REVISION_TARGET
 *                       in a scratch netns: our errno == the kernel's.
 * Fixture blobs/targets6.bin (ip6tables-legacy, see targets6.in6) entries:
 *   0 LOG dport 22, 1 LOG -s 2001:db8:1::/48 all flags, 2 REJECT tcp-reset,
 *   3 REJECT udp 53, 4-9 REJECT -s 2001:db8:2::1-6 icmp6-*, 10 -j logdrop,
 *   12 FORWARD LOG icmp6, 13 FORWARD REJECT udp, 15 OUTPUT LOG,
 *   16 OUTPUT REJECT tcp-reset, 19 logdrop LOG, 20 logdrop DROP.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include "unit.h"
#include "bpfilter/logrec.h"
#include "test_xt_util.h"

static uint8_t *x6t_tg(struct ip6t_replace *r, uint32_t i)
{
	struct ip6t_entry *e = xtu6_entry(r, i);

	return (uint8_t *)e + e->target_offset;
}

static uint8_t *x6t_data(struct ip6t_replace *r, uint32_t i)
{
	return x6t_tg(r, i) + sizeof(struct xt_entry_target);
}

static void x6t_with(struct ip6t_replace *r, uint32_t i, uint32_t with)
{
	memcpy(x6t_data(r, i), &with, sizeof(with));
}

static void m_log_level8(struct ip6t_replace *r) { x6t_data(r, 0)[0] = 8; }
static void m_log_prefix_full(struct ip6t_replace *r) { memset(x6t_data(r, 1) + 2, 'A', 30); }
static void m_log_rev1(struct ip6t_replace *r) { x6t_tg(r, 0)[31] = 1; }
static void m_log_uid(struct ip6t_replace *r) { x6t_data(r, 0)[1] = XT_LOG_UID; }
static void m_rej_echo(struct ip6t_replace *r) { x6t_with(r, 3, IP6T_ICMP6_ECHOREPLY); }
static void m_rej_rst_udp(struct ip6t_replace *r) { x6t_with(r, 3, IP6T_TCP_RESET); }
static void m_rej_rst_noproto(struct ip6t_replace *r) { x6t_with(r, 4, IP6T_TCP_RESET); }
/* proto 6 without IP6T_F_PROTO: ip6t_REJECT wants the flag too */
static void m_rej_rst_noflag(struct ip6t_replace *r)
{
	xtu6_entry(r, 4)->ipv6.proto = IPPROTO_TCP;
	x6t_with(r, 4, IP6T_TCP_RESET);
}
static void m_rej_rst_invproto(struct ip6t_replace *r)
{
	xtu6_entry(r, 4)->ipv6.proto = IPPROTO_TCP;
	xtu6_entry(r, 4)->ipv6.flags |= IP6T_F_PROTO;
	xtu6_entry(r, 4)->ipv6.invflags |= IP6T_INV_PROTO;
	x6t_with(r, 4, IP6T_TCP_RESET);
}
static void m_rej_rst_tcp(struct ip6t_replace *r)
{
	xtu6_entry(r, 4)->ipv6.proto = IPPROTO_TCP;
	xtu6_entry(r, 4)->ipv6.flags |= IP6T_F_PROTO;
	x6t_with(r, 4, IP6T_TCP_RESET);
}
static void m_rej_not_neighbour(struct ip6t_replace *r) { x6t_with(r, 4, IP6T_ICMP6_NOT_NEIGHBOUR); }
static void m_rej_9(struct ip6t_replace *r) { x6t_with(r, 4, 9); }
static void m_rej_rev1(struct ip6t_replace *r) { x6t_tg(r, 3)[31] = 1; }

struct x6t_case {
	const char *name;
	void (*mut)(struct ip6t_replace *r);
	int ours;
	int kernel;
	const char *msg;
};

static const struct x6t_case cases[] = {
	{ "log_level_8", m_log_level8, -EINVAL, -EINVAL, "target 'LOG'" },
	{ "log_prefix_unterminated", m_log_prefix_full, -EINVAL, -EINVAL, NULL },
	{ "log_revision_1", m_log_rev1, -ENOENT, -ENOENT, "target 'LOG' revision 1" },
	{ "log_uid", m_log_uid, 0, 0, NULL },
	{ "reject_echo_reply", m_rej_echo, -EINVAL, -EINVAL, "target 'REJECT'" },
	{ "reject_tcp_reset_udp", m_rej_rst_udp, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_no_proto", m_rej_rst_noproto, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_no_proto_flag", m_rej_rst_noflag, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_inverted_proto", m_rej_rst_invproto, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_tcp", m_rej_rst_tcp, 0, 0, NULL },
	/* no ip6tables option writes it; the kernel sends code 2 */
	{ "reject_not_neighbour", m_rej_not_neighbour, 0, 0, NULL },
	/* The kernel accepts it and only drops; no tool writes it. */
	{ "reject_with_9", m_rej_9, -EOPNOTSUPP, 0, "past icmp6-reject-route" },
	{ "reject_revision_1", m_rej_rev1, -ENOENT, -ENOENT, "target 'REJECT' revision 1" },
};

#define N_CASES (int)(sizeof(cases) / sizeof(cases[0]))

START_TEST(test_x6t_ours)
{
	const struct x6t_case *c = &cases[_i];
	struct bf_err err = { 0 };
	struct bf_ir *ir = NULL;
	struct ip6t_replace *r;
	size_t len;
	int ret;

	r = xtu6_load("targets6", &len);
	c->mut(r);
	ret = bf_xt6_translate(r, len, &ir, &err);
	ck_assert_msg(ret == c->ours, "%s: got %d (%s), want %d", c->name, ret, err.msg,
		      c->ours);
	if (c->msg)
		ck_assert_msg(strstr(err.msg, c->msg), "%s: '%s' lacks '%s'", c->name,
			      err.msg, c->msg);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* SET_REPLACE (or a revision probe) in a scratch netns; -errno or 0. */
static int x6t_kernel(struct ip6t_replace *r, size_t len, const char *probe, uint8_t rev)
{
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct xt_counters cnt[64];
		struct xt_get_revision gr = { .revision = rev };
		socklen_t sl = sizeof(gr);
		int fd, ret;

		if (unshare(CLONE_NEWNET))
			_exit(250);
		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0)
			_exit(251);
		if (probe) {
			strncpy(gr.name, probe, sizeof(gr.name) - 1);
			ret = getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_REVISION_TARGET, &gr, &sl);
			_exit(ret < 0 ? errno : 0);
		}
		r->counters = cnt;
		if (setsockopt(fd, IPPROTO_IPV6, IP6T_SO_SET_REPLACE, r, len) < 0)
			_exit(errno);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_lt(WEXITSTATUS(status), 250);
	return -WEXITSTATUS(status);
}

START_TEST(test_x6t_kernel)
{
	const struct x6t_case *c = &cases[_i];
	struct ip6t_replace *r;
	size_t len;
	int ret;

	r = xtu6_load("targets6", &len);
	r->num_counters = 4;
	c->mut(r);
	ret = x6t_kernel(r, len, NULL, 0);
	ck_assert_msg(ret == c->kernel, "%s: kernel says %d, table says %d", c->name,
		      ret, c->kernel);
	free(r);
}
END_TEST

START_TEST(test_x6t_fixture_kernel)
{
	struct ip6t_replace *r;
	size_t len;

	r = xtu6_load("targets6", &len);
	r->num_counters = 4;
	ck_assert_int_eq(x6t_kernel(r, len, NULL, 0), 0);
	free(r);
}
END_TEST

START_TEST(test_x6t_probes_kernel)
{
	static const struct { const char *name; uint8_t rev; } p[] = {
		{ "LOG", 0 }, { "LOG", 1 }, { "REJECT", 0 }, { "REJECT", 1 },
		{ "REJECT", 255 }, { "NOSUCH", 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int k = x6t_kernel(NULL, 0, p[i].name, p[i].rev);
		int ours = bf_xt6_target_revision(p[i].name, p[i].rev);

		ck_assert_msg(k == ours, "%s rev %u: kernel %d, ours %d", p[i].name,
			      p[i].rev, k, ours);
	}
}
END_TEST

/* Our probes without the kernel: LOG and REJECT revision 0 exist for IPv6. */
START_TEST(test_x6t_probes)
{
	ck_assert_int_eq(bf_xt6_target_revision("LOG", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("REJECT", 0), 0);
	ck_assert_int_eq(bf_xt6_target_revision("REJECT", 1), -EPROTONOSUPPORT);
	ck_assert_int_eq(bf_xt6_target_revision("NOSUCH", 0), -ENOENT);
}
END_TEST

START_TEST(test_x6t_ir_text)
{
	struct bf_err err = { 0 };
	struct ip6t_replace *r;
	struct bf_ir *ir = NULL;
	char line[512];
	size_t len;

	r = xtu6_load("targets6", &len);
	ck_assert_msg(!bf_xt6_translate(r, len, &ir, &err), "%s", err.msg);
	free(r);
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[2], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#3 [2] proto6 6 l4(tcp,20) dport 23-23 -> REJECT tcp-reset");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[3], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#4 [3] proto6 17 l4(udp,8) dport 53-53 -> REJECT icmp6-port-unreachable");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[8], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#9 [8] saddr6 2001:db8:2::5/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff -> REJECT icmp6-reject-route");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] saddr6 2001:db8:1::/ffff:ffff:ffff:: -> LOG level 7 flags 0x27 prefix \"in6: \"");
	bf_ir_free(ir);
}
END_TEST

/* An IPv6 header 2001:db8::1 -> 2001:db8::2, hop limit 64, next header `nh`, `plen` payload bytes */
static void x6t_ip6(uint8_t *p, uint8_t nh, uint16_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x6b;		/* TC 0xb8, flow label 0x12345 */
	p[1] = 0x81;
	p[2] = 0x23;
	p[3] = 0x45;
	p[4] = plen >> 8;
	p[5] = plen & 0xff;
	p[6] = nh;
	p[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", p + 8);
	inet_pton(AF_INET6, "2001:db8::2", p + 24);
}

/* The lines the kernel's nf_log_syslog writes for these packets (dump_ipv6_packet). */
START_TEST(test_x6t_logrec_format)
{
	static const uint8_t mac[14] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd };
	struct bf_logrec rec = { 0 };
	char line[1024];
	uint8_t *t;

	/* hop-by-hop (8 bytes) then a TCP SYN */
	x6t_ip6(rec.data, 0, 28);
	rec.data[40] = 6;
	t = rec.data + 48;
	t[0] = 0x30; t[1] = 0x39; t[3] = 22; t[7] = 1; t[12] = 0x50; t[13] = 0x02;
	t[14] = 0xfa; t[15] = 0xf0;
	rec.caplen = rec.totlen = 68;
	rec.hook = NF_INET_LOCAL_IN;
	rec.has_mac = 1;
	memcpy(rec.mac, mac, sizeof(mac));
	strcpy(rec.prefix, "p6: ");
	bf_logrec_format(&rec, "veth0", "", line, sizeof(line));
	ck_assert_str_eq(line, "p6: IN=veth0 OUT= MAC=02:00:00:00:00:02:02:00:00:00:00:01:86:dd "
			 "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 "
			 "LEN=68 TC=184 HOPLIMIT=64 FLOWLBL=74565 "
			 "PROTO=TCP SPT=12345 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	/* --log-ip-options shows the extension header; FORWARD: hop limit - 1; seq */
	rec.hook = NF_INET_FORWARD;
	rec.flags = XT_LOG_IPOPT | XT_LOG_TCPSEQ | XT_LOG_MACDECODE;
	rec.prefix[0] = 0;
	rec.mark = 7;
	bf_logrec_format(&rec, "veth0", "veth1", line, sizeof(line));
	ck_assert_str_eq(line, "IN=veth0 OUT=veth1 MACSRC=02:00:00:00:00:01 MACDST=02:00:00:00:00:02 MACPROTO=86dd "
			 "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 "
			 "LEN=68 TC=184 HOPLIMIT=63 FLOWLBL=74565 OPT ( ) "
			 "PROTO=TCP SPT=12345 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 MARK=0x7 ");
	/* a non-first fragment of UDP: FRAG: offset, ID; no ports */
	memset(&rec, 0, sizeof(rec));
	x6t_ip6(rec.data, 44, 16);
	rec.data[40] = 17;
	rec.data[42] = 0x00;
	rec.data[43] = 0xb9;	/* offset 184, M */
	rec.data[47] = 0x2a;
	rec.caplen = rec.totlen = 56;
	rec.hook = NF_INET_LOCAL_OUT;
	bf_logrec_format(&rec, "", "veth0", line, sizeof(line));
	ck_assert_str_eq(line, "IN= OUT=veth0 "
			 "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 "
			 "LEN=56 TC=184 HOPLIMIT=64 FLOWLBL=74565 FRAG:184 INCOMPLETE ID:0000002a PROTO=UDP ");
	/* an ICMPv6 error quoting a UDP datagram: the one-level dump */
	memset(&rec, 0, sizeof(rec));
	x6t_ip6(rec.data, 58, 56);
	rec.data[40] = 1;
	rec.data[41] = 4;
	x6t_ip6(rec.data + 48, 17, 8);
	t = rec.data + 88;
	t[1] = 53; t[2] = 0x9c; t[3] = 0x40; t[5] = 8;
	rec.caplen = rec.totlen = 96;
	rec.hook = NF_INET_LOCAL_OUT;
	rec.mark = 1;
	bf_logrec_format(&rec, "", "veth0", line, sizeof(line));
	ck_assert_str_eq(line, "IN= OUT=veth0 "
			 "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 "
			 "LEN=96 TC=184 HOPLIMIT=64 FLOWLBL=74565 PROTO=ICMPv6 TYPE=1 CODE=4 "
			 "[SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 "
			 "LEN=48 TC=184 HOPLIMIT=64 FLOWLBL=74565 PROTO=UDP SPT=53 DPT=40000 LEN=8 ] MARK=0x1 ");
	/* cut inside the IPv6 header */
	rec.caplen = rec.totlen = 30;
	bf_logrec_format(&rec, "", "veth0", line, sizeof(line));
	ck_assert_str_eq(line, "IN= OUT=veth0 TRUNCATED");
}
END_TEST

static Suite *xt6_targets_suite(void)
{
	Suite *s = suite_create("xt6_targets");
	TCase *tc = tcase_create("targets");

	tcase_add_loop_test(tc, test_x6t_ours, 0, N_CASES);
	tcase_add_test(tc, test_x6t_probes);
	tcase_add_test(tc, test_x6t_ir_text);
	tcase_add_test(tc, test_x6t_logrec_format);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt6_targets_suite);

static Suite *xt6_targets_kernel_suite(void)
{
	Suite *s = suite_create("xt6_targets_kernel");
	TCase *tc = tcase_create("kernel");

	if (xtu_kernel_oracle_af("xt6_targets_kernel", AF_INET6)) {
		tcase_add_test(tc, test_x6t_fixture_kernel);
		tcase_add_loop_test(tc, test_x6t_kernel, 0, N_CASES);
		tcase_add_test(tc, test_x6t_probes_kernel);
	}
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt6_targets_kernel_suite);
