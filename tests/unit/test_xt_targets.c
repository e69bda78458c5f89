// SPDX-License-Identifier: GPL-2.0
/*
 * -j LOG and -j REJECT in the xt front-end (codegen/xt/target*.c):
 *   xt_targets         the fixture's IR text, the interpreter (LOG changes
 *                      no verdict, REJECT drops), refusals with messages,
 *                      revision probes, and the LOG line formatter;
 *   xt_targets_kernel  the same mutated blobs through the kernel's own
 *                      IPT_SO_SET_REPLACE and revision probes in a scratch
 *                      netns: our errno == the kernel's, measured.
 * Fixture blobs/targets.bin (iptables-legacy, see targets.in) entries:
 *   0 LOG dport 22, 1 LOG -s 10.1/16 all flags, 2 REJECT tcp-reset,
 *   3 REJECT udp 53, 4-9 REJECT -s 10.2.0.1-6 icmp-*, 10 -j logdrop,
 *   12 FORWARD LOG icmp, 13 FORWARD REJECT udp, 15 OUTPUT LOG,
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
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include "unit.h"
#include "bpfilter/logrec.h"
#include "test_xt_util.h"

#define XTT_SKIP	1	/* kernel value: not comparable */

static uint8_t *xtt_tg(struct ipt_replace *r, uint32_t i)
{
	struct ipt_entry *e = xtu_entry(r, i);

	return (uint8_t *)e + e->target_offset;
}

static uint8_t *xtt_data(struct ipt_replace *r, uint32_t i)
{
	return xtt_tg(r, i) + sizeof(struct xt_entry_target);
}

static void xtt_size(struct ipt_replace *r, uint32_t i, uint16_t size)
{
	memcpy(xtt_tg(r, i), &size, sizeof(size));
}

static void xtt_with(struct ipt_replace *r, uint32_t i, uint32_t with)
{
	memcpy(xtt_data(r, i), &with, sizeof(with));
}

static void m_log_level8(struct ipt_replace *r) { xtt_data(r, 0)[0] = 8; }
static void m_log_level7(struct ipt_replace *r) { xtt_data(r, 0)[0] = 7; }
static void m_log_prefix_full(struct ipt_replace *r) { memset(xtt_data(r, 1) + 2, 'A', 30); }
static void m_log_prefix_29(struct ipt_replace *r) { memset(xtt_data(r, 1) + 2, 'A', 29); }
static void m_log_rev1(struct ipt_replace *r) { xtt_tg(r, 0)[31] = 1; }
static void m_log_size(struct ipt_replace *r) { xtt_size(r, 0, 56); }
static void m_log_flags(struct ipt_replace *r) { xtt_data(r, 0)[1] = 0xd0; }
static void m_log_uid(struct ipt_replace *r) { xtt_data(r, 0)[1] = XT_LOG_UID; }
static void m_rej_echo(struct ipt_replace *r) { xtt_with(r, 3, IPT_ICMP_ECHOREPLY); }
static void m_rej_rst_udp(struct ipt_replace *r) { xtt_with(r, 3, IPT_TCP_RESET); }
static void m_rej_rst_noproto(struct ipt_replace *r) { xtt_with(r, 4, IPT_TCP_RESET); }
static void m_rej_rst_invproto(struct ipt_replace *r)
{
	xtu_entry(r, 4)->ip.proto = IPPROTO_TCP;
	xtu_entry(r, 4)->ip.invflags |= IPT_INV_PROTO;
	xtt_with(r, 4, IPT_TCP_RESET);
}
static void m_rej_rst_tcp(struct ipt_replace *r)
{
	xtu_entry(r, 4)->ip.proto = IPPROTO_TCP;
	xtt_with(r, 4, IPT_TCP_RESET);
}
static void m_rej_9(struct ipt_replace *r) { xtt_with(r, 4, 9); }
static void m_rej_rev1(struct ipt_replace *r) { xtt_tg(r, 3)[31] = 1; }
static void m_rej_size(struct ipt_replace *r) { xtt_size(r, 3, 36); }

struct xtt_case {
	const char *name;
	void (*mut)(struct ipt_replace *r);
	int ours;
	int kernel;
	const char *msg;
};

static const struct xtt_case cases[] = {
	{ "log_level_8", m_log_level8, -EINVAL, -EINVAL, "target 'LOG'" },
	{ "log_level_7", m_log_level7, 0, 0, NULL },
	{ "log_prefix_unterminated", m_log_prefix_full, -EINVAL, -EINVAL, NULL },
	{ "log_prefix_29_chars", m_log_prefix_29, 0, 0, NULL },
	{ "log_revision_1", m_log_rev1, -ENOENT, -ENOENT, "target 'LOG' revision 1" },
	{ "log_size", m_log_size, -EINVAL, -EINVAL, "size 56" },
	{ "log_unknown_flags", m_log_flags, 0, 0, NULL },
	/* Taken: the program reads the socket's credentials at tc egress (OUTPUT). */
	{ "log_uid", m_log_uid, 0, 0, NULL },
	{ "reject_echo_reply", m_rej_echo, -EINVAL, -EINVAL, "target 'REJECT'" },
	{ "reject_tcp_reset_udp", m_rej_rst_udp, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_no_proto", m_rej_rst_noproto, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_inverted_proto", m_rej_rst_invproto, -EINVAL, -EINVAL, NULL },
	{ "reject_tcp_reset_tcp", m_rej_rst_tcp, 0, 0, NULL },
	/* The kernel accepts it and only drops; no tool writes it. */
	{ "reject_with_9", m_rej_9, -EOPNOTSUPP, 0, "past icmp-admin-prohibited" },
	{ "reject_revision_1", m_rej_rev1, -ENOENT, -ENOENT, "target 'REJECT' revision 1" },
	{ "reject_size", m_rej_size, -EINVAL, -EINVAL, NULL },
};

#define N_CASES (int)(sizeof(cases) / sizeof(cases[0]))

START_TEST(test_targets_ours)
{
	const struct xtt_case *c = &cases[_i];
	struct bf_err err = { 0 };
	struct bf_ir *ir = NULL;
	struct ipt_replace *r;
	size_t len;
	int ret;

	r = xtu_load("targets", &len);
	c->mut(r);
	ret = bf_xt4_translate(r, len, &ir, &err);
	ck_assert_msg(ret == c->ours, "%s: got %d (%s), want %d", c->name, ret, err.msg,
		      c->ours);
	if (c->msg)
		ck_assert_msg(strstr(err.msg, c->msg), "%s: '%s' lacks '%s'", c->name,
			      err.msg, c->msg);
	bf_ir_free(ir);
	free(r);
}
END_TEST

/* SET_REPLACE (or a getsockopt probe) in a scratch netns; -errno or >= 0. */
static int xtt_kernel(struct ipt_replace *r, size_t len, const char *probe,
		      uint8_t rev)
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
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		if (fd < 0)
			_exit(251);
		if (probe) {
			strncpy(gr.name, probe, sizeof(gr.name) - 1);
			ret = getsockopt(fd, IPPROTO_IP, IPT_SO_GET_REVISION_TARGET, &gr, &sl);
			_exit(ret < 0 ? errno : 0);
		}
		r->counters = cnt;
		if (setsockopt(fd, IPPROTO_IP, IPT_SO_SET_REPLACE, r, len) < 0)
			_exit(errno);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_lt(WEXITSTATUS(status), 250);
	return -WEXITSTATUS(status);
}

START_TEST(test_targets_kernel)
{
	const struct xtt_case *c = &cases[_i];
	struct ipt_replace *r;
	size_t len;
	int ret;

	r = xtu_load("targets", &len);
	r->num_counters = 4;
	c->mut(r);
	ret = xtt_kernel(r, len, NULL, 0);
	ck_assert_msg(ret == c->kernel, "%s: kernel says %d, table says %d", c->name,
		      ret, c->kernel);
	free(r);
}
END_TEST

START_TEST(test_targets_probes_kernel)
{
	static const struct { const char *name; uint8_t rev; } p[] = {
		{ "LOG", 0 }, { "LOG", 1 }, { "REJECT", 0 }, { "REJECT", 1 },
		{ "REJECT", 255 }, { "NOSUCH", 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int k = xtt_kernel(NULL, 0, p[i].name, p[i].rev);
		int ours = bf_xt4_target_revision(p[i].name, p[i].rev);

		ck_assert_msg(k == ours, "%s rev %u: kernel %d, ours %d", p[i].name,
			      p[i].rev, k, ours);
	}
}
END_TEST

static struct bf_ir *xtt_ir(void)
{
	struct bf_err err = { 0 };
	struct ipt_replace *r;
	struct bf_ir *ir = NULL;
	size_t len;

	r = xtu_load("targets", &len);
	ck_assert_msg(!bf_xt4_translate(r, len, &ir, &err), "%s", err.msg);
	free(r);
	return ir;
}

START_TEST(test_targets_ir_text)
{
	struct bf_ir *ir = xtt_ir();
	char line[512];

	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[0], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#1 [0] proto 6 l4(tcp,20) dport 22-22 -> LOG level 4 flags 0x0 prefix \"\"");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[1], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#2 [1] saddr 10.1.0.0/255.255.0.0 -> LOG level 7 flags 0x27 prefix \"in10: \"");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[2], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#3 [2] proto 6 l4(tcp,20) dport 23-23 -> REJECT tcp-reset");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[3], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#4 [3] proto 17 l4(udp,8) dport 53-53 -> REJECT icmp-port-unreachable");
	bf_ir_rule_str(ir, &ir->chains[0], &ir->chains[0].rules[9], line, sizeof(line));
	ck_assert_str_eq(line, "INPUT#10 [9] saddr 10.2.0.6/255.255.255.255 -> REJECT icmp-admin-prohibited");
	bf_ir_free(ir);
}
END_TEST

/* The IPv4 header checksum (the interpreter drops bad ones as ip_rcv). */
static void xtt_csum(uint8_t *p)
{
	uint32_t sum = 0;
	int i;

	p[10] = p[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = ~sum >> 8;
	p[11] = ~sum & 0xff;
}

/* A TCP SYN 10.x -> 10.0.0.1 */
static size_t xtt_tcp(uint8_t *p, const char *src, uint16_t dport)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, "10.0.0.1", p + 16);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = dport >> 8;
	p[23] = dport & 0xff;
	p[32] = 0x50;
	p[33] = 0x02;
	xtt_csum(p);
	return 40;
}

/* LOG changes no verdict and counts; REJECT is DROP for the verdict. */
START_TEST(test_targets_interp)
{
	struct bf_ir *ir = xtt_ir();
	struct xt_counters cnt[32] = { 0 };
	uint8_t p[64];
	size_t n;

	ck_assert_uint_le(ir->n_entries, 32);
	n = xtt_tcp(p, "10.9.0.1", 22);
	ck_assert_int_eq(bf_interp_run(ir, NF_INET_LOCAL_IN, p, n, "eth0", "", cnt), BF_V_ACCEPT);
	ck_assert_uint_eq(cnt[0].pcnt, 1);	/* the LOG rule matched and counted */
	ck_assert_uint_eq(cnt[11].pcnt, 1);	/* then the policy decided */
	n = xtt_tcp(p, "10.9.0.1", 23);
	ck_assert_int_eq(bf_interp_run(ir, NF_INET_LOCAL_IN, p, n, "eth0", "", cnt), BF_V_DROP);
	ck_assert_uint_eq(cnt[2].pcnt, 1);
	/* logdrop: LOG then DROP, both counted */
	n = xtt_tcp(p, "10.3.0.9", 80);
	ck_assert_int_eq(bf_interp_run(ir, NF_INET_LOCAL_IN, p, n, "eth0", "", cnt), BF_V_DROP);
	ck_assert_uint_eq(cnt[19].pcnt, 1);
	ck_assert_uint_eq(cnt[20].pcnt, 1);
	/* OUTPUT: LOG sport 80 then policy */
	p[20] = 0;
	p[21] = 80;
	ck_assert_int_eq(bf_interp_run(ir, NF_INET_LOCAL_OUT, p, n, "", "eth0", cnt), BF_V_ACCEPT);
	ck_assert_uint_eq(cnt[15].pcnt, 1);
	bf_ir_free(ir);
}
END_TEST

/* The LOG line of a known packet, as the kernel formats it (nf_log_syslog). */
START_TEST(test_logrec_format)
{
	static const uint8_t mac[14] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00 };
	struct bf_logrec rec = { 0 };
	char line[1024];
	size_t n;

	n = xtt_tcp(rec.data, "10.9.0.1", 22);
	rec.data[4] = 0x12;		/* ID 0x1234 */
	rec.data[5] = 0x34;
	rec.data[6] = 0x40;		/* DF */
	rec.data[1] = 0xb8;		/* TOS: PREC 0xA0, TOS 0x18 */
	rec.data[34] = 0xfa;		/* window 64240 */
	rec.data[35] = 0xf0;
	rec.caplen = n;
	rec.totlen = n;
	rec.hook = NF_INET_LOCAL_IN;
	rec.has_mac = 1;
	memcpy(rec.mac, mac, sizeof(mac));
	strcpy(rec.prefix, "pfx: ");
	bf_logrec_format(&rec, "veth0", "", line, sizeof(line));
	ck_assert_str_eq(line, "pfx: IN=veth0 OUT= MAC=02:00:00:00:00:02:02:00:00:00:00:01:08:00 "
			 "SRC=10.9.0.1 DST=10.0.0.1 LEN=40 TOS=0x18 PREC=0xA0 TTL=64 ID=4660 DF "
			 "PROTO=TCP SPT=12345 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	/* FORWARD: the TTL after ip_forward()'s decrement; macdecode; seq */
	rec.hook = NF_INET_FORWARD;
	rec.flags = XT_LOG_MACDECODE | XT_LOG_TCPSEQ;
	rec.prefix[0] = 0;
	bf_logrec_format(&rec, "veth0", "veth1", line, sizeof(line));
	ck_assert_str_eq(line, "IN=veth0 OUT=veth1 MACSRC=02:00:00:00:00:01 MACDST=02:00:00:00:00:02 MACPROTO=0800 "
			 "SRC=10.9.0.1 DST=10.0.0.1 LEN=40 TOS=0x18 PREC=0xA0 TTL=63 ID=4660 DF "
			 "PROTO=TCP SPT=12345 DPT=22 SEQ=0 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 ");
	/* OUTPUT: no MAC; a truncated TCP header */
	rec.hook = NF_INET_LOCAL_OUT;
	rec.flags = 0;
	rec.mark = 0x2a;
	rec.totlen = rec.caplen = 30;
	rec.data[3] = 30;
	bf_logrec_format(&rec, "", "veth0", line, sizeof(line));
	ck_assert_str_eq(line, "IN= OUT=veth0 SRC=10.9.0.1 DST=10.0.0.1 LEN=30 TOS=0x18 PREC=0xA0 "
			 "TTL=64 ID=4660 DF PROTO=TCP INCOMPLETE [10 bytes] ");
}
END_TEST

static Suite *xt_targets_suite(void)
{
	Suite *s = suite_create("xt_targets");
	TCase *tc = tcase_create("targets");

	tcase_add_loop_test(tc, test_targets_ours, 0, N_CASES);
	tcase_add_test(tc, test_targets_ir_text);
	tcase_add_test(tc, test_targets_interp);
	tcase_add_test(tc, test_logrec_format);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_targets_suite);

static Suite *xt_targets_kernel_suite(void)
{
	Suite *s = suite_create("xt_targets_kernel");
	TCase *tc = tcase_create("kernel");

	if (xtu_kernel_oracle("xt_targets_kernel")) {
		tcase_add_loop_test(tc, test_targets_kernel, 0, N_CASES);
		tcase_add_test(tc, test_targets_probes_kernel);
	}
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_targets_kernel_suite);
