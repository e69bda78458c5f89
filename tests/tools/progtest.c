// SPDX-License-Identifier: GPL-2.0
/*
 * progtest: real verdicts of generated programs. Builds IR by hand, loads
 * it, and runs hand-made frames through BPF_PROG_TEST_RUN at XDP, tc
 * ingress and tc egress with force_hook, checking the return code and the
 * counters read back. Needs root. TAP output; exit 4 = skipped.
 *
 *   progtest                 the table-driven cases
 *   progtest --random N      N random packets per table, BPF vs bf_interp_run
 *   progtest --fuzz N        N random tables x 200 random packets, same oracle
 *   progtest --bench         load time and ns/packet for 1..20k rules
 *   progtest --bench6        the same for an IPv6 table
 *   progtest --dump NAME     disassembly of a case table's XDP program
 *   progtest --limit         mark/addrtype in the interpreter; -m limit:
 *                            interpreter clock, BPF on every CPU
 *   progtest --v6 [N]        the IPv6 cases and random IPv6 tables only
 *   progtest --attach        attach and real-traffic tests only (IPv4, IPv6)
 *   progtest --ct [N]        the conntrack tables only (IPv4, IPv6; N random)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfilter/codegen.h"
#include "../unit/test_gen_ir.h"

/* ---- frames ------------------------------------------------------------------ */

struct pkt {
	uint32_t saddr, daddr;	/* host order */
	uint8_t proto;
	uint16_t frag;		/* raw frag_off field, host order */
	uint8_t ipopt_len;	/* IPv4 option bytes (NOPs), multiple of 4 */
	int tot_adj;		/* added to the true tot_len */
	bool bad_csum;
	uint16_t ethertype;	/* 0: IPv4 */
	uint16_t pad;		/* Ethernet padding after the datagram */
	bool ttl_set;		/* else TTL 64 */
	uint8_t ttl;
	uint8_t l2dst;		/* 0 00:..:00 (lo), 1 ff:..:ff, 2 01:00:5e:00:00:01 */
	uint8_t smac_last;	/* source MAC 02:00:00:00:00:<this> */
	uint8_t l4[128];
	uint16_t l4_len;
};

static struct pkt pkt_ip(const char *s, const char *d, uint8_t proto)
{
	struct pkt p = { .proto = proto };

	p.saddr = ntohl(inet_addr(s));
	p.daddr = ntohl(inet_addr(d));
	return p;
}

static struct pkt pkt_tcp(const char *s, const char *d, uint16_t sport,
			  uint16_t dport, uint8_t flags, const uint8_t *opts,
			  uint8_t optlen)
{
	struct pkt p = pkt_ip(s, d, 6);

	p.l4[0] = sport >> 8;
	p.l4[1] = sport;
	p.l4[2] = dport >> 8;
	p.l4[3] = dport;
	p.l4[12] = ((20 + optlen + 3) / 4) << 4;
	p.l4[13] = flags;
	memcpy(p.l4 + 20, opts, optlen);
	p.l4_len = 20 + (optlen + 3) / 4 * 4;
	return p;
}

static struct pkt pkt_udp(const char *s, const char *d, uint16_t sport,
			  uint16_t dport)
{
	struct pkt p = pkt_ip(s, d, 17);

	p.l4[0] = sport >> 8;
	p.l4[1] = sport;
	p.l4[2] = dport >> 8;
	p.l4[3] = dport;
	p.l4[5] = 8;
	p.l4_len = 8;
	return p;
}

static struct pkt pkt_icmp(const char *s, const char *d, uint8_t type,
			   uint8_t code)
{
	struct pkt p = pkt_ip(s, d, 1);

	p.l4[0] = type;
	p.l4[1] = code;
	p.l4_len = 8;
	return p;
}

static uint16_t csum16(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Ethernet frame (dst 00:00:00:00:00:00 = lo's address) into buf. */
static size_t pkt_frame(const struct pkt *p, uint8_t *buf)
{
	uint8_t *ip = buf + ETH_HLEN;
	size_t ihl = 20 + p->ipopt_len, tot = ihl + p->l4_len;
	uint16_t c, et = p->ethertype ? p->ethertype : ETH_P_IP;

	memset(buf, 0, ETH_HLEN + tot + p->pad);
	if (p->l2dst == 1)
		memset(buf, 0xff, 6);
	if (p->l2dst == 2)
		memcpy(buf, "\x01\x00\x5e\x00\x00\x01", 6);
	buf[6] = 0x02;
	buf[11] = p->smac_last;
	buf[12] = et >> 8;
	buf[13] = et;
	ip[0] = 0x40 | (ihl / 4);
	ip[2] = (tot + p->tot_adj) >> 8;
	ip[3] = (tot + p->tot_adj);
	ip[6] = p->frag >> 8;
	ip[7] = p->frag;
	ip[8] = p->ttl_set ? p->ttl : 64;
	ip[9] = p->proto;
	*(uint32_t *)(ip + 12) = htonl(p->saddr);
	*(uint32_t *)(ip + 16) = htonl(p->daddr);
	memset(ip + 20, 1, p->ipopt_len);	/* NOP options */
	c = csum16(ip, ihl) ^ (p->bad_csum ? 0x1234 : 0);
	ip[10] = c >> 8;
	ip[11] = c;
	memcpy(ip + ihl, p->l4, p->l4_len);
	return ETH_HLEN + tot + p->pad;
}

/* ---- running ------------------------------------------------------------------ */

enum expect { E_ACCEPT, E_DROP, E_PASS /* unfiltered */ };

#define MAX_CNT 6
struct tcase {
	const char *name;
	struct pkt pkt;
	int hook;		/* NF_INET_* forced */
	uint32_t iif, oif;	/* ifindex */
	enum expect expect;
	int counters[MAX_CNT];	/* entry indices counted, -1 terminated */
};

static int tap_n, tap_fail;

static void tap(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		tap_fail++;
}

static const enum bf_hook test_hooks[] = {
	BF_HOOK_XDP, BF_HOOK_TC_INGRESS, BF_HOOK_TC_EGRESS,
};
static const char *const hook_names[] = { "xdp", "tc_in", "tc_out" };

static int expect_code(enum bf_hook h, enum expect e)
{
	if (h == BF_HOOK_XDP)
		return e == E_DROP ? XDP_DROP : XDP_PASS;
	return e == E_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

struct loaded {
	struct bf_maps maps;
	int fd[3][BF_NR_HOOKS];	/* [bf_hook][forced nf hook] */
};

static void dump_line(void *ctx, const char *line)
{
	fprintf(ctx, "%s\n", line);
}

static int load_one(const struct bf_ir *ir, enum bf_hook h, int force,
		    const struct bf_maps *maps, uint32_t piece, bool dump)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = h,
				 .force_hook = force, .piece_rules = piece };
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	int ret;

	ret = bf_gen(ir, &o, &prog, &err);
	if (ret) {
		printf("# bf_gen: %d %s\n", ret, err.msg);
		return ret;
	}
	if (dump)
		bf_prog_dump(prog, dump_line, stdout);
	ret = bf_prog_load(prog, maps, &err);
	if (ret < 0) {
		printf("# bf_prog_load: %s\n", err.msg);
		if (err.verifier_log) {
			size_t n = strlen(err.verifier_log);

			printf("# ...%s\n", err.verifier_log +
			       (n > 3000 ? n - 3000 : 0));
		}
	}
	bf_prog_free(prog);
	bf_err_clear(&err);
	return ret;
}

static int run_frame(int fd, const uint8_t *frame, size_t len, uint32_t *ret)
{
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return -errno;
	*ret = o.retval;
	return 0;
}

static bool counters_ok(const struct tcase *c, const struct xt_counters *a,
			const struct xt_counters *b, uint32_t n,
			uint32_t bytes, char *why, size_t len)
{
	uint32_t i;
	int k;

	for (i = 0; i < n; i++) {
		bool want = false;

		for (k = 0; k < MAX_CNT && c->counters[k] >= 0; k++)
			if ((uint32_t)c->counters[k] == i)
				want = true;
		if (b[i].pcnt - a[i].pcnt != (want ? 1u : 0u) ||
		    b[i].bcnt - a[i].bcnt != (want ? bytes : 0u)) {
			snprintf(why, len, "counter %u: +%llu pkts +%llu bytes, want %s",
				 i, (unsigned long long)(b[i].pcnt - a[i].pcnt),
				 (unsigned long long)(b[i].bcnt - a[i].bcnt),
				 want ? "1" : "0");
			return false;
		}
	}
	return true;
}

static void run_case(const struct bf_ir *ir, struct loaded *l, enum bf_hook h,
		     const struct tcase *c, const char *table)
{
	struct xt_counters *a = calloc(ir->n_entries, sizeof(*a));
	struct xt_counters *b = calloc(ir->n_entries, sizeof(*b));
	struct bf_test_ifs ifs = { c->iif, c->oif };
	uint8_t frame[256];
	uint32_t key = 0, code = 0;
	size_t len = pkt_frame(&c->pkt, frame);
	uint32_t bytes = len - ETH_HLEN - c->pkt.pad;
	char why[160] = "";
	bool ok;
	int ret;

	bpf_map_update_elem(l->maps.fd[BF_MAP_TEST], &key, &ifs, BPF_ANY);
	bf_maps_read_counters(&l->maps, a);
	ret = run_frame(l->fd[h][c->hook], frame, len, &code);
	bf_maps_read_counters(&l->maps, b);
	ok = !ret && code == (uint32_t)expect_code(h, c->expect);
	if (!ok)
		snprintf(why, sizeof(why), "ret %d code %u want %d", ret, code,
			 expect_code(h, c->expect));
	else
		ok = counters_ok(c, a, b, ir->n_entries, bytes, why, sizeof(why));
	tap(ok, "%s/%s: %s%s%s", table, hook_names[h], c->name,
	    ok ? "" : ": ", why);
	free(a);
	free(b);
}

static int load_table(const struct bf_ir *ir, struct loaded *l, uint32_t piece)
{
	struct bf_err err = { 0 };
	int h, f, ret;

	memset(l->fd, -1, sizeof(l->fd));
	ret = bf_maps_create(ir, &l->maps, &err);
	if (ret) {
		printf("# maps: %s\n", err.msg);
		return ret;
	}
	ret = bf_maps_sync_ifaces(ir, &l->maps);
	if (ret)
		printf("# sync_ifaces: %d\n", ret);
	for (h = 0; h < 3; h++)
		for (f = NF_INET_LOCAL_IN; f <= NF_INET_LOCAL_OUT; f++)
			l->fd[h][f] = load_one(ir, test_hooks[h], f, &l->maps,
					       piece, false);
	return 0;
}

static void unload_table(struct loaded *l)
{
	int h, f;

	for (h = 0; h < 3; h++)
		for (f = 0; f < BF_NR_HOOKS; f++)
			if (l->fd[h][f] >= 0)
				close(l->fd[h][f]);
	bf_maps_close(&l->maps);
}

/* ---- random packets: BPF against the reference interpreter ------------------- */

static unsigned int random_n;
static bool random_quiet;	/* fuzz: no TAP line per run, keep the reason */
static char random_first[200];

static uint32_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (uint32_t)x;
}

/* Mutate one of the table's hand-made packets. */
static struct pkt random_pkt(const struct tcase *cases, size_t n)
{
	struct pkt p = cases[rnd() % n].pkt;
	int k, muts = 1 + rnd() % 3;

	for (k = 0; k < muts; k++) {
		switch (rnd() % 15) {
		case 0: p.saddr ^= 1u << (rnd() % 32); break;
		case 1: p.daddr ^= 1u << (rnd() % 32); break;
		case 2: p.l4[rnd() % 4] ^= 1u << (rnd() % 8); break;
		case 3: p.l4[13] = rnd(); break;
		case 4: p.frag = (rnd() % 3 == 0) ? 0x2000 : rnd() % 3; break;
		case 5: p.l4_len = rnd() % 60; break;
		case 6: p.pad = rnd() % 40; break;
		case 7: p.l4[12] = (rnd() % 16) << 4; break;
		case 8: p.l4[20 + rnd() % 24] = rnd() % 12; break;
		case 9: p.proto = (uint8_t[]){ 1, 6, 17, 47 }[rnd() % 4]; break;
		case 10: p.ipopt_len = 4 * (rnd() % 3); break;
		case 11: p.l4[0] = rnd() % 16; p.l4[1] = rnd() % 8; break;
		case 12: p.ttl_set = true; p.ttl = rnd(); break;
		case 13: p.l2dst = rnd() % 3; break;
		case 14: p.smac_last = rnd() % 10; break;
		}
	}
	if (rnd() % 50 == 0)
		p.bad_csum = true;
	return p;
}

static void run_random(const struct bf_ir *ir, struct loaded *l,
		       enum bf_hook h, const struct tcase *cases, size_t n,
		       const char *table)
{
	static const int hooks[] = {
		NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT,
	};
	struct xt_counters *a = calloc(ir->n_entries, sizeof(*a));
	struct xt_counters *b = calloc(ir->n_entries, sizeof(*b));
	struct xt_counters *want = calloc(ir->n_entries, sizeof(*want));
	unsigned int i, bad = 0;
	char first[200] = "";

	for (i = 0; i < random_n; i++) {
		struct pkt p = random_pkt(cases, n);
		struct bf_test_ifs ifs = { rnd() % 2, rnd() % 2 };
		int hook = hooks[rnd() % 3], v;
		uint8_t frame[256];
		size_t len = pkt_frame(&p, frame);
		uint32_t key = 0, code = 999, k;
		enum expect e;
		bool ok;

		memset(want, 0, ir->n_entries * sizeof(*want));
		v = bf_interp_run_frame(ir, hook, frame, len,
					ifs.iif ? "lo" : "", ifs.oif ? "lo" : "",
					want);
		e = v == BF_V_DROP ? E_DROP : v == BF_V_ACCEPT ? E_ACCEPT : E_PASS;
		if (p.ethertype && p.ethertype != ETH_P_IP) {
			/* not IPv4 at L2: the interpreter only sees L3 */
			e = E_PASS;
			memset(want, 0, ir->n_entries * sizeof(*want));
		}
		bpf_map_update_elem(l->maps.fd[BF_MAP_TEST], &key, &ifs, BPF_ANY);
		bf_maps_read_counters(&l->maps, a);
		run_frame(l->fd[h][hook], frame, len, &code);
		bf_maps_read_counters(&l->maps, b);
		ok = v >= 0 && code == (uint32_t)expect_code(h, e);
		for (k = 0; ok && k < ir->n_entries; k++)
			ok = b[k].pcnt - a[k].pcnt == want[k].pcnt &&
			     b[k].bcnt - a[k].bcnt == want[k].bcnt;
		if (!ok && !bad++)
			snprintf(first, sizeof(first),
				 "packet %u hook %d iif %u oif %u: interp %d, code %u; counter %u; %08x->%08x proto %u frag %x l4 %u pad %u",
				 i, hook, ifs.iif, ifs.oif, v, code,
				 k ? k - 1 : 0, p.saddr, p.daddr, p.proto,
				 p.frag, p.l4_len, p.pad);
	}
	snprintf(random_first, sizeof(random_first), "%s", first);
	if (random_quiet) {
		if (bad)
			tap_fail++;
	} else {
		tap(!bad, "%s/%s: %u random packets agree with bf_interp_run%s%s",
		    table, hook_names[h], random_n, bad ? ": " : "", first);
	}
	free(a);
	free(b);
	free(want);
}

static void run_table(const char *name, struct bf_ir *ir,
		      const struct tcase *cases, size_t n, uint32_t piece)
{
	struct loaded l;
	size_t i;
	int h;

	tb_finish(ir);
	if (load_table(ir, &l, piece)) {
		tap(false, "%s: load", name);
		return;
	}
	for (h = 0; h < 3; h++) {
		bool loaded = l.fd[h][NF_INET_LOCAL_IN] >= 0 &&
			      l.fd[h][NF_INET_FORWARD] >= 0 &&
			      l.fd[h][NF_INET_LOCAL_OUT] >= 0;

		tap(loaded, "%s/%s: programs load", name, hook_names[h]);
		if (!loaded)
			continue;
		for (i = 0; i < n; i++)
			run_case(ir, &l, test_hooks[h], &cases[i], name);
		if (random_n)
			run_random(ir, &l, test_hooks[h], cases, n, name);
	}
	unload_table(&l);
}

/* ---- tables -------------------------------------------------------------------- */

#define IP(s)		ntohl(inet_addr(s))
#define NIP(s)		inet_addr(s)		/* network order */
#define CNT(...)	{ __VA_ARGS__, -1 }
#define NONE		{ -1 }
#define IN		NF_INET_LOCAL_IN
#define FWD		NF_INET_FORWARD
#define OUT		NF_INET_LOCAL_OUT

static struct pkt with_frag(struct pkt p, uint16_t frag)
{
	p.frag = frag;
	return p;
}

static struct pkt with(struct pkt p, int what, int v)
{
	switch (what) {
	case 0: p.bad_csum = true; break;
	case 1: p.ethertype = v; break;
	case 2: p.tot_adj = v; break;
	case 3: p.ipopt_len = v; break;
	case 4: p.pad = v; break;
	case 5: p.l4_len = v; break;
	case 6: p.l4[12] = v; break;
	case 7: p.ttl_set = true; p.ttl = v; break;
	case 8: p.l2dst = v; break;
	case 9: p.smac_last = v; break;
	}
	return p;
}

static void table_addr(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t fwd, out;
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_pred(r, BF_F_SADDR4, false, NIP("10.0.0.0"), NIP("255.0.0.0"), 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_pred(r, BF_F_DADDR4, true, NIP("192.168.1.1"), 0xffffffff, 0, 0, 0);
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);
	tb_pred(r, BF_F_PROTO, false, 1, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_COMMENT, false, 0, 0, 0, 0, 0);
	tb_pred(r, BF_F_SADDR4, false, NIP("172.16.0.0"), NIP("255.240.0.0"), 0, 0, 0);
	fwd = tb_chain(ir, "FORWARD", FWD, BF_V_DROP, true);
	r = tb_rule(ir, fwd, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_FRAG, false, 0, 0, 0, 0, 0);
	r = tb_rule(ir, fwd, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_FRAG, true, 0, 0, 0, 0, 0);
	tb_pred(r, BF_F_SADDR4, false, NIP("1.2.3.4"), 0xffffffff, 0, 0, 0);
	out = tb_chain(ir, "OUTPUT", OUT, BF_V_ACCEPT, true);
	r = tb_rule(ir, out, BF_V_DROP, 0);
	tb_pred(r, BF_F_DADDR4, false, NIP("8.8.8.8"), 0xffffffff, 0, 0, 0);

	struct tcase c[] = {
		{ "saddr 10/8 drop", pkt_tcp("10.1.2.3", "192.168.1.1", 1, 2, 0, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "saddr mismatch: policy", pkt_udp("11.0.0.1", "192.168.1.1", 1, 2), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "!daddr + proto udp", pkt_udp("11.0.0.1", "192.168.1.2", 1, 2), IN, 1, 0, E_DROP, CNT(1) },
		{ "!daddr but tcp", pkt_tcp("11.0.0.1", "192.168.1.2", 1, 2, 0, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "icmp counted, no verdict", pkt_icmp("11.0.0.1", "192.168.1.1", 8, 0), IN, 1, 0, E_ACCEPT, CNT(2, 4) },
		{ "172.16/12 accept", pkt_tcp("172.31.0.1", "192.168.1.1", 1, 2, 0, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(3) },
		{ "172.32 not in /12", pkt_tcp("172.32.0.1", "192.168.1.1", 1, 2, 0, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "ip options", with(pkt_tcp("10.1.2.3", "192.168.1.1", 1, 2, 0, NULL, 0), 3, 8), IN, 1, 0, E_DROP, CNT(0) },
		{ "fragment accepted", with_frag(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 5), FWD, 1, 2, E_ACCEPT, CNT(5) },
		{ "MF alone is not a fragment", with_frag(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 0x2000), FWD, 1, 2, E_DROP, CNT(7) },
		{ "!frag + saddr", pkt_udp("1.2.3.4", "2.2.2.2", 1, 2), FWD, 1, 2, E_ACCEPT, CNT(6) },
		{ "output drop", pkt_udp("1.1.1.1", "8.8.8.8", 1, 53), OUT, 0, 1, E_DROP, CNT(8) },
		{ "output policy", pkt_udp("1.1.1.1", "8.8.4.4", 1, 53), OUT, 0, 1, E_ACCEPT, CNT(9) },
		{ "bad checksum: unfiltered", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 0, 0), FWD, 1, 2, E_PASS, NONE },
		{ "ARP ethertype: unfiltered", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 1, 0x0806), FWD, 1, 2, E_PASS, NONE },
		{ "VLAN ethertype: unfiltered", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 1, 0x8100), FWD, 1, 2, E_PASS, NONE },
		{ "tot_len past frame: unfiltered", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 2, 10), FWD, 1, 2, E_PASS, NONE },
		{ "tot_len < ihl*4: unfiltered", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 2, -9), FWD, 1, 2, E_PASS, NONE },
		{ "tot_len short, padded frame", with(pkt_udp("9.9.9.9", "2.2.2.2", 1, 2), 4, 18), FWD, 1, 2, E_DROP, CNT(7) },
	};
	run_table("addr", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void add_l4hdr(struct bf_rule *r, uint8_t proto, uint32_t lo,
		      uint32_t flags)
{
	tb_pred(r, BF_F_PROTO, false, proto, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, proto, 0, lo, 0, flags);
}

static void table_l4(void)
{
	static const uint8_t mss[] = { 2, 4, 5, 0xb4 };
	static const uint8_t ts[] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	static const uint8_t sackp[] = { 4, 2, 1, 1 };
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_DROP, true);
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 0 */
	add_l4hdr(r, 6, 20, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_SPORT, false, 0, 0, 1000, 2000, 0);
	tb_pred(r, BF_F_DPORT, false, 0, 0, 22, 22, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 1 */
	add_l4hdr(r, 6, 20, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_DPORT, true, 0, 0, 0, 1023, 0);
	tb_pred(r, BF_F_TCPFLAGS, false, 0x02, 0x17, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 2 */
	add_l4hdr(r, 17, 8, 0);
	tb_pred(r, BF_F_DPORT, false, 0, 0, 53, 53, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3 */
	add_l4hdr(r, 17, 8, 0);
	tb_pred(r, BF_F_SPORT, true, 0, 0, 100, 200, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 4 */
	add_l4hdr(r, 1, 4, 0);
	tb_pred(r, BF_F_ICMP, false, 8, 0, 0, 255, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);		/* 5 */
	add_l4hdr(r, 1, 4, 0);
	tb_pred(r, BF_F_ICMP, true, 3, 0, 1, 3, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 6 */
	add_l4hdr(r, 6, 20, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_TCPOPT, false, 2, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);		/* 7 */
	add_l4hdr(r, 6, 20, BF_L4_EVIL_FRAG);
	tb_pred(r, BF_F_TCPOPT, true, 8, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);		/* 8: any icmp, inverted: never */
	add_l4hdr(r, 1, 4, 0);
	tb_pred(r, BF_F_ICMP, true, 0xff, 0, 0, 255, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);		/* 9: any icmp */
	add_l4hdr(r, 1, 4, 0);
	tb_pred(r, BF_F_ICMP, false, 0xff, 0, 0, 255, 0);
	/* policy: 10 */

	struct tcase c[] = {
		{ "tcp sport+dport", pkt_tcp("1.1.1.1", "2.2.2.2", 1500, 22, 0x02, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(0) },
		{ "tcp sport out of range", pkt_tcp("1.1.1.1", "2.2.2.2", 999, 22, 0x10, NULL, 0), IN, 1, 0, E_DROP, CNT(7, 10) },
		{ "tcp sport range top", pkt_tcp("1.1.1.1", "2.2.2.2", 2000, 22, 0x10, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(0) },
		{ "tcp !dport + SYN", pkt_tcp("1.1.1.1", "2.2.2.2", 40000, 8080, 0x02, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(1) },
		{ "tcp !dport + SYN/ACK", pkt_tcp("1.1.1.1", "2.2.2.2", 40000, 8080, 0x12, NULL, 0), IN, 1, 0, E_DROP, CNT(7, 10) },
		{ "tcp SYN|PSH ignores PSH", pkt_tcp("1.1.1.1", "2.2.2.2", 40000, 1024, 0x0a, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(1) },
		{ "tcp mss option", pkt_tcp("1.1.1.1", "2.2.2.2", 999, 80, 0x10, mss, 4), IN, 1, 0, E_ACCEPT, CNT(6) },
		{ "tcp timestamp after NOPs", pkt_tcp("1.1.1.1", "2.2.2.2", 999, 80, 0x10, ts, 12), IN, 1, 0, E_DROP, CNT(10) },
		{ "tcp kind 2 only as a length", pkt_tcp("1.1.1.1", "2.2.2.2", 999, 80, 0x10, sackp, 4), IN, 1, 0, E_DROP, CNT(7, 10) },
		{ "tcp doff 4: option hotdrop", with(pkt_tcp("1.1.1.1", "2.2.2.2", 999, 80, 0x10, NULL, 0), 6, 0x40), IN, 1, 0, E_DROP, NONE },
		{ "tcp options past datagram: hotdrop", with(pkt_tcp("1.1.1.1", "2.2.2.2", 999, 80, 0x10, mss, 4), 6, 0xf0), IN, 1, 0, E_DROP, NONE },
		{ "tcp short header: hotdrop", with(pkt_tcp("1.1.1.1", "2.2.2.2", 1500, 22, 0x02, NULL, 0), 5, 10), IN, 1, 0, E_DROP, NONE },
		{ "tcp short datagram in padded frame: hotdrop", with(with(pkt_tcp("1.1.1.1", "2.2.2.2", 1500, 22, 0x02, NULL, 0), 5, 10), 4, 30), IN, 1, 0, E_DROP, NONE },
		{ "tcp evil fragment: hotdrop", with_frag(pkt_tcp("1.1.1.1", "2.2.2.2", 1500, 22, 0x02, NULL, 0), 1), IN, 1, 0, E_DROP, NONE },
		{ "tcp fragment: no L4 match", with_frag(pkt_tcp("1.1.1.1", "2.2.2.2", 1500, 22, 0x02, NULL, 0), 5), IN, 1, 0, E_DROP, CNT(10) },
		{ "udp dport 53", pkt_udp("1.1.1.1", "2.2.2.2", 5000, 53), IN, 1, 0, E_ACCEPT, CNT(2) },
		{ "udp sport in range: !sport false", pkt_udp("1.1.1.1", "2.2.2.2", 150, 54), IN, 1, 0, E_DROP, CNT(10) },
		{ "udp !sport drop", pkt_udp("1.1.1.1", "2.2.2.2", 300, 54), IN, 1, 0, E_DROP, CNT(3) },
		{ "udp short: hotdrop", with(pkt_udp("1.1.1.1", "2.2.2.2", 300, 53), 5, 4), IN, 1, 0, E_DROP, NONE },
		{ "udp fragment evil offset 1: no match", with_frag(pkt_udp("1.1.1.1", "2.2.2.2", 5000, 53), 1), IN, 1, 0, E_DROP, CNT(10) },
		{ "icmp echo", pkt_icmp("1.1.1.1", "2.2.2.2", 8, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "icmp 3/2: !(3/1-3) false", pkt_icmp("1.1.1.1", "2.2.2.2", 3, 2), IN, 1, 0, E_DROP, CNT(9, 10) },
		{ "icmp 3/4: !(3/1-3) true", pkt_icmp("1.1.1.1", "2.2.2.2", 3, 4), IN, 1, 0, E_DROP, CNT(5, 9, 10) },
	};
	run_table("l4", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

/* Multiport group: side, inv, then n items (lo, hi, range). */
static void add_mport(struct bf_rule *r, uint32_t side, bool inv, uint32_t n,
		      const uint32_t (*items)[3])
{
	uint32_t i;

	tb_pred(r, BF_F_MPORT, inv, side, 0, n, 0, 0);
	for (i = 0; i < n; i++)
		tb_pred(r, BF_F_MPORT_ITEM, false, 0, 0, items[i][0], items[i][1],
			items[i][2] ? BF_MPORT_RANGE : 0);
}

static void table_matches(void)
{
	static const uint32_t dports[][3] = { { 22, 22, 0 }, { 80, 80, 0 }, { 1000, 2000, 1 } };
	static const uint32_t sports[][3] = { { 53, 53, 0 }, { 5000, 5001, 1 } };
	static const uint32_t either[][3] = { { 7, 7, 0 } };
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 0: tcp dports 22,80,1000:2000 */
	tb_pred(r, BF_F_PROTO, false, 6, 0, 0, 0, 0);
	add_mport(r, 1, false, 3, dports);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 1: udp ! sports 53,5000:5001, ports 7 */
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	add_mport(r, 0, true, 2, sports);
	add_mport(r, 2, false, 1, either);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 2: iprange */
	tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0x21);
	tb_pred(r, BF_F_SRANGE4, false, 0, 0, 0x0a010005, 0x0a010009, 0);
	tb_pred(r, BF_F_DRANGE4, true, 0, 0, 0xc8000000, 0xc8ffffff, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3: iprange across 128.0.0.0 */
	tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0x01);
	tb_pred(r, BF_F_SRANGE4, false, 0, 0, 0x7fffff00, 0x800000ff, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 4: length 100-200 */
	tb_pred(r, BF_F_PROTO, false, 1, 0, 0, 0, 0);
	tb_pred(r, BF_F_LENGTH, false, 0, 0, 100, 200, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 5: ! length 20-110 */
	tb_pred(r, BF_F_LENGTH, true, 0, 0, 20, 110, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 6: ttl == 5 */
	tb_pred(r, BF_F_TTL, false, 5, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 7: ttl != 64, ttl < 100 */
	tb_pred(r, BF_F_TTL, false, 64, 0, 0, 0, 1);
	tb_pred(r, BF_F_TTL, false, 100, 0, 0, 0, 2);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 8: ttl > 250 */
	tb_pred(r, BF_F_TTL, false, 250, 0, 0, 0, 3);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 9: ttl mode 9: never */
	tb_pred(r, BF_F_TTL, false, 1, 0, 0, 0, 9);
	/* policy: 10 */

	struct tcase c[] = {
		{ "multiport dport 22", pkt_tcp("1.1.1.1", "2.2.2.2", 1, 22, 0x02, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "multiport dport 1000", pkt_tcp("1.1.1.1", "2.2.2.2", 1, 1000, 0x02, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "multiport dport 2001", pkt_tcp("1.1.1.1", "2.2.2.2", 1, 2001, 0x02, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "multiport sport 22 is not dport", pkt_tcp("1.1.1.1", "2.2.2.2", 22, 23, 0x02, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "multiport fragment: no match", with_frag(pkt_tcp("1.1.1.1", "2.2.2.2", 1, 22, 0x02, NULL, 0), 5), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "multiport 3 L4 bytes: hotdrop", with(pkt_tcp("1.1.1.1", "2.2.2.2", 1, 2001, 0x02, NULL, 0), 5, 3), IN, 1, 0, E_DROP, NONE },
		{ "multiport 4 L4 bytes: read", with(pkt_tcp("1.1.1.1", "2.2.2.2", 1, 2001, 0x02, NULL, 0), 5, 4), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "multiport !sports true, ports 7", pkt_udp("1.1.1.1", "2.2.2.2", 54, 7), IN, 1, 0, E_DROP, CNT(1) },
		{ "multiport !sports false", pkt_udp("1.1.1.1", "2.2.2.2", 5001, 7), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "multiport either: sport 7", pkt_udp("1.1.1.1", "2.2.2.2", 7, 9), IN, 1, 0, E_DROP, CNT(1) },
		{ "iprange in, ! dst true", pkt_icmp("10.1.0.5", "9.9.9.9", 0, 0), IN, 1, 0, E_DROP, CNT(2) },
		{ "iprange in, ! dst false", pkt_icmp("10.1.0.9", "200.1.1.1", 0, 0), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "iprange src above", pkt_icmp("10.1.0.10", "9.9.9.9", 0, 0), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "iprange high half", pkt_icmp("128.0.0.1", "9.9.9.9", 0, 0), IN, 1, 0, E_DROP, CNT(3) },
		{ "iprange low half", pkt_icmp("127.255.255.1", "9.9.9.9", 0, 0), IN, 1, 0, E_DROP, CNT(3) },
		{ "iprange above 128.0.0.255", pkt_icmp("128.0.1.0", "9.9.9.9", 0, 0), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "length 100", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 5, 80), IN, 1, 0, E_DROP, CNT(4) },
		{ "length 99", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 5, 79), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "length 110 tcp: ! 20-110 false", with(pkt_tcp("1.1.1.1", "2.2.2.2", 1, 3, 0x02, NULL, 0), 5, 90), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "length 111: ! 20-110 true", with(pkt_tcp("1.1.1.1", "2.2.2.2", 1, 3, 0x02, NULL, 0), 5, 91), IN, 1, 0, E_DROP, CNT(5) },
		{ "ttl 5", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 5), IN, 1, 0, E_DROP, CNT(6) },
		{ "ttl 64", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 64), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "ttl 99", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 99), IN, 1, 0, E_DROP, CNT(7) },
		{ "ttl 100", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 100), IN, 1, 0, E_ACCEPT, CNT(10) },
		{ "ttl 251", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 251), IN, 1, 0, E_DROP, CNT(8) },
		{ "ttl 250", with(pkt_icmp("1.1.1.1", "2.2.2.2", 0, 0), 7, 250), IN, 1, 0, E_ACCEPT, CNT(10) },
	};
	run_table("matches", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

/* pkttype and mac: what the frame's Ethernet header says */
/*
 * -m conntrack: the state a packet gets when the kernel has no entry for
 * it (gen_ct.c's lookups miss in this fresh namespace), BPF against the
 * interpreter and the expectation. Runs in a namespace of its own: the
 * program switches the kernel's tracking on where it is loaded (an
 * nf_tables table), which must not touch the caller's namespace.
 */
static struct pkt ct_icmp_err(uint8_t inner_proto)
{
	struct pkt p = pkt_icmp("3.3.3.3", "9.9.9.9", 3, 3);

	p.l4[8] = 0x45;
	p.l4[8 + 9] = inner_proto;
	memcpy(p.l4 + 8 + 12, "\x09\x09\x09\x09\x08\x08\x08\x08", 8);
	p.l4[28 + 1] = 53;
	p.l4_len = 36;
	return p;
}

static void table_ct(void)
{
	struct bf_ir *ir;
	uint32_t in;
	struct bf_rule *r;
	struct pkt ulen_small = pkt_udp("3.3.3.3", "9.9.9.9", 1, 53);
	struct pkt ulen_big = pkt_udp("3.3.3.3", "9.9.9.9", 1, 53);

	if (unshare(CLONE_NEWNET)) {
		tap(false, "ct: unshare(CLONE_NEWNET): %s", strerror(errno));
		return;
	}
	ulen_small.l4[5] = 4;
	ulen_big.l4[5] = 200;
	ir = tb_new();
	in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 0: INVALID */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_INVALID, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 1: ESTABLISHED */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_ESTABLISHED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 2: RELATED */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_RELATED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3: ! NEW,UNTRACKED */
	tb_pred(r, BF_F_CTSTATE, true, BF_CT_NEW | BF_CT_UNTRACKED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 4: NEW (xt_state) */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_NEW, 0, 0, 0, 0);
	/* policy: 5 */

	struct tcase c[] = {
		{ "tcp SYN: NEW", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x02, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp ACK: NEW (loose)", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x10, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp PSH ACK URG: NEW", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x38, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp SYN ECE CWR: NEW", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0xc2, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp FIN ACK: INVALID", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x11, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp SYN ACK: INVALID", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x12, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp RST: INVALID", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x04, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp SYN FIN: INVALID", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x03, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp no flags: INVALID", pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x00, NULL, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp doff 4: INVALID", with(pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x02, NULL, 0), 6, 0x40), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp 12 bytes: INVALID", with(pkt_tcp("3.3.3.3", "9.9.9.9", 1, 22, 0x02, NULL, 0), 5, 12), IN, 1, 0, E_DROP, CNT(0) },
		{ "udp: NEW", pkt_udp("3.3.3.3", "9.9.9.9", 1, 53), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "udp length 4: INVALID", ulen_small, IN, 1, 0, E_DROP, CNT(0) },
		{ "udp length past the datagram: INVALID", ulen_big, IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp echo: NEW", pkt_icmp("3.3.3.3", "9.9.9.9", 8, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		/* no request in the ICMP query tracker (test programs only read it) */
		{ "icmp echo reply, no request: INVALID", pkt_icmp("3.3.3.3", "9.9.9.9", 0, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp timestamp reply, no request: INVALID", pkt_icmp("3.3.3.3", "9.9.9.9", 14, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp unreach, nothing quoted: INVALID", pkt_icmp("3.3.3.3", "9.9.9.9", 3, 3), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp unreach, unknown udp flow: INVALID", ct_icmp_err(17), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp unreach, quoted gre: INVALID", ct_icmp_err(47), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp redirect 9: INVALID", pkt_icmp("3.3.3.3", "9.9.9.9", 9, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp type 42: INVALID", pkt_icmp("3.3.3.3", "9.9.9.9", 42, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "non-first fragment: ESTABLISHED", with_frag(pkt_udp("3.3.3.3", "9.9.9.9", 1, 53), 0x0010), IN, 1, 0, E_DROP, CNT(1) },
		{ "gre: NEW", pkt_ip("3.3.3.3", "9.9.9.9", 47), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp SYN in OUTPUT: NEW", pkt_tcp("9.9.9.9", "3.3.3.3", 1, 22, 0x02, NULL, 0), OUT, 0, 1, E_ACCEPT, NONE },
	};
	run_table("ct", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void table_l2(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 0: broadcast */
	tb_pred(r, BF_F_PKTTYPE, false, 1, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 1: 1.1.1.1 ! unicast */
	tb_pred(r, BF_F_SADDR4, false, NIP("1.1.1.1"), 0xffffffff, 0, 0, 0);
	tb_pred(r, BF_F_PKTTYPE, true, 0, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 2: smac 02:00:00:00:00:07 */
	tb_pred(r, BF_F_SMAC, false, 0x02000000, 0, 0x0007, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3: 2.2.2.2 ! smac ..:08 */
	tb_pred(r, BF_F_SADDR4, false, NIP("2.2.2.2"), 0xffffffff, 0, 0, 0);
	tb_pred(r, BF_F_SMAC, true, 0x02000000, 0, 0x0008, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 4: pkttype 9: never */
	tb_pred(r, BF_F_PKTTYPE, false, 9, 0, 0, 0, 0);
	/* policy: 5 */

	struct tcase c[] = {
		{ "broadcast", with(pkt_icmp("3.3.3.3", "9.9.9.9", 0, 0), 8, 1), IN, 1, 0, E_DROP, CNT(0) },
		{ "multicast is not broadcast", with(pkt_icmp("3.3.3.3", "9.9.9.9", 0, 0), 8, 2), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "! unicast: multicast", with(pkt_icmp("1.1.1.1", "9.9.9.9", 0, 0), 8, 2), IN, 1, 0, E_DROP, CNT(1) },
		{ "! unicast: unicast", pkt_icmp("1.1.1.1", "9.9.9.9", 0, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "smac equal", with(pkt_icmp("3.3.3.3", "9.9.9.9", 0, 0), 9, 7), IN, 1, 0, E_DROP, CNT(2) },
		{ "smac last byte differs", with(pkt_icmp("3.3.3.3", "9.9.9.9", 0, 0), 9, 6), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "! smac: equal", with(pkt_icmp("2.2.2.2", "9.9.9.9", 0, 0), 9, 8), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "! smac: differs", with(pkt_icmp("2.2.2.2", "9.9.9.9", 0, 0), 9, 9), IN, 1, 0, E_DROP, CNT(3) },
	};
	run_table("l2", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static struct bf_rule *rule_saddr(struct bf_ir *ir, uint32_t ch, const char *a,
				  enum bf_verdict v, uint32_t target)
{
	struct bf_rule *r = tb_rule(ir, ch, v, target);

	tb_pred(r, BF_F_SADDR4, false, NIP(a), 0xffffffff, 0, 0, 0);
	return r;
}

static struct bf_rule *rule_daddr(struct bf_ir *ir, uint32_t ch, const char *a,
				  enum bf_verdict v, uint32_t target)
{
	struct bf_rule *r = tb_rule(ir, ch, v, target);

	tb_pred(r, BF_F_DADDR4, false, NIP(a), 0xffffffff, 0, 0, 0);
	return r;
}

static void table_flow(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t u1 = 1, u2 = 2, fwd;
	struct bf_rule *r;

	rule_saddr(ir, in, "1.0.0.1", BF_V_JUMP, u1);		/* 0 */
	rule_saddr(ir, in, "1.0.0.2", BF_V_GOTO, u1);		/* 1 */
	rule_saddr(ir, in, "1.0.0.3", BF_V_RETURN, 0);		/* 2 */
	r = tb_rule(ir, in, BF_V_JUMP, u2);			/* 3 */
	tb_pred(r, BF_F_SADDR4, false, NIP("1.0.0.0"), NIP("255.255.255.0"), 0, 0, 0);
	tb_rule(ir, in, BF_V_DROP, 0);				/* 4; policy 5 */
	tb_chain(ir, "U1", BF_HOOK_NONE, BF_V_RETURN, true);	/* head 6 */
	rule_daddr(ir, u1, "2.0.0.1", BF_V_ACCEPT, 0);		/* 7 */
	rule_daddr(ir, u1, "2.0.0.2", BF_V_RETURN, 0);		/* 8 */
	rule_daddr(ir, u1, "2.0.0.3", BF_V_JUMP, u2);		/* 9 */
	rule_daddr(ir, u1, "2.0.0.4", BF_V_DROP, 0);		/* 10; end 11 */
	tb_chain(ir, "U2", BF_HOOK_NONE, BF_V_DROP, false);	/* head 12 */
	r = tb_rule(ir, u2, BF_V_RETURN, 0);			/* 13 */
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	r = tb_rule(ir, u2, BF_V_ACCEPT, 0);			/* 14; end 15 */
	tb_pred(r, BF_F_PROTO, false, 6, 0, 0, 0, 0);
	fwd = tb_chain(ir, "FORWARD", FWD, BF_V_DROP, true);
	tb_rule(ir, fwd, BF_V_GOTO, u1);			/* 16; policy 17 */

	struct tcase c[] = {
		{ "jump, accept", pkt_udp("1.0.0.1", "2.0.0.1", 1, 2), IN, 1, 0, E_ACCEPT, CNT(0, 7) },
		{ "jump, RETURN, continue", pkt_udp("1.0.0.1", "2.0.0.2", 1, 2), IN, 1, 0, E_DROP, CNT(0, 8, 3, 13, 4) },
		{ "jump, end of chain counted", pkt_udp("1.0.0.1", "2.0.0.9", 1, 2), IN, 1, 0, E_DROP, CNT(0, 11, 3, 13, 4) },
		{ "goto, RETURN: policy counted", pkt_udp("1.0.0.2", "2.0.0.2", 1, 2), IN, 1, 0, E_ACCEPT, CNT(1, 8, 5) },
		{ "goto, end of chain: policy", pkt_udp("1.0.0.2", "2.0.0.9", 1, 2), IN, 1, 0, E_ACCEPT, CNT(1, 11, 5) },
		{ "goto, accept", pkt_udp("1.0.0.2", "2.0.0.1", 1, 2), IN, 1, 0, E_ACCEPT, CNT(1, 7) },
		{ "goto, drop", pkt_udp("1.0.0.2", "2.0.0.4", 1, 2), IN, 1, 0, E_DROP, CNT(1, 10) },
		{ "RETURN in built-in: policy", pkt_udp("1.0.0.3", "2.0.0.1", 1, 2), IN, 1, 0, E_ACCEPT, CNT(2, 5) },
		{ "nested jump, accept", pkt_tcp("1.0.0.1", "2.0.0.3", 1, 2, 0, NULL, 0), IN, 1, 0, E_ACCEPT, CNT(0, 9, 14) },
		{ "nested jump, ERROR fall-through drop", pkt_icmp("1.0.0.1", "2.0.0.3", 8, 0), IN, 1, 0, E_DROP, CNT(0, 9) },
		{ "unconditional drop", pkt_udp("5.5.5.5", "2.0.0.1", 1, 2), IN, 1, 0, E_DROP, CNT(4) },
		{ "forward goto, end: policy drop", pkt_udp("3.3.3.3", "2.0.0.9", 1, 2), FWD, 1, 2, E_DROP, CNT(16, 11, 17) },
		{ "forward goto, accept", pkt_udp("3.3.3.3", "2.0.0.1", 1, 2), FWD, 1, 2, E_ACCEPT, CNT(16, 7) },
		{ "no OUTPUT chain: unfiltered", pkt_udp("3.3.3.3", "2.0.0.4", 1, 2), OUT, 0, 1, E_PASS, NONE },
	};
	run_table("flow", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void table_iface(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t lo = tb_ifpat(ir, "lo"), lplus = tb_ifpat(ir, "l+");
	uint32_t eth0 = tb_ifpat(ir, "eth0"), any = tb_ifpat(ir, "+");
	struct bf_rule *r;

	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 0 */
	tb_pred(r, BF_F_IIF, false, eth0, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 1 */
	tb_pred(r, BF_F_IIF, true, lplus, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_NEXT, 0);		/* 2 */
	tb_pred(r, BF_F_IIF, false, lo, 0, 0, 0, 0);
	tb_pred(r, BF_F_OIF, false, any, 0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3; policy 4 */
	tb_pred(r, BF_F_OIF, false, lo, 0, 0, 0, 0);

	struct tcase c[] = {
		{ "iif lo, no oif", pkt_udp("1.1.1.1", "2.2.2.2", 1, 2), IN, 1, 0, E_ACCEPT, CNT(2, 4) },
		{ "no iif: !-i l+", pkt_udp("1.1.1.1", "2.2.2.2", 1, 2), IN, 0, 0, E_DROP, CNT(1) },
		{ "iif lo, oif lo", pkt_udp("1.1.1.1", "2.2.2.2", 1, 2), IN, 1, 1, E_DROP, CNT(2, 3) },
		{ "unknown ifindex: no pattern", pkt_udp("1.1.1.1", "2.2.2.2", 1, 2), IN, 99999, 0, E_DROP, CNT(1) },
	};
	run_table("iface", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void table_split(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_DROP, true);
	uint32_t u = 1, u3 = 2, i;
	struct bf_rule *r;
	char a[32];

	for (i = 0; i < 600; i++) {
		enum bf_verdict v = BF_V_DROP;
		uint32_t t = 0;

		if (i == 300)
			v = BF_V_RETURN;
		if (i == 550 || i == 100) {
			v = i == 100 ? BF_V_GOTO : BF_V_JUMP;
			t = u;
		}
		if (i == 560) {
			v = BF_V_JUMP;
			t = u3;
		}
		snprintf(a, sizeof(a), "20.0.%u.%u", i / 256, i % 256);
		rule_saddr(ir, in, a, v, t);			/* 0..599; policy 600 */
	}
	tb_chain(ir, "U", BF_HOOK_NONE, BF_V_RETURN, true);	/* head 601 */
	r = tb_rule(ir, u, BF_V_ACCEPT, 0);			/* 602; end 603 */
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	tb_chain(ir, "U3", BF_HOOK_NONE, BF_V_RETURN, true);	/* head 604 */
	for (i = 0; i < 300; i++) {				/* 605..904; end 905 */
		snprintf(a, sizeof(a), "40.0.%u.%u", i / 256, i % 256);
		rule_daddr(ir, u3, a, i == 280 ? BF_V_RETURN :
			   i == 290 ? BF_V_ACCEPT : BF_V_DROP, 0);
	}

	struct tcase c[] = {
		{ "piece 0 drop", pkt_udp("20.0.0.5", "9.9.9.9", 1, 2), IN, 1, 0, E_DROP, CNT(5) },
		{ "piece 2 drop", pkt_udp("20.0.2.87", "9.9.9.9", 1, 2), IN, 1, 0, E_DROP, CNT(599) },
		{ "RETURN in piece 1: policy", pkt_udp("20.0.1.44", "9.9.9.9", 1, 2), IN, 1, 0, E_DROP, CNT(300, 600) },
		{ "jump from piece 2, accept", pkt_udp("20.0.2.38", "9.9.9.9", 1, 2), IN, 1, 0, E_ACCEPT, CNT(550, 602) },
		{ "jump from piece 2, return", pkt_tcp("20.0.2.38", "9.9.9.9", 1, 2, 0, NULL, 0), IN, 1, 0, E_DROP, CNT(550, 603, 600) },
		{ "goto from piece 0, return: policy", pkt_tcp("20.0.0.100", "9.9.9.9", 1, 2, 0, NULL, 0), IN, 1, 0, E_DROP, CNT(100, 603, 600) },
		{ "no match: policy", pkt_udp("30.0.0.1", "9.9.9.9", 1, 2), IN, 1, 0, E_DROP, CNT(600) },
		{ "split user chain: RETURN in piece 1", pkt_udp("20.0.2.48", "40.0.1.24", 1, 2), IN, 1, 0, E_DROP, CNT(560, 885, 600) },
		{ "split user chain: accept in piece 1", pkt_udp("20.0.2.48", "40.0.1.34", 1, 2), IN, 1, 0, E_ACCEPT, CNT(560, 895) },
		{ "split user chain: falls off", pkt_udp("20.0.2.48", "40.0.2.34", 1, 2), IN, 1, 0, E_DROP, CNT(560, 905, 600) },
	};
	run_table("split", ir, c, sizeof(c) / sizeof(c[0]), 256);
	tb_free(ir);
}

/* Unforced programs: chain chosen by bpf_fib_lookup / ingress_ifindex. */
static void table_unforced(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_DROP, true);
	uint32_t out = tb_chain(ir, "OUTPUT", OUT, BF_V_DROP, true);
	struct bf_maps maps;
	struct bf_err err = { 0 };
	struct pkt p = pkt_udp("127.0.0.2", "127.0.0.1", 1, 2);
	uint8_t frame[256];
	size_t len = pkt_frame(&p, frame);
	uint32_t code = 0;
	int fd, h;

	(void)in;
	(void)out;
	tb_finish(ir);
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "unforced: maps: %s", err.msg);
		tb_free(ir);
		return;
	}
	for (h = 0; h < 3; h++) {
		fd = load_one(ir, test_hooks[h], -1, &maps, 0, false);
		tap(fd >= 0, "unforced/%s: program loads", hook_names[h]);
		if (fd < 0)
			continue;
		if (run_frame(fd, frame, len, &code))
			code = 999;
		/* to 127.0.0.1 is local: INPUT's DROP policy at ingress */
		if (test_hooks[h] != BF_HOOK_TC_EGRESS)
			tap(code == (uint32_t)expect_code(test_hooks[h], E_DROP),
			    "unforced/%s: local destination runs INPUT (code %u)",
			    hook_names[h], code);
		else	/* test_run skbs have ingress_ifindex 0: local */
			tap(code == TC_ACT_SHOT,
			    "unforced/tc_out: locally generated runs OUTPUT (code %u)",
			    code);
		close(fd);
	}
	bf_maps_close(&maps);
	tb_free(ir);
}

/* Generation errors that must be refused with a message. */
static void table_errors(void)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = -1 };
	struct bf_ir *ir = tb_new();
	struct bf_prog *prog = NULL;
	struct bf_err err = { 0 };
	uint32_t ch[9], i;
	int ret;

	ch[0] = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	/* main, INPUT, 6 nested user chains: 8 frames (the last counts inline) */
	{
		struct bf_ir *ok = tb_new();
		uint32_t c[7], j;
		struct bf_maps maps;
		int fd;

		c[0] = tb_chain(ok, "INPUT", IN, BF_V_ACCEPT, true);
		for (j = 1; j < 7; j++)
			c[j] = tb_chain(ok, "U", BF_HOOK_NONE, BF_V_RETURN, true);
		for (j = 0; j < 6; j++)
			tb_rule(ok, c[j], BF_V_JUMP, c[j + 1]);
		tb_rule(ok, c[6], BF_V_DROP, 0);
		tb_finish(ok);
		fd = bf_maps_create(ok, &maps, &err);
		if (!fd) {
			fd = load_one(ok, BF_HOOK_XDP, IN, &maps, 0, false);
		} else {
			printf("# maps: %s\n", err.msg);
		}
		tap(fd >= 0, "errors: 6 nested user chains load");
		if (fd >= 0) {
			/* and count: the deepest chain's DROP rule */
			struct pkt p = pkt_udp("1.1.1.1", "2.2.2.2", 1, 2);
			struct xt_counters cnt[32];
			uint8_t frame[256];
			uint32_t code = 0;
			size_t len = pkt_frame(&p, frame);

			run_frame(fd, frame, len, &code);
			bf_maps_read_counters(&maps, cnt);
			tap(code == XDP_DROP &&
			    cnt[ok->chains[6].rules[0].index].pcnt == 1 &&
			    cnt[ok->chains[1].rules[0].index].pcnt == 1,
			    "errors: 6 nested user chains run and count (code %u)",
			    code);
			close(fd);
		}
		bf_maps_close(&maps);
		tb_rule(ok, c[6], BF_V_JUMP, tb_chain(ok, "U7", BF_HOOK_NONE,
						      BF_V_RETURN, true));
		tb_finish(ok);
		ret = bf_gen(ok, &o, &prog, &err);
		tap(ret == -E2BIG, "errors: 7 nested user chains refused (%d: %s)",
		    ret, err.msg);
		bf_prog_free(prog);
		prog = NULL;
		tb_free(ok);
	}
	for (i = 1; i < 9; i++) {
		char name[16];

		snprintf(name, sizeof(name), "U%u", i);
		ch[i] = tb_chain(ir, name, BF_HOOK_NONE, BF_V_RETURN, true);
	}
	for (i = 0; i < 8; i++)
		tb_rule(ir, ch[i], BF_V_JUMP, ch[i + 1]);
	tb_finish(ir);
	ret = bf_gen(ir, &o, &prog, &err);
	tap(ret == -E2BIG && strstr(err.msg, "nested user chains"),
	    "errors: 8 nested user chains refused (%d: %s)", ret, err.msg);
	bf_prog_free(prog);
	prog = NULL;
	ir->chains[8].rules = realloc(ir->chains[8].rules, sizeof(struct bf_rule));
	ir->chains[8].n_rules = 0;
	tb_rule(ir, ch[8], BF_V_JUMP, ch[1]);
	ret = bf_gen(ir, &o, &prog, &err);
	tap(ret == -ELOOP, "errors: jump loop refused (%d: %s)", ret, err.msg);
	bf_prog_free(prog);
	tb_free(ir);
}

/* A program the verifier refuses: the log must come back in err. */
static void table_verifier_log(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 3 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bf_func fn = { .insn = 0, .name = "bpfilter_main" };
	struct bf_prog prog = { .hook = BF_HOOK_XDP, .insns = insns,
				.n_insns = 2, .funcs = &fn, .n_funcs = 1 };
	struct bf_ir *ir = tb_new();
	struct bf_err err = { 0 };
	struct bf_maps maps;
	int fd;

	tb_finish(ir);
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "verifier log: maps");
		tb_free(ir);
		return;
	}
	fd = bf_prog_load(&prog, &maps, &err);
	/* the verifier's EACCES is answered as EINVAL, named in the message */
	tap(fd == -EINVAL && err.verifier_log &&
	    strstr(err.verifier_log, "R3 !read_ok") &&
	    strstr(err.msg, "bpfilter_xdp") &&
	    strstr(err.msg, "rejected by the verifier (Permission denied)"),
	    "verifier log: kept in err on rejection (%d: %s)", fd, err.msg);
	if (fd >= 0)
		close(fd);
	bf_err_clear(&err);
	bf_maps_close(&maps);
	tb_free(ir);
}

/* ---- random tables: generated IR, random packets, BPF vs bf_interp_run ------------ */

/* length, ttl, iprange: values near what fuzz_pkt() makes */
static void fuzz_ip_match(struct bf_rule *r, bool inv)
{
	uint32_t lo;

	switch (rnd() % 5) {
	case 3:
		tb_pred(r, BF_F_PKTTYPE, inv, rnd() % 3, 0, 0, 0, 0);
		break;
	case 4:
		tb_pred(r, BF_F_SMAC, inv, 0x02000000, 0, rnd() % 3, 0, 0);
		break;
	case 0:
		lo = 20 + rnd() % 60;
		tb_pred(r, BF_F_LENGTH, inv, 0, 0, lo, lo + rnd() % 30, 0);
		break;
	case 1:
		tb_pred(r, BF_F_TTL, false, 60 + rnd() % 8, 0, 0, 0, rnd() % 5);
		break;
	default:
		lo = rnd() % 4;
		tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0);
		tb_pred(r, rnd() % 2 ? BF_F_SRANGE4 : BF_F_DRANGE4, inv, 0, 0,
			0x0a000000 + lo, 0x0a000100 + lo + rnd() % 4, 0);
		break;
	}
}

/* a multiport group on the ports fuzz_pkt() makes (0..11) */
static void fuzz_mport(struct bf_rule *r, bool inv)
{
	uint32_t i, n = rnd() % 4;

	tb_pred(r, BF_F_MPORT, inv, rnd() % 3, 0, n, 0, 0);
	for (i = 0; i < n; i++) {
		uint32_t lo = rnd() % 12, range = rnd() % 2;

		tb_pred(r, BF_F_MPORT_ITEM, false, 0, 0, lo, range ? lo + rnd() % 4 : lo,
			range ? BF_MPORT_RANGE : 0);
	}
}

static void fuzz_l4_preds(struct bf_rule *r, uint8_t proto)
{
	int k, n = rnd() % 3;

	tb_pred(r, BF_F_PROTO, false, proto, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, proto, 0, proto == 6 ? 20 : proto == 17 ? 8 : 4,
		0, proto == 6 ? BF_L4_EVIL_FRAG : 0);
	for (k = 0; k < n; k++) {
		uint32_t lo = rnd() % 8, hi = lo + rnd() % 4;
		bool inv = rnd() % 3 == 0;

		if (proto == 1) {
			tb_pred(r, BF_F_ICMP, inv, rnd() % 5 == 0 ? 0xff : rnd() % 4,
				0, lo % 4, hi % 6, 0);
			continue;
		}
		switch (rnd() % (proto == 6 ? 4 : 2)) {
		case 0: tb_pred(r, BF_F_SPORT, inv, 0, 0, lo, hi, 0); break;
		case 1: tb_pred(r, BF_F_DPORT, inv, 0, 0, lo, hi, 0); break;
		case 2: tb_pred(r, BF_F_TCPFLAGS, inv, rnd() & 0x13, 0x13, 0, 0, 0); break;
		case 3: tb_pred(r, BF_F_TCPOPT, inv, rnd() % 6, 0, 0, 0, 0); break;
		}
		if (rnd() % 4 == 0)
			fuzz_mport(r, inv);
	}
}

static void fuzz_rule(struct bf_ir *ir, uint32_t ch, uint32_t n_chains)
{
	static const enum bf_verdict vs[] = {
		BF_V_NEXT, BF_V_ACCEPT, BF_V_DROP, BF_V_RETURN, BF_V_JUMP,
		BF_V_GOTO,
	};
	enum bf_verdict v = vs[rnd() % 6];
	uint32_t target = 0, k, n = rnd() % 3;
	struct bf_rule *r;

	/* user chains are 3.. in order; jump only forward: no loops */
	if (v == BF_V_JUMP || v == BF_V_GOTO) {
		uint32_t first = ch < 3 ? 3 : ch + 1;

		if (first >= n_chains)
			v = BF_V_DROP;
		else
			target = first + rnd() % (n_chains - first);
	}
	r = tb_rule(ir, ch, v, target);
	for (k = 0; k < n; k++) {
		bool inv = rnd() % 3 == 0;

		switch (rnd() % 7) {
		case 0:
			tb_pred(r, BF_F_SADDR4, inv, htonl(0x0a000000 | (rnd() % 4)),
				rnd() % 2 ? 0xffffffff : htonl(0xfffffffc), 0, 0, 0);
			break;
		case 1:
			tb_pred(r, BF_F_DADDR4, inv, htonl(0x0a000100 | (rnd() % 4)),
				htonl(0xfffffffe), 0, 0, 0);
			break;
		case 2:
			tb_pred(r, rnd() % 2 ? BF_F_IIF : BF_F_OIF, inv,
				rnd() % ir->n_ifpats, 0, 0, 0, 0);
			break;
		case 3:
			tb_pred(r, BF_F_FRAG, inv, 0, 0, 0, 0, 0);
			break;
		case 4:
			fuzz_ip_match(r, inv);
			break;
		default:
			if (k == 0) {
				fuzz_l4_preds(r, (uint8_t[]){ 1, 6, 17 }[rnd() % 3]);
				k = n;
			}
			break;
		}
	}
}

static struct pkt fuzz_pkt(void)
{
	static const uint8_t opts[][8] = {
		{ 2, 4, 5, 0xb4 }, { 1, 1, 3, 3, 1, 0, 0, 0 }, { 4, 2, 5, 2 },
		{ 0, 0, 0, 0 }, { 1, 5, 0, 0 },
	};
	char s[32], d[32];
	struct pkt p;

	snprintf(s, sizeof(s), "10.0.0.%u", rnd() % 6);
	snprintf(d, sizeof(d), "10.0.1.%u", rnd() % 6);
	switch (rnd() % 3) {
	case 0:
		p = pkt_tcp(s, d, rnd() % 12, rnd() % 12, rnd() & 0x3f,
			    opts[rnd() % 5], 4 * (rnd() % 3));
		break;
	case 1:
		p = pkt_udp(s, d, rnd() % 12, rnd() % 12);
		break;
	default:
		p = pkt_icmp(s, d, rnd() % 5, rnd() % 7);
		break;
	}
	if (rnd() % 8 == 0)
		p.frag = rnd() % 3;
	if (rnd() % 10 == 0)
		p.l4_len = rnd() % 24;
	if (rnd() % 10 == 0)
		p.pad = rnd() % 20;
	if (rnd() % 12 == 0)
		p.l4[12] = (rnd() % 16) << 4;
	if (rnd() % 10 == 0)
		p.ipopt_len = 4 * (1 + rnd() % 10);
	if (rnd() % 40 == 0)
		p.bad_csum = true;
	if (rnd() % 2)
		p = with(p, 7, 60 + rnd() % 8);
	p.l2dst = rnd() % 3;
	p.smac_last = rnd() % 3;
	return p;
}

static void fuzz_print(const struct bf_ir *ir)
{
	uint32_t c, r;
	char line[512];

	for (c = 0; c < ir->n_chains; c++) {
		printf("# chain %u %s end %d [%u] counts %d\n", c,
		       ir->chains[c].name, ir->chains[c].end,
		       ir->chains[c].end_index, ir->chains[c].end_counts);
		for (r = 0; r < ir->chains[c].n_rules; r++) {
			bf_ir_rule_str(ir, &ir->chains[c], &ir->chains[c].rules[r],
				       line, sizeof(line));
			printf("#   %s (target %u)\n", line,
			       ir->chains[c].rules[r].target);
		}
	}
}

static void fuzz_tables(unsigned int n_tables, unsigned int n_pkts)
{
	unsigned int t, bad_tables = 0, skipped = 0, piece;
	char first[256] = "";

	for (t = 0; t < n_tables; t++) {
		struct bf_ir *ir = tb_new();
		uint32_t n_user = rnd() % 4, c, k, n_chains;
		struct tcase tc = { .name = "fuzz", .hook = IN };
		struct loaded l;
		int h;

		tb_ifpat(ir, "lo");
		tb_ifpat(ir, "l+");
		tb_ifpat(ir, "+");
		tb_chain(ir, "INPUT", IN, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		tb_chain(ir, "FORWARD", FWD, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		tb_chain(ir, "OUTPUT", OUT, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		for (c = 0; c < n_user; c++) {
			char name[8];

			snprintf(name, sizeof(name), "U%u", c);
			tb_chain(ir, name, BF_HOOK_NONE,
				 rnd() % 4 ? BF_V_RETURN : BF_V_DROP, true);
			ir->chains[ir->n_chains - 1].end_counts =
				ir->chains[ir->n_chains - 1].end == BF_V_RETURN;
		}
		n_chains = ir->n_chains;
		for (c = 0; c < n_chains; c++)
			for (k = rnd() % 7; k > 0; k--)
				fuzz_rule(ir, c, n_chains);
		tb_finish(ir);
		piece = 1 + rnd() % 4;
		{
			struct bf_gen_opts o = { .sz = sizeof(o), .force_hook = -1,
						 .piece_rules = piece };
			struct bf_prog *prog = NULL;
			struct bf_err err = { 0 };
			int ret = bf_gen(ir, &o, &prog, &err);

			bf_prog_free(prog);
			if (ret == -E2BIG) {	/* nested too deep: refused, fine */
				skipped++;
				tb_free(ir);
				continue;
			}
		}
		if (load_table(ir, &l, piece)) {
			bad_tables++;
			tb_free(ir);
			continue;
		}
		tc.pkt = fuzz_pkt();
		for (h = 0; h < 3; h++) {
			unsigned int before = tap_fail;
			struct tcase cases[16];

			if (l.fd[h][IN] < 0 || l.fd[h][FWD] < 0 || l.fd[h][OUT] < 0) {
				if (!bad_tables++)
					snprintf(first, sizeof(first), "table %u: load", t);
				continue;
			}
			for (k = 0; k < 16; k++) {
				cases[k] = tc;
				cases[k].pkt = fuzz_pkt();
			}
			/* run_random mutates these; count its verdict quietly */
			random_quiet = true;
			run_random(ir, &l, test_hooks[h], cases, 16, "fuzz");
			random_quiet = false;
			if (tap_fail != (int)before && !bad_tables++) {
				snprintf(first, sizeof(first), "table %u hook %s: %s",
					 t, hook_names[h], random_first);
				fuzz_print(ir);
			}
			tap_fail = before;
		}
		unload_table(&l);
		tb_free(ir);
	}
	(void)n_pkts;
	tap(!bad_tables, "fuzz: %u random tables (%u refused as too deep) x 3 hooks x %u packets agree with bf_interp_run%s%s",
	    n_tables, skipped, random_n, bad_tables ? ": " : "", first);
}

/* ---- attach: a private netns with a veth pair ------------------------------------ */

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static int foreign_xdp_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "other_xdp", "GPL", insns, 2,
			     NULL);
}

static void attach_hook(const struct bf_ir *ir, const struct bf_maps *maps,
			enum bf_hook h, int ifindex)
{
	struct bf_err err = { 0 };
	int fd1, fd2, ret;
	uint32_t id = 1;

	fd1 = load_one(ir, h, -1, maps, 0, false);
	fd2 = load_one(ir, h, -1, maps, 0, false);
	if (fd1 < 0 || fd2 < 0) {
		tap(false, "attach/%s: load", hook_names[h]);
		return;
	}
	ret = bf_attached_id(h, ifindex, &id);
	tap(!ret && id == 0, "attach/%s: nothing attached at first (%d, id %u)",
	    hook_names[h], ret, id);
	ret = bf_attach(h, ifindex, fd1, &err);
	bf_attached_id(h, ifindex, &id);
	tap(!ret && id == prog_id(fd1), "attach/%s: attach (%d %s)",
	    hook_names[h], ret, err.msg);
	ret = bf_attach(h, ifindex, fd2, &err);
	bf_attached_id(h, ifindex, &id);
	tap(!ret && id == prog_id(fd2), "attach/%s: replace in place (%d %s)",
	    hook_names[h], ret, err.msg);
	close(fd1);
	close(fd2);
	/* the attachment holds the program, not our fd */
	bf_attached_id(h, ifindex, &id);
	tap(id != 0, "attach/%s: survives closing our fds", hook_names[h]);
	ret = bf_detach(h, ifindex);
	bf_attached_id(h, ifindex, &id);
	tap(!ret && id == 0, "attach/%s: detach (%d)", hook_names[h], ret);
	ret = bf_detach(h, ifindex);
	tap(!ret, "attach/%s: detach again is a no-op (%d)", hook_names[h], ret);
}

/*
 * Real packets: a peer netns pings us over the veth pair while an attached
 * program drops ICMP at INPUT (XDP, tc ingress) or echo replies at OUTPUT
 * (tc egress). The chain is decided as in production (fib / ingress_ifindex).
 */
static char peer_ns[32];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool ping_ok(void)
{
	return sh("ip netns exec %s ping -c 1 -W 1 10.201.0.1 >/dev/null 2>&1",
		  peer_ns) == 0;
}

static void traffic_one(enum bf_hook h, int ifindex, bool fwd_on)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t out = tb_chain(ir, "OUTPUT", OUT, BF_V_ACCEPT, true);
	struct xt_counters cnt[8];
	struct bf_err err = { 0 };
	struct bf_maps maps;
	struct bf_rule *r;
	bool before, after;
	uint32_t idx;
	int fd;

	r = tb_rule(ir, h == BF_HOOK_TC_EGRESS ? out : in, BF_V_DROP, 0);
	tb_pred(r, BF_F_PROTO, false, 1, 0, 0, 0, 0);
	add_l4hdr(r, 1, 4, 0);
	tb_pred(r, BF_F_ICMP, false, h == BF_HOOK_TC_EGRESS ? 0 : 8, 0, 0, 255, 0);
	tb_finish(ir);
	sh("sysctl -qw net.ipv4.ip_forward=%d", fwd_on);
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "traffic: maps");
		tb_free(ir);
		return;
	}
	bf_maps_sync_ifaces(ir, &maps);
	fd = load_one(ir, h, -1, &maps, 0, false);
	before = ping_ok();
	if (fd >= 0 && !bf_attach(h, ifindex, fd, &err)) {
		after = ping_ok();
		bf_maps_read_counters(&maps, cnt);
		idx = ir->chains[h == BF_HOOK_TC_EGRESS ? out : in].rules[0].index;
		tap(before && !after && cnt[idx].pcnt >= 1,
		    "traffic/%s (ip_forward %d): ping dropped by the attached program (before %d after %d, rule counter %llu)",
		    hook_names[h], fwd_on, before, after,
		    (unsigned long long)cnt[idx].pcnt);
		bf_detach(h, ifindex);
		tap(ping_ok(), "traffic/%s: ping works again after detach",
		    hook_names[h]);
	} else {
		tap(false, "traffic/%s: attach: %s", hook_names[h], err.msg);
	}
	if (fd >= 0)
		close(fd);
	bf_maps_close(&maps);
	tb_free(ir);
}

/* Forwarded: peer -> us (router) -> peer2; FORWARD drops ICMP out of bfv2. */
static void traffic_forward(enum bf_hook h, int ifindex)
{
	struct bf_ir *ir = tb_new();
	uint32_t fwd = tb_chain(ir, "FORWARD", FWD, BF_V_ACCEPT, true);
	uint32_t pat = tb_ifpat(ir, "bfv2"), inpat = tb_ifpat(ir, "bfv0");
	struct xt_counters cnt[8];
	struct bf_err err = { 0 };
	struct bf_maps maps;
	struct bf_rule *r;
	bool before, after;
	int fd;

	r = tb_rule(ir, fwd, BF_V_DROP, 0);
	tb_pred(r, BF_F_IIF, false, inpat, 0, 0, 0, 0);
	tb_pred(r, BF_F_OIF, false, pat, 0, 0, 0, 0);
	tb_pred(r, BF_F_PROTO, false, 1, 0, 0, 0, 0);
	tb_finish(ir);
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "traffic: maps");
		tb_free(ir);
		return;
	}
	bf_maps_sync_ifaces(ir, &maps);
	fd = load_one(ir, h, -1, &maps, 0, false);
	before = sh("ip netns exec %s ping -c 1 -W 1 10.202.0.2 >/dev/null 2>&1",
		    peer_ns) == 0;
	if (fd >= 0 && !bf_attach(h, ifindex, fd, &err)) {
		after = sh("ip netns exec %s ping -c 1 -W 1 10.202.0.2 >/dev/null 2>&1",
			   peer_ns) == 0;
		bf_maps_read_counters(&maps, cnt);
		tap(before && !after && cnt[0].pcnt >= 1,
		    "traffic/%s: forwarded ping dropped by FORWARD -i bfv0 -o bfv2 (before %d after %d, counter %llu)",
		    hook_names[h], before, after,
		    (unsigned long long)cnt[0].pcnt);
		/* bigger than bfv2's MTU, DF clear: the kernel fragments it
		 * after FORWARD, so FORWARD must see it */
		after = sh("ip netns exec %s ping -c 1 -W 1 -s 1400 -M dont 10.202.0.2 >/dev/null 2>&1",
			   peer_ns) == 0;
		bf_detach(h, ifindex);
		before = sh("ip netns exec %s ping -c 1 -W 1 -s 1400 -M dont 10.202.0.2 >/dev/null 2>&1",
			    peer_ns) == 0;
		tap(before && !after,
		    "traffic/%s: forwarded ping over the egress MTU is filtered too (unfiltered %d, filtered %d)",
		    hook_names[h], before, after);
	} else {
		tap(false, "traffic/%s: attach: %s", hook_names[h], err.msg);
	}
	if (fd >= 0)
		close(fd);
	bf_maps_close(&maps);
	tb_free(ir);
}

/*
 * Multicast and limited broadcast destinations run INPUT even when a
 * default route would forward them (ip_route_input_noref() delivers them
 * locally before any FIB lookup; bpf_fib_lookup() answers SUCCESS): ufw's
 * DHCP offers, mDNS and SSDP. INPUT accepts UDP (counted), FORWARD's
 * policy drops; a unicast destination through the default route is the
 * control that the route makes bpf_fib_lookup() answer FORWARD.
 * BPF_PROG_TEST_RUN frames arrive on lo (forwarding on).
 */
static void traffic_mc_bcast(void)
{
	static const struct { const char *dst; enum expect e; } c[] = {
		{ "224.0.0.251", E_ACCEPT },		/* mDNS */
		{ "239.255.255.250", E_ACCEPT },	/* SSDP */
		{ "255.255.255.255", E_ACCEPT },	/* DHCP offer */
		{ "10.99.0.1", E_DROP },		/* default route: FORWARD */
	};
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_DROP, true);
	uint32_t fwd = tb_chain(ir, "FORWARD", FWD, BF_V_DROP, true);
	struct xt_counters a[8], b[8];
	struct bf_err err = { 0 };
	struct bf_maps maps;
	struct bf_rule *r;
	uint8_t frame[256];
	uint32_t code;
	size_t i, h, len;
	int fd;

	(void)fwd;
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_PROTO, false, 17, 0, 0, 0, 0);
	tb_finish(ir);
	if (sh("ip route add default via 10.202.0.2")) {
		tap(false, "mcbcast: default route");
		tb_free(ir);
		return;
	}
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "mcbcast: maps: %s", err.msg);
		goto out_route;
	}
	for (h = 0; h < 2; h++) {	/* xdp, tc ingress */
		fd = load_one(ir, test_hooks[h], -1, &maps, 0, false);
		if (fd < 0) {
			tap(false, "mcbcast/%s: load", hook_names[h]);
			continue;
		}
		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			struct pkt p = pkt_udp("10.201.0.2", c[i].dst, 67, 68);
			bool counted;

			len = pkt_frame(&p, frame);
			bf_maps_read_counters(&maps, a);
			if (run_frame(fd, frame, len, &code))
				code = 999;
			bf_maps_read_counters(&maps, b);
			counted = b[0].pcnt == a[0].pcnt + 1;
			tap(code == (uint32_t)expect_code(test_hooks[h], c[i].e) &&
			    counted == (c[i].e == E_ACCEPT),
			    "mcbcast/%s: udp to %s runs %s (code %u, INPUT rule counted %d)",
			    hook_names[h], c[i].dst,
			    c[i].e == E_ACCEPT ? "INPUT" : "FORWARD", code,
			    counted);
		}
		close(fd);
	}
	bf_maps_close(&maps);
out_route:
	sh("ip route del default via 10.202.0.2");
	tb_free(ir);
}

static void traffic6_tests(int ifindex);
static void traffic6_forward_tests(int ifindex);

static void traffic_tests(int ifindex)
{
	snprintf(peer_ns, sizeof(peer_ns), "bfcg_peer_%d", getpid());
	if (sh("ip netns add %s && ip link set bfv1 netns %s && "
	       "ip addr add 10.201.0.1/24 dev bfv0 && "
	       "ip netns exec %s ip addr add 10.201.0.2/24 dev bfv1 && "
	       "ip netns exec %s ip link set bfv1 up && "
	       "ip netns exec %s ip link set lo up && ip link set lo up",
	       peer_ns, peer_ns, peer_ns, peer_ns, peer_ns)) {
		tap(false, "traffic: setup");
	} else {
		traffic_one(BF_HOOK_XDP, ifindex, false);
		traffic_one(BF_HOOK_XDP, ifindex, true);
		traffic_one(BF_HOOK_TC_INGRESS, ifindex, false);
		traffic_one(BF_HOOK_TC_INGRESS, ifindex, true);
		traffic_one(BF_HOOK_TC_EGRESS, ifindex, false);
		traffic6_tests(ifindex);
	}
	if (sh("ip netns add %s2 && ip link add bfv2 type veth peer name bfv3 && "
	       "ip link set bfv3 netns %s2 && ip link set bfv2 up && "
	       "ip addr add 10.202.0.1/24 dev bfv2 && "
	       "ip netns exec %s2 ip addr add 10.202.0.2/24 dev bfv3 && "
	       "ip link set bfv2 mtu 1000 && "
	       "ip netns exec %s2 ip link set bfv3 mtu 1000 && "
	       "ip netns exec %s2 ip link set bfv3 up && "
	       "ip netns exec %s2 ip route add default via 10.202.0.1 && "
	       "ip netns exec %s ip route add default via 10.201.0.1 && "
	       "sysctl -qw net.ipv4.ip_forward=1",
	       peer_ns, peer_ns, peer_ns, peer_ns, peer_ns, peer_ns, peer_ns)) {
		tap(false, "traffic: forward setup");
	} else {
		traffic_forward(BF_HOOK_XDP, ifindex);
		traffic_forward(BF_HOOK_TC_INGRESS, ifindex);
		traffic_mc_bcast();
		traffic6_forward_tests(ifindex);
	}
	sh("ip netns del %s2 2>/dev/null", peer_ns);
	sh("ip netns del %s 2>/dev/null", peer_ns);
}

static void table_attach(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t out = tb_chain(ir, "OUTPUT", OUT, BF_V_ACCEPT, true);
	uint32_t pat = tb_ifpat(ir, "bfv+"), key;
	uint8_t bits[BF_MAX_IFPATS / 8];
	struct bf_err err = { 0 };
	struct bf_maps maps;
	int ifindex, other, ret;
	uint32_t id;
	int h;

	(void)in;
	(void)out;
	tb_finish(ir);
	if (unshare(CLONE_NEWNET) ||
	    system("ip link add bfv0 type veth peer name bfv1 && ip link set bfv0 up && ip link set bfv1 up")) {
		printf("# attach: cannot make a netns with a veth pair\n");
		tap(false, "attach: setup");
		tb_free(ir);
		return;
	}
	ifindex = if_nametoindex("bfv0");
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "attach: maps: %s", err.msg);
		tb_free(ir);
		return;
	}
	ret = bf_maps_sync_ifaces(ir, &maps);
	key = ifindex;
	memset(bits, 0, sizeof(bits));
	bpf_map_lookup_elem(maps.fd[BF_MAP_IFBITS], &key, bits);
	tap(!ret && (bits[pat / 8] & (1 << (pat % 8))),
	    "attach: bfv0 matches pattern bfv+ in bpfilter_ifb (%d)", ret);
	key = 1;	/* lo */
	memset(bits, 0xff, sizeof(bits));
	bpf_map_lookup_elem(maps.fd[BF_MAP_IFBITS], &key, bits);
	tap(!(bits[pat / 8] & (1 << (pat % 8))), "attach: lo does not match bfv+");
	for (h = 0; h < 3; h++)
		attach_hook(ir, &maps, test_hooks[h], ifindex);
	/* something that is not ours stays */
	other = foreign_xdp_prog();
	ret = bpf_xdp_attach(ifindex, other, XDP_FLAGS_DRV_MODE, NULL);
	if (!ret) {
		int fd = load_one(ir, BF_HOOK_XDP, -1, &maps, 0, false);

		ret = bf_attach(BF_HOOK_XDP, ifindex, fd, &err);
		tap(ret == -EBUSY, "attach/xdp: foreign program refused (%d %s)",
		    ret, err.msg);
		bf_attached_id(BF_HOOK_XDP, ifindex, &id);
		tap(id == 0, "attach/xdp: foreign program is not reported as ours");
		ret = bf_detach(BF_HOOK_XDP, ifindex);
		{
			LIBBPF_OPTS(bpf_xdp_query_opts, q);

			bpf_xdp_query(ifindex, XDP_FLAGS_DRV_MODE, &q);
			tap(!ret && q.drv_prog_id == prog_id(other),
			    "attach/xdp: detach leaves the foreign program alone");
		}
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		close(fd);
	} else {
		tap(false, "attach/xdp: foreign attach %d", ret);
	}
	if (other >= 0)
		close(other);
	bf_maps_close(&maps);
	tb_free(ir);
	traffic_tests(ifindex);
	/* the netns and its veth pair die with this process */
}

/* ---- bench --------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench_one(uint32_t n)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = IN };
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true), i;
	struct pkt p = pkt_tcp("192.0.2.1", "198.51.100.1", 40000, 80, 0x02,
			       NULL, 0);
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	struct bf_maps maps;
	uint8_t frame[256];
	double t0, t1, t2;
	size_t len;
	int fd, r;

	for (i = 0; i < n; i++) {
		struct bf_rule *rule = tb_rule(ir, in, BF_V_DROP, 0);

		tb_pred(rule, BF_F_SADDR4, false, htonl(0x0a000000 + i),
			0xffffffff, 0, 0, 0);
		add_l4hdr(rule, 6, 20, BF_L4_EVIL_FRAG);
		tb_pred(rule, BF_F_DPORT, false, 0, 0, 1000 + i % 1000,
			1000 + i % 1000, 0);
	}
	tb_finish(ir);
	if (bf_maps_create(ir, &maps, &err))
		return -1;
	t0 = now_s();
	r = bf_gen(ir, &o, &prog, &err);
	t1 = now_s();
	fd = r ? r : bf_prog_load(prog, &maps, &err);
	t2 = now_s();
	if (fd < 0) {
		printf("# %u rules: %s\n", n, err.msg);
		tap(false, "bench %u rules loads", n);
	} else {
		double ns[5];
		uint32_t rep = n >= 10000 ? 200 : n >= 1000 ? 2000 : 100000;
		int k;

		len = pkt_frame(&p, frame);
		for (k = 0; k < 5; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
				    .data_size_in = len, .repeat = rep);
			bpf_prog_test_run_opts(fd, &t);
			ns[k] = t.duration;
		}
		/* median of 5 */
		for (k = 0; k < 5; k++)
			for (int j = k + 1; j < 5; j++)
				if (ns[j] < ns[k]) {
					double x = ns[j];

					ns[j] = ns[k];
					ns[k] = x;
				}
		tap(true, "bench %6u rules: %7u insns %4u funcs, gen %.3f s, load %.3f s, xdp %.0f ns/pkt",
		    n, prog->n_insns, prog->n_funcs, t1 - t0, t2 - t1, ns[2]);
		close(fd);
		/* the same at tc ingress */
		fd = load_one(ir, BF_HOOK_TC_INGRESS, IN, &maps, 0, false);
		for (k = 0; fd >= 0 && k < 5; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
				    .data_size_in = len, .repeat = rep);
			bpf_prog_test_run_opts(fd, &t);
			ns[k] = t.duration;
		}
		for (k = 0; k < 5; k++)
			for (int j = k + 1; j < 5; j++)
				if (ns[j] < ns[k]) {
					double x = ns[j];

					ns[j] = ns[k];
					ns[k] = x;
				}
		printf("#   tc ingress: %.0f ns/pkt\n", ns[2]);
		{
			struct xt_counters *cnt = calloc(ir->n_entries, sizeof(*cnt));
			double r0 = now_s();
			int rr = cnt ? bf_maps_read_counters(&maps, cnt) : -ENOMEM;

			printf("#   reading %u counters: %.4f s (%d)\n",
			       ir->n_entries, now_s() - r0, rr);
			free(cnt);
		}
		if (fd >= 0)
			close(fd);
	}
	bf_prog_free(prog);
	bf_maps_close(&maps);
	bf_err_clear(&err);
	tb_free(ir);
	return 0;
}

/* ---- -m limit: the interpreter's clock, and BPF on every CPU at once ---------- */

/* 10/sec burst 3 at jiffies the test sets: xt_limit's arithmetic. */
static void limit_interp(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	struct bf_rule *r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	struct bf_pred *p = tb_pred(r, BF_F_LIMIT, false, 1000, 0, 3, 0, 0);
	static const struct { uint64_t at; int want; } seq[] = {
		{ 1000, 1 }, { 1000, 1 }, { 1000, 1 }, { 1000, 0 }, { 1000, 0 },
		{ 1024, 0 },	/* 24 jiffies: 3072 credits, the cost is 3200 */
		{ 1025, 1 },	/* 25: one cost */
		{ 1025, 0 },	/* fast path: poor in the same jiffy */
		{ 21025, 1 }, { 21025, 1 }, { 21025, 1 }, { 21025, 0 },	/* capped at the burst */
	};
	struct bf_limit_state st;
	struct bf_interp_env env = { .sz = sizeof(env), .limits = &st };
	uint8_t frame[256];
	struct pkt k = pkt_icmp("1.1.1.1", "2.2.2.2", 8, 0);
	size_t len = pkt_frame(&k, frame), i;
	bool ok = true;

	p->mask = bf_limit_user2credits(3000);
	p->hi = bf_limit_user2credits(1000);
	tb_finish(ir);
	bf_limit_init(p, 1000, &st);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int v;

		env.jiffies = seq[i].at;
		v = bf_interp_run_env(ir, NF_INET_LOCAL_IN, frame, len, "", "",
				      &env, NULL);
		if ((v == BF_V_ACCEPT) != seq[i].want) {
			printf("# packet %zu at jiffy %llu: got %d\n", i,
			       (unsigned long long)seq[i].at, v);
			ok = false;
		}
	}
	tap(ok, "limit/interp: 10/sec burst 3: burst, refill by jiffies, fast path, cap");
	tap(p->hi == 3200 && p->mask == 9600, "limit/interp: cost %u cap %u (HZ 250: 3200, 9600)",
	    p->hi, p->mask);
	tb_free(ir);
}

/* A namespace where 10.66.0.0/16 is local on eth0, 10.65.0.1 broadcast on lo. */
static unsigned int env_addr_type(void *ctx, uint32_t addr, const char *dev)
{
	uint32_t h = ntohl(addr);

	(void)ctx;
	if ((h >> 16) == 0x0a42)
		return !dev || !strcmp(dev, "eth0") ? 2 : 1;	/* LOCAL on eth0 */
	if (h == 0x0a410001)
		return !dev || !strcmp(dev, "lo") ? 3 : 1;	/* BROADCAST on lo */
	return 1;
}

/* The interpreter's mark and address types (bf_interp_env). */
static void env_interp(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_ACCEPT, true);
	struct bf_rule *r;
	struct bf_interp_env env = { .sz = sizeof(env), .addr_type = env_addr_type };
	static const struct {
		const char *src, *dst, *iif;
		uint32_t mark;
		int want;	/* BF_V_* */
		const char *what;
	} seq[] = {
		{ "1.1.1.1", "2.2.2.2", "eth0", 0x13, BF_V_DROP, "mark 0x13 & 0xf0 == 0x10" },
		{ "1.1.1.1", "2.2.2.2", "eth0", 0x23, BF_V_ACCEPT, "mark 0x23 & 0xf0 != 0x10" },
		{ "10.66.0.1", "2.2.2.2", "eth0", 0, BF_V_DROP, "src LOCAL on iif" },
		{ "10.66.0.1", "2.2.2.2", "eth1", 0, BF_V_ACCEPT, "src LOCAL on another device" },
		{ "1.1.1.1", "10.65.0.1", "eth1", 0, BF_V_DROP, "dst BROADCAST (no device)" },
		{ "1.1.1.1", "255.255.255.255", "eth1", 0, BF_V_DROP, "dst limited broadcast" },
		{ "0.1.2.3", "2.2.2.2", "eth1", 0, BF_V_DROP, "src 0/8 is BROADCAST: ! UNICAST,LOCAL" },
		{ "1.1.1.1", "224.0.0.9", "eth1", 0, BF_V_ACCEPT, "dst multicast" },
	};
	size_t i;

	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_pred(r, BF_F_MARK, false, 0x10, 0xf0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* --src-type LOCAL --limit-iface-in */
	tb_pred(r, BF_F_ADDRTYPE, false, 0, 0, 1u << 2, 0, 4);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* --dst-type BROADCAST */
	tb_pred(r, BF_F_ADDRTYPE, false, 0, 0, 0, 1u << 3, 0);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* ! --src-type UNICAST,LOCAL ! --dst-type MULTICAST */
	tb_pred(r, BF_F_ADDRTYPE, false, 0, 0, (1u << 1) | (1u << 2), 1u << 5, 3);
	tb_finish(ir);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct pkt k = pkt_icmp(seq[i].src, seq[i].dst, 8, 0);
		uint8_t frame[256];
		size_t len = pkt_frame(&k, frame);
		int v;

		env.mark = seq[i].mark;
		v = bf_interp_run_env(ir, NF_INET_LOCAL_IN, frame, len, seq[i].iif,
				      "", &env, NULL);
		tap(v == seq[i].want, "env/interp: %s (got %d)", seq[i].what, v);
	}
	tb_free(ir);
}

#define LIMIT_SMP_BURST	10000
#define LIMIT_SMP_RUNS	1000000	/* per CPU, 10 BPF_PROG_TEST_RUN calls */

/* One child per CPU hammers the same bucket; exactly the burst gets through. */
static void limit_smp(void)
{
	struct bf_ir *ir = tb_new();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_DROP, true);
	struct bf_rule *r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	struct bf_pred *p = tb_pred(r, BF_F_LIMIT, false, 100000, 0,
				    LIMIT_SMP_BURST, 0, 0);	/* 6/min: 10 s a cost */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), c;
	struct bf_err err = { 0 };
	struct bf_maps maps;
	struct xt_counters cnt[3];
	uint8_t frame[256];
	struct pkt k = pkt_icmp("1.1.1.1", "2.2.2.2", 8, 0);
	size_t len = pkt_frame(&k, frame);
	struct timespec start;
	int fd, status;

	p->mask = bf_limit_user2credits(100000u * LIMIT_SMP_BURST);
	p->hi = bf_limit_user2credits(100000);
	tb_finish(ir);
	if (ncpu < 2)
		ncpu = 2;
	if (ncpu > 8)
		ncpu = 8;
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "limit/smp: maps: %s", err.msg);
		goto out;
	}
	fd = load_one(ir, BF_HOOK_TC_INGRESS, NF_INET_LOCAL_IN, &maps, 0, false);
	if (fd < 0) {
		tap(false, "limit/smp: load");
		bf_maps_close(&maps);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	start.tv_nsec += 100000000;	/* every child starts at once, 100 ms from now */
	if (start.tv_nsec >= 1000000000) {
		start.tv_sec++;
		start.tv_nsec -= 1000000000;
	}
	for (c = 0; c < ncpu; c++) {
		if (fork() == 0) {
			cpu_set_t set;
			uint32_t code;
			int i;

			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
				    .data_size_in = len, .repeat = LIMIT_SMP_RUNS / 10);

			CPU_ZERO(&set);
			CPU_SET((int)c % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
			sched_setaffinity(0, sizeof(set), &set);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &start, NULL);
			/* in-kernel repeats: the CPUs really race on the bucket */
			for (i = 0; i < 10; i++)
				bpf_prog_test_run_opts(fd, &o);
			(void)code;
			_exit(0);
		}
	}
	for (c = 0; c < ncpu; c++)
		wait(&status);
	bf_maps_read_counters(&maps, cnt);
	tap(cnt[0].pcnt == LIMIT_SMP_BURST &&
	    cnt[1].pcnt == (uint64_t)ncpu * LIMIT_SMP_RUNS - LIMIT_SMP_BURST,
	    "limit/smp: %ld processes x %d packets on one bucket of burst %d: %llu accepted, %llu dropped",
	    ncpu, LIMIT_SMP_RUNS, LIMIT_SMP_BURST, (unsigned long long)cnt[0].pcnt,
	    (unsigned long long)cnt[1].pcnt);
	close(fd);
	bf_maps_close(&maps);
out:
	tb_free(ir);
}

/* ---- IPv6: frames, cases, random packets and tables ------------------------------ */

enum { X_HOP = 1, X_DST, X_RT, X_FRAG, X_AH, X_NONE, X_BIGDST, X_BADHOP };

struct pkt6 {
	uint8_t s[16], d[16];
	uint8_t proto;
	uint8_t hl;		/* 0: 64 */
	uint8_t ext[12];	/* extension headers before L4, in order */
	uint8_t n_ext;
	uint16_t frag;		/* X_FRAG: offset in bytes | 1 for MF */
	int plen_adj;		/* added to the true payload_len */
	bool jumbo;		/* payload_len 0 */
	uint8_t version;	/* 0: 6 */
	uint16_t ethertype;	/* 0: IPv6 */
	uint16_t pad;		/* bytes after the datagram */
	uint8_t l2dst;		/* as struct pkt */
	uint8_t smac_last;
	uint8_t l4[128];
	uint16_t l4_len;
	/* X_RT: hdrlen ((rt_len + 1) * 8 bytes), type, segments left, reserved */
	uint8_t rt_len, rt_type, rt_segs, rt_res;
	/* X_FRAG: identification's first byte (0: 0x12), reserved byte, bits 1-2 */
	uint8_t frag_id, frag_res, frag_bits;
	/* X_HOP/X_DST: options after the first 2 bytes (0: one PadN), zero padded */
	uint8_t xo[22];
	uint8_t xo_len;
};

static void addr6(const char *s, uint8_t *a)
{
	if (inet_pton(AF_INET6, s, a) != 1)
		abort();
}

static struct pkt6 p6_ip(const char *s, const char *d, uint8_t proto)
{
	struct pkt6 p = { .proto = proto };

	addr6(s, p.s);
	addr6(d, p.d);
	return p;
}

static struct pkt6 p6_tcp(const char *s, const char *d, uint16_t sport,
			  uint16_t dport, uint8_t flags)
{
	struct pkt6 p = p6_ip(s, d, 6);

	p.l4[0] = sport >> 8;
	p.l4[1] = sport;
	p.l4[2] = dport >> 8;
	p.l4[3] = dport;
	p.l4[12] = 5 << 4;
	p.l4[13] = flags;
	p.l4_len = 20;
	return p;
}

static struct pkt6 p6_udp(const char *s, const char *d, uint16_t sport,
			  uint16_t dport)
{
	struct pkt6 p = p6_ip(s, d, 17);

	p.l4[0] = sport >> 8;
	p.l4[1] = sport;
	p.l4[2] = dport >> 8;
	p.l4[3] = dport;
	p.l4[5] = 8;
	p.l4_len = 8;
	return p;
}

static struct pkt6 p6_icmp(const char *s, const char *d, uint8_t type,
			   uint8_t code)
{
	struct pkt6 p = p6_ip(s, d, 58);

	p.l4[0] = type;
	p.l4[1] = code;
	p.l4_len = 8;
	return p;
}

static struct pkt6 p6_ext(struct pkt6 p, uint8_t x, uint16_t frag)
{
	p.ext[p.n_ext++] = x;
	if (x == X_FRAG)
		p.frag = frag;
	return p;
}

static uint8_t p6_ext_type(uint8_t x)
{
	static const uint8_t t[] = { 0, 0, 60, 43, 44, 51, 59, 60, 0 };

	return t[x];
}

/* One extension header at `h` whose next header is `next`; its length. */
static size_t p6_ext_hdr(const struct pkt6 *p, uint8_t x, uint8_t next,
			 uint8_t *h)
{
	switch (x) {
	case X_HOP:
	case X_DST:
		h[0] = next;
		if (p->xo_len) {	/* -m hbh / -m dst options */
			h[1] = (uint8_t)((2 + p->xo_len + 7) / 8 - 1);
			memcpy(h + 2, p->xo, p->xo_len);
			return (h[1] + 1u) * 8;
		}
		h[2] = 1;	/* PadN, 4 bytes */
		h[3] = 4;
		return 8;
	case X_BIGDST:		/* 24 bytes: hdrlen 2, PadN */
		h[0] = next;
		h[1] = 2;
		h[2] = 1;
		h[3] = 4;
		h[8] = 1;
		h[9] = 6;
		h[16] = 1;
		h[17] = 4;
		return 24;
	case X_BADHOP:		/* PadN with non-zero padding: the kernel drops it */
		h[0] = next;
		h[2] = 1;
		h[3] = 4;
		h[4] = 0xee;
		return 8;
	case X_RT:
		h[0] = next;
		h[1] = p->rt_len;
		h[2] = p->rt_type;
		h[3] = p->rt_segs;
		h[7] = p->rt_res;
		return (p->rt_len + 1u) * 8;
	case X_FRAG:
		h[0] = next;
		h[1] = p->frag_res;
		h[2] = p->frag >> 8;
		h[3] = (uint8_t)(p->frag | p->frag_bits << 1);
		h[4] = p->frag_id ? p->frag_id : 0x12;
		return 8;
	case X_AH:
		h[0] = next;
		h[1] = 1;	/* (1 + 2) * 4 = 12 bytes */
		return 12;
	}
	return 0;
}

static size_t pkt6_frame(const struct pkt6 *p, uint8_t *buf)
{
	uint8_t *ip = buf + ETH_HLEN, *q = ip + 40;
	uint16_t et = p->ethertype ? p->ethertype : ETH_P_IPV6;
	size_t plen;
	int i;

	memset(buf, 0, 512);
	if (p->l2dst == 1)
		memset(buf, 0xff, 6);
	if (p->l2dst == 2)
		memcpy(buf, "\x33\x33\x00\x00\x00\x01", 6);
	buf[6] = 0x02;
	buf[11] = p->smac_last;
	buf[12] = et >> 8;
	buf[13] = et;
	ip[0] = (p->version ? p->version : 6) << 4;
	ip[6] = p->n_ext ? p6_ext_type(p->ext[0]) : p->proto;
	ip[7] = p->hl ? p->hl : 64;
	memcpy(ip + 8, p->s, 16);
	memcpy(ip + 24, p->d, 16);
	for (i = 0; i < p->n_ext; i++) {
		uint8_t next = i + 1 < p->n_ext ? p6_ext_type(p->ext[i + 1]) :
			       p->proto;

		q += p6_ext_hdr(p, p->ext[i], next, q);
		if (p->ext[i] == X_NONE)
			break;
	}
	if (!p->n_ext || p->ext[p->n_ext - 1] != X_NONE) {
		memcpy(q, p->l4, p->l4_len);
		q += p->l4_len;
	}
	plen = q - (ip + 40);
	if (!p->jumbo) {
		ip[4] = (plen + p->plen_adj) >> 8;
		ip[5] = (plen + p->plen_adj);
	}
	return ETH_HLEN + 40 + plen + p->pad;
}

struct tcase6 {
	const char *name;
	struct pkt6 pkt;
	int hook;
	uint32_t iif, oif;
	enum expect expect;
	int counters[MAX_CNT];
};

/* The hook code and counters of one frame at forced hook `hook`. */
static bool run_check6(const struct bf_ir *ir, struct loaded *l,
		       enum bf_hook h, int hook, const struct bf_test_ifs *ifs,
		       const uint8_t *frame, size_t len, enum expect e,
		       const struct xt_counters *want, char *why, size_t wlen)
{
	struct xt_counters *a = calloc(ir->n_entries, sizeof(*a));
	struct xt_counters *b = calloc(ir->n_entries, sizeof(*b));
	uint32_t key = 0, code = 999, k;
	bool ok;
	int ret;

	bpf_map_update_elem(l->maps.fd[BF_MAP_TEST], &key, ifs, BPF_ANY);
	bf_maps_read_counters(&l->maps, a);
	ret = run_frame(l->fd[h][hook], frame, len, &code);
	bf_maps_read_counters(&l->maps, b);
	ok = !ret && code == (uint32_t)expect_code(h, e);
	if (!ok)
		snprintf(why, wlen, "ret %d code %u want %d", ret, code,
			 expect_code(h, e));
	for (k = 0; ok && k < ir->n_entries; k++) {
		ok = b[k].pcnt - a[k].pcnt == want[k].pcnt &&
		     b[k].bcnt - a[k].bcnt == want[k].bcnt;
		if (!ok)
			snprintf(why, wlen, "counter %u: +%llu pkts +%llu bytes, want %llu/%llu",
				 k, (unsigned long long)(b[k].pcnt - a[k].pcnt),
				 (unsigned long long)(b[k].bcnt - a[k].bcnt),
				 (unsigned long long)want[k].pcnt,
				 (unsigned long long)want[k].bcnt);
	}
	free(a);
	free(b);
	return ok;
}

static const char *ifname(uint32_t ifindex)
{
	return ifindex ? "lo" : "";
}

/*
 * A hand-made case: the expected code and counters, and the interpreter
 * must say the same (it is the oracle of the random runs).
 */
static void run_case6(const struct bf_ir *ir, struct loaded *l, enum bf_hook h,
		      const struct tcase6 *c, const char *table)
{
	struct xt_counters *want = calloc(ir->n_entries, sizeof(*want));
	struct xt_counters *got = calloc(ir->n_entries, sizeof(*got));
	struct bf_test_ifs ifs = { c->iif, c->oif };
	uint8_t frame[512];
	size_t len = pkt6_frame(&c->pkt, frame);
	uint32_t bytes = (frame[ETH_HLEN + 4] << 8 | frame[ETH_HLEN + 5]) + 40;
	char why[200] = "";
	bool ok;
	int k, v;

	if (c->pkt.jumbo)
		bytes = len - ETH_HLEN;
	for (k = 0; k < MAX_CNT && c->counters[k] >= 0; k++) {
		want[c->counters[k]].pcnt = 1;
		want[c->counters[k]].bcnt = bytes;
	}
	ok = run_check6(ir, l, h, c->hook, &ifs, frame, len, c->expect, want,
			why, sizeof(why));
	v = bf_interp_run_frame(ir, c->hook, frame, len, ifname(c->iif),
				ifname(c->oif), got);
	if (ok && v != (c->expect == E_DROP ? BF_V_DROP :
			c->expect == E_ACCEPT ? BF_V_ACCEPT : BF_INTERP_UNFILTERED)) {
		ok = false;
		snprintf(why, sizeof(why), "interpreter says %d", v);
	}
	if (ok && memcmp(want, got, ir->n_entries * sizeof(*want))) {
		ok = false;
		snprintf(why, sizeof(why), "interpreter counters differ");
	}
	tap(ok, "%s/%s: %s%s%s", table, hook_names[h], c->name, ok ? "" : ": ",
	    why);
	free(want);
	free(got);
}

static void p6_set_addr(uint8_t *a, uint32_t pick)
{
	static const char *const pool[] = {
		"fd00::1", "fd00::2", "fd00::5", "fd00:0:0:1::1", "fd01::1",
		"2001:db8::1", "2001:db8:ffff::9", "fe80::1", "::1",
		"ff02::1", "ff01::1", "::ffff:10.0.0.1", "ff00::1", "fd00::",
		"fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};

	addr6(pool[pick % (sizeof(pool) / sizeof(pool[0]))], a);
}

/* Mutate one of the hand-made packets. */
static struct pkt6 random_pkt6(const struct pkt6 *base)
{
	struct pkt6 p = *base;
	int k, muts = 1 + rnd() % 3;

	for (k = 0; k < muts; k++) {
		switch (rnd() % 16) {
		case 0: p6_set_addr(p.s, rnd() % 8 ? rnd() % 7 : rnd()); break;
		case 1: p6_set_addr(p.d, rnd() % 8 ? rnd() % 7 : rnd()); break;
		case 2: p.s[rnd() % 16] ^= 1u << (rnd() % 8); break;
		case 3: p.l4[rnd() % 4] ^= 1u << (rnd() % 8); break;
		case 4: p.l4[13] = rnd(); break;
		case 5:
			if (p.n_ext < 12)
				p.ext[p.n_ext++] = 1 + rnd() % 7;
			break;
		case 6: p.frag = (rnd() % 3 == 0) ? 1 : 8 * (rnd() % 3) | (rnd() % 2); break;
		case 7: p.l4_len = rnd() % 60; break;
		case 8: p.pad = rnd() % 40; break;
		case 9: p.proto = (uint8_t[]){ 58, 6, 17, 47, 0, 43, 59 }[rnd() % 7]; break;
		case 10: p.plen_adj = (int)(rnd() % 5) - 2; break;
		case 11: p.l4[0] = 128 + rnd() % 4; p.l4[1] = rnd() % 4; break;
		case 12: p.hl = rnd() % 4 ? 60 + rnd() % 8 : rnd() % 3; break;
		case 13: p.l2dst = rnd() % 3; p.smac_last = rnd() % 3; break;
		case 14: p.n_ext = 0; break;
		case 15:
			if (rnd() % 4 == 0)
				p.version = 4;
			else if (rnd() % 3 == 0)
				p.jumbo = true;
			else
				p.l4[12] = (rnd() % 16) << 4;
			break;
		}
	}
	return p;
}

static unsigned int random6_bad;
static char random6_first[300];

static void run_random6(const struct bf_ir *ir, struct loaded *l,
			enum bf_hook h, const struct pkt6 *base, size_t n)
{
	static const int hooks[] = {
		NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT,
	};
	struct xt_counters *want = calloc(ir->n_entries, sizeof(*want));
	unsigned int i;

	for (i = 0; i < random_n; i++) {
		struct pkt6 p = random_pkt6(&base[rnd() % n]);
		struct bf_test_ifs ifs = { rnd() % 2, rnd() % 2 };
		int hook = hooks[rnd() % 3], v;
		uint8_t frame[512];
		size_t len = pkt6_frame(&p, frame);
		enum expect e;
		char why[160] = "";

		memset(want, 0, ir->n_entries * sizeof(*want));
		v = bf_interp_run_frame(ir, hook, frame, len, ifname(ifs.iif),
					ifname(ifs.oif), want);
		e = v == BF_V_DROP ? E_DROP : v == BF_V_ACCEPT ? E_ACCEPT : E_PASS;
		if (v < 0 || !run_check6(ir, l, h, hook, &ifs, frame, len, e,
					 want, why, sizeof(why))) {
			if (!random6_bad++) {
				char s[64], d[64];

				inet_ntop(AF_INET6, p.s, s, sizeof(s));
				inet_ntop(AF_INET6, p.d, d, sizeof(d));
				snprintf(random6_first, sizeof(random6_first),
					 "%s packet %u hook %d iif %u oif %u: interp %d: %s; %s->%s proto %u n_ext %u ext0 %u frag %x l4 %u pad %u hl %u",
					 hook_names[h], i, hook, ifs.iif, ifs.oif,
					 v, why, s, d, p.proto, p.n_ext, p.ext[0],
					 p.frag, p.l4_len, p.pad, p.hl);
			}
		}
	}
	free(want);
}

static void run_table6(const char *name, struct bf_ir *ir,
		       const struct tcase6 *cases, size_t n, uint32_t piece)
{
	struct pkt6 *base = calloc(n, sizeof(*base));
	struct loaded l;
	size_t i;
	int h;

	tb_finish(ir);
	for (i = 0; i < n; i++)
		base[i] = cases[i].pkt;
	if (load_table(ir, &l, piece)) {
		tap(false, "%s: load", name);
		free(base);
		return;
	}
	for (h = 0; h < 3; h++) {
		bool loaded = l.fd[h][NF_INET_LOCAL_IN] >= 0 &&
			      l.fd[h][NF_INET_FORWARD] >= 0 &&
			      l.fd[h][NF_INET_LOCAL_OUT] >= 0;

		tap(loaded, "%s/%s: programs load", name, hook_names[h]);
		if (!loaded)
			continue;
		for (i = 0; i < n; i++)
			run_case6(ir, &l, test_hooks[h], &cases[i], name);
		if (random_n) {
			random6_bad = 0;
			run_random6(ir, &l, test_hooks[h], base, n);
			tap(!random6_bad, "%s/%s: %u random IPv6 packets agree with bf_interp_run%s%s",
			    name, hook_names[h], random_n,
			    random6_bad ? ": " : "", random6_bad ? random6_first : "");
		}
	}
	unload_table(&l);
	free(base);
}

static struct bf_ir *tb_new6(void)
{
	struct bf_ir *ir = tb_new();

	ir->family = AF_INET6;
	return ir;
}

static struct bf_pred *tb_addr6(struct bf_rule *r, enum bf_field f, bool inv,
				const char *a, int plen)
{
	struct bf_pred *p = tb_pred(r, f, inv, 0, 0, 0, 0, 0);
	int i;

	addr6(a, p->a6);
	for (i = 0; i < 16; i++) {
		int bits = plen - 8 * i;

		p->b6[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);
	}
	return p;
}

static struct bf_pred *tb_range6(struct bf_rule *r, enum bf_field f, bool inv,
				 const char *lo, const char *hi)
{
	struct bf_pred *p = tb_pred(r, f, inv, 0, 0, 0, 0, 0);

	addr6(lo, p->a6);
	addr6(hi, p->b6);
	return p;
}

/* -p PROTO with an L4 match's guard (tcp 20, udp 8, icmp6 2 bytes) */
static void add_l4hdr6(struct bf_rule *r, uint8_t proto)
{
	tb_pred(r, BF_F_PROTO6, false, proto, 0, 0, 0, 0);
	tb_pred(r, BF_F_L4HDR, false, proto, 0,
		proto == 6 ? 20 : proto == 17 ? 8 : proto == 58 ? 2 : 4, 0,
		proto == 6 ? BF_L4_EVIL_FRAG : 0);
}

#define S6	"fd00::2"
#define D6	"fd00::1"

static void table6_basic(void)
{
	struct bf_ir *ir = tb_new6();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t lo = tb_ifpat(ir, "lo"), fwd, out;
	struct bf_rule *r;

	/* 0: -s fd00::/16 -p tcp --dport 22 -j DROP */
	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_addr6(r, BF_F_SADDR6, false, "fd00::", 16);
	add_l4hdr6(r, 6);
	tb_pred(r, BF_F_DPORT, false, 0, 0, 22, 22, 0);
	/* 1: ! -d fd00::1 -p udp -j DROP */
	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_addr6(r, BF_F_DADDR6, true, D6, 128);
	tb_pred(r, BF_F_PROTO6, false, 17, 0, 0, 0, 0);
	/* 2: -p icmpv6 --icmpv6-type 128 -j ACCEPT */
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	add_l4hdr6(r, 58);
	tb_pred(r, BF_F_ICMP6, false, 128, 0, 0, 255, 0);
	/* 3: -i lo -p ! tcp (counted, no verdict) */
	r = tb_rule(ir, in, BF_V_NEXT, 0);
	tb_pred(r, BF_F_IIF, false, lo, 0, 0, 0, 0);
	tb_pred(r, BF_F_PROTO6, true, 6, 0, 0, 0, 0);
	/* 4: -p udp --sport 1:9 -j DROP */
	r = tb_rule(ir, in, BF_V_DROP, 0);
	add_l4hdr6(r, 17);
	tb_pred(r, BF_F_SPORT, false, 0, 0, 1, 9, 0);
	/* 5: policy */
	fwd = tb_chain(ir, "FORWARD", FWD, BF_V_DROP, true);
	/* 6: -p all (counted) */
	r = tb_rule(ir, fwd, BF_V_NEXT, 0);
	tb_pred(r, BF_F_PROTO6, false, 0, 0, 0, 0, 0);
	/* 7: -m iprange --src-range fd00::1-fd00::5 -o lo -j ACCEPT */
	r = tb_rule(ir, fwd, BF_V_ACCEPT, 0);
	tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0);
	tb_range6(r, BF_F_SRANGE6, false, "fd00::1", "fd00::5");
	tb_pred(r, BF_F_OIF, false, lo, 0, 0, 0, 0);
	/* 8: -p tcp --tcp-flags SYN SYN -j ACCEPT */
	r = tb_rule(ir, fwd, BF_V_ACCEPT, 0);
	add_l4hdr6(r, 6);
	tb_pred(r, BF_F_TCPFLAGS, false, 2, 2, 0, 0, 0);
	/* 9: policy */
	out = tb_chain(ir, "OUTPUT", OUT, BF_V_ACCEPT, true);
	/* 10: -d 2001:db8::/32 -j DROP */
	r = tb_rule(ir, out, BF_V_DROP, 0);
	tb_addr6(r, BF_F_DADDR6, false, "2001:db8::", 32);
	/* 11: -p icmpv6 ! --icmpv6-type 1/0-3 -j DROP */
	r = tb_rule(ir, out, BF_V_DROP, 0);
	add_l4hdr6(r, 58);
	tb_pred(r, BF_F_ICMP6, true, 1, 0, 0, 3, 0);
	/* 12: policy */

	struct tcase6 c[] = {
		{ "saddr fd00::/16 tcp dport 22 drop", p6_tcp(S6, D6, 1000, 22, 2), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp dport 23: policy", p6_tcp(S6, D6, 1000, 23, 2), IN, 0, 0, E_ACCEPT, CNT(5) },
		{ "fd01:: tcp 22: policy", p6_tcp("fd01::2", D6, 1000, 22, 2), IN, 0, 0, E_ACCEPT, CNT(5) },
		{ "udp to another daddr drop", p6_udp(S6, "fd00::9", 100, 53), IN, 0, 0, E_DROP, CNT(1) },
		{ "udp sport 5 drop", p6_udp(S6, D6, 5, 53), IN, 0, 0, E_DROP, CNT(4) },
		{ "udp on lo: counted, then sport 50 policy", p6_udp(S6, D6, 50, 53), IN, 1, 0, E_ACCEPT, CNT(3, 5) },
		{ "echo request accept", p6_icmp(S6, D6, 128, 0), IN, 0, 0, E_ACCEPT, CNT(2) },
		{ "echo reply: policy", p6_icmp(S6, D6, 129, 0), IN, 0, 0, E_ACCEPT, CNT(5) },
		{ "tcp behind hop+dst+rt+ah", p6_ext(p6_ext(p6_ext(p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_HOP, 0), X_DST, 0), X_RT, 0), X_AH, 0), IN, 0, 0, E_DROP, CNT(0) },
		{ "tcp behind first fragment", p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_FRAG, 1), IN, 0, 0, E_DROP, CNT(0) },
		{ "tcp non-first fragment: no port match", p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_FRAG, 8), IN, 0, 0, E_ACCEPT, CNT(5) },
		{ "fragment then dst: walk error hotdrops", p6_ext(p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_FRAG, 16), X_DST, 0), IN, 0, 0, E_DROP, NONE },
		{ "tcp header cut: hotdrop", { .s = {0}, .proto = 0 }, IN, 0, 0, E_DROP, NONE },
		{ "no next header", p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_NONE, 0), IN, 1, 0, E_ACCEPT, CNT(3, 5) },
		{ "bad hop-by-hop TLV: filtered (designed difference: the kernel drops it first)", p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_BADHOP, 0), IN, 0, 0, E_DROP, CNT(0) },
		{ "9 extension headers: past the bound", p6_ext(p6_ext(p6_ext(p6_ext(p6_ext(p6_ext(p6_ext(p6_ext(p6_ext(p6_tcp(S6, D6, 1, 22, 2), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), X_DST, 0), IN, 0, 0, E_DROP, NONE },
		{ "multicast source: unfiltered", p6_tcp("ff02::1", D6, 1, 22, 2), IN, 0, 0, E_PASS, NONE },
		{ "v4-mapped source: filtered", p6_tcp("::ffff:10.0.0.1", D6, 1, 22, 2), IN, 0, 0, E_ACCEPT, CNT(5) },
		{ "::1 source: unfiltered", p6_tcp("::1", D6, 1, 22, 2), IN, 0, 0, E_PASS, NONE },
		{ "::1 destination: unfiltered", p6_tcp(S6, "::1", 1, 22, 2), IN, 0, 0, E_PASS, NONE },
		{ "ff01::1 destination: unfiltered", p6_udp(S6, "ff01::1", 1, 2), IN, 0, 0, E_PASS, NONE },
		{ "ff02::1 destination: filtered", p6_udp(S6, "ff02::1", 50, 2), IN, 0, 0, E_DROP, CNT(1) },
		{ "payload_len past the frame: unfiltered", { .s = {0} }, IN, 0, 0, E_PASS, NONE },
		{ "forward: counted, srange, oif lo", p6_udp("fd00::3", D6, 1, 2), FWD, 1, 1, E_ACCEPT, CNT(6, 7) },
		{ "forward: srange, oif none", p6_udp("fd00::3", D6, 1, 2), FWD, 1, 0, E_DROP, CNT(6, 9) },
		{ "forward: syn", p6_tcp("fd00::9", D6, 1, 2, 2), FWD, 1, 0, E_ACCEPT, CNT(6, 8) },
		{ "forward: hop limit 1 unfiltered", p6_tcp("fd00::9", D6, 1, 2, 2), FWD, 1, 0, E_PASS, NONE },
		{ "output: 2001:db8::/32 drop", p6_udp(S6, "2001:db8::1", 1, 2), OUT, 0, 1, E_DROP, CNT(10) },
		{ "output: icmp6 type 1 code 2 ok", p6_icmp(S6, D6, 1, 2), OUT, 0, 1, E_ACCEPT, CNT(12) },
		{ "output: icmp6 type 1 code 4 drop", p6_icmp(S6, D6, 1, 4), OUT, 0, 1, E_DROP, CNT(11) },
		{ "output: ff01::1 is not checked", p6_icmp(S6, "ff01::1", 1, 2), OUT, 0, 1, E_ACCEPT, CNT(12) },
		{ "output: payload_len 0 is the whole frame (BIG TCP)", p6_icmp(S6, D6, 1, 4), OUT, 0, 1, E_DROP, CNT(11) },
		{ "input: payload_len 0 without hop-by-hop: 40 bytes, udp cut: hotdrop", p6_udp(S6, D6, 5, 53), IN, 0, 0, E_DROP, NONE },
		{ "input: payload_len 0 with hop-by-hop: the whole frame", p6_ext(p6_udp(S6, D6, 5, 53), X_HOP, 0), IN, 0, 0, E_DROP, CNT(4) },
		{ "IPv4 frame: unfiltered", p6_udp(S6, D6, 1, 2), IN, 0, 0, E_PASS, NONE },
		{ "version 4 in an IPv6 frame: unfiltered", p6_udp(S6, D6, 1, 2), IN, 0, 0, E_PASS, NONE },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!strcmp(c[i].name, "tcp header cut: hotdrop")) {
			c[i].pkt = p6_tcp(S6, D6, 1, 22, 2);
			c[i].pkt.l4_len = 12;
		}
		if (!strcmp(c[i].name, "payload_len past the frame: unfiltered")) {
			c[i].pkt = p6_tcp(S6, D6, 1, 22, 2);
			c[i].pkt.plen_adj = 1;
		}
		if (!strcmp(c[i].name, "forward: hop limit 1 unfiltered"))
			c[i].pkt.hl = 1;
		if (strstr(c[i].name, "payload_len 0"))
			c[i].pkt.jumbo = true;
		if (!strcmp(c[i].name, "IPv4 frame: unfiltered"))
			c[i].pkt.ethertype = ETH_P_IP;
		if (!strcmp(c[i].name, "version 4 in an IPv6 frame: unfiltered"))
			c[i].pkt.version = 4;
	}
	run_table6("v6basic", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void fuzz6_addr(struct bf_rule *r, bool inv)
{
	static const char *const nets[] = {
		"fd00::", "fd00::1", "fd00::2", "2001:db8::", "fd00:0:0:1::",
		"fe80::",
	};
	static const int plens[] = { 128, 127, 64, 16, 8, 0, 120 };
	struct bf_pred *p;

	p = tb_addr6(r, rnd() % 2 ? BF_F_SADDR6 : BF_F_DADDR6, inv,
		     nets[rnd() % 6], plens[rnd() % 7]);
	if (rnd() % 8 == 0)	/* address bits outside the mask */
		p->a6[15] |= 1;
}

static void fuzz6_match(struct bf_rule *r, bool inv)
{
	static const char *const lo[] = { "fd00::", "fd00::1", "fd00::2", "2001:db8::" };
	static const char *const hi[] = { "fd00::2", "fd00::5", "fd00:0:0:1::1", "ff00::" };
	uint32_t n;

	switch (rnd() % 9) {
	case 8: {	/* -m addrtype (ip6tables): UNSPEC, UNICAST, MULTICAST */
		static const uint32_t t[] = { 0, 0x01, 0x02, 0x20, 0x03, 0x22 };

		tb_pred(r, BF_F_ADDRTYPE6, false, 0, 0, t[rnd() % 6], t[rnd() % 6],
			rnd() & 0x0b);
		break;
	}
	case 6: {	/* -m frag: id range around the packets' (0x12000000, 0x1000000...) */
		uint32_t lo = (rnd() % 4) << 24, f = rnd() & 0x3f;

		tb_pred(r, BF_F_FRAG6, false, 0, 8, lo, lo + (rnd() % 3) * 0x1000000,
			f | (rnd() & 0x03) << 8);
		break;
	}
	case 7: {	/* -m hbh / -m dst: length, up to 4 options */
		static const uint16_t os[] = { 0x00ff, 0x0104, 0x01ff, 0x0502, 0x1eff,
					       0x1e02, 0x0100, 0x1e00 };
		struct bf_pred *p = tb_pred(r, BF_F_OPTS6, false, rnd() % 2 ? 0 : 60,
					    8 * (1 + rnd() % 3), 0, rnd() % 5,
					    (rnd() & 0x03) | (rnd() & 0x01) << 8);
		uint32_t k;

		for (k = 0; k < p->hi; k++) {
			uint16_t o = os[rnd() % 8];

			memcpy(p->a6 + 2 * k, &o, 2);
		}
		break;
	}
	case 5: {	/* -m rt: type, segments left, length, reserved */
		uint32_t f = rnd() & 0x0f, lo = rnd() % 3;

		if (f & 0x08)	/* --rt-0-res needs --rt-type 0 */
			f |= 0x01;
		tb_pred(r, BF_F_RT, false, f & 0x08 ? 0 : rnd() % 3, 8 * (1 + rnd() % 3),
			lo, rnd() % 4 ? lo + rnd() % 2 : 0xffffffff,
			f | (f & 0x08 ? 0 : rnd() & 0x01) << 8 | (rnd() & 0x06) << 8);
		break;
	}
	case 0:
		n = 40 + rnd() % 60;
		tb_pred(r, BF_F_LENGTH, inv, 0, 0, n, n + rnd() % 30, 0);
		break;
	case 1:
		tb_pred(r, BF_F_TTL, false, 60 + rnd() % 8, 0, 0, 0, rnd() % 5);
		break;
	case 2:
		tb_pred(r, BF_F_PKTTYPE, inv, rnd() % 3, 0, 0, 0, 0);
		break;
	case 3:
		tb_pred(r, BF_F_SMAC, inv, 0x02000000, 0, rnd() % 3, 0, 0);
		break;
	default:
		tb_pred(r, BF_F_IPRANGE, false, 0, 0, 0, 0, 0);
		tb_range6(r, rnd() % 2 ? BF_F_SRANGE6 : BF_F_DRANGE6, inv,
			  lo[rnd() % 4], hi[rnd() % 4]);
		break;
	}
}

static void fuzz6_l4(struct bf_rule *r)
{
	uint8_t proto = (uint8_t[]){ 6, 17, 58 }[rnd() % 3];
	int k, n = rnd() % 3;

	add_l4hdr6(r, proto);
	for (k = 0; k < n; k++) {
		uint32_t lo = rnd() % 8, hi = lo + rnd() % 4;
		bool inv = rnd() % 3 == 0;

		if (proto == 58) {
			tb_pred(r, BF_F_ICMP6, inv, 128 + rnd() % 4, 0, lo % 4,
				hi % 6, 0);
			continue;
		}
		switch (rnd() % (proto == 6 ? 4 : 2)) {
		case 0: tb_pred(r, BF_F_SPORT, inv, 0, 0, lo, hi, 0); break;
		case 1: tb_pred(r, BF_F_DPORT, inv, 0, 0, lo, hi, 0); break;
		case 2: tb_pred(r, BF_F_TCPFLAGS, inv, rnd() & 0x13, 0x13, 0, 0, 0); break;
		case 3: tb_pred(r, BF_F_TCPOPT, inv, rnd() % 6, 0, 0, 0, 0); break;
		}
		if (rnd() % 4 == 0)
			fuzz_mport(r, inv);
	}
}

static void fuzz6_rule(struct bf_ir *ir, uint32_t ch, uint32_t n_chains)
{
	static const enum bf_verdict vs[] = {
		BF_V_NEXT, BF_V_ACCEPT, BF_V_DROP, BF_V_RETURN, BF_V_JUMP,
		BF_V_GOTO,
	};
	enum bf_verdict v = vs[rnd() % 6];
	uint32_t target = 0, k, n = rnd() % 3;
	struct bf_rule *r;

	if (v == BF_V_JUMP || v == BF_V_GOTO) {
		uint32_t first = ch < 3 ? 3 : ch + 1;

		if (first >= n_chains)
			v = BF_V_DROP;
		else
			target = first + rnd() % (n_chains - first);
	}
	r = tb_rule(ir, ch, v, target);
	for (k = 0; k < n; k++) {
		bool inv = rnd() % 3 == 0;

		switch (rnd() % 6) {
		case 0:
			fuzz6_addr(r, inv);
			break;
		case 1:
			tb_pred(r, rnd() % 2 ? BF_F_IIF : BF_F_OIF, inv,
				rnd() % ir->n_ifpats, 0, 0, 0, 0);
			break;
		case 2:
			tb_pred(r, BF_F_PROTO6, inv,
				(uint8_t[]){ 0, 6, 17, 58, 59, 47 }[rnd() % 6],
				0, 0, 0, 0);
			break;
		case 3:
			fuzz6_match(r, inv);
			break;
		default:
			if (k == 0) {
				fuzz6_l4(r);
				k = n;
			}
			break;
		}
	}
}

static struct pkt6 fuzz_pkt6(void)
{
	static const uint8_t opts[][8] = {
		{ 2, 4, 5, 0xb4 }, { 1, 1, 3, 3, 1, 0, 0, 0 }, { 4, 2, 5, 2 },
	};
	char s[64], d[64];
	struct pkt6 p;
	int k;

	static const char *const odd[] = {	/* -m addrtype's classes */
		"::", "::ffff:10.0.0.1", "::10.0.0.1", "ff02::1", "ff0e::5",
		"fe80::1", "::ffff:0:0", "e000::1",
	};

	snprintf(s, sizeof(s), "fd00::%x", rnd() % 6);
	snprintf(d, sizeof(d), rnd() % 4 ? "fd00::%x" : "2001:db8::%x", rnd() % 6);
	if (rnd() % 8 == 0)
		snprintf(s, sizeof(s), "%s", odd[rnd() % 8]);
	if (rnd() % 8 == 0)
		snprintf(d, sizeof(d), "%s", odd[rnd() % 8]);
	switch (rnd() % 3) {
	case 0:
		p = p6_tcp(s, d, rnd() % 12, rnd() % 12, rnd() & 0x3f);
		if (rnd() % 2) {
			memcpy(p.l4 + 20, opts[rnd() % 3], 8);
			p.l4[12] = 7 << 4;
			p.l4_len = 28;
		}
		break;
	case 1:
		p = p6_udp(s, d, rnd() % 12, rnd() % 12);
		break;
	default:
		p = p6_icmp(s, d, 128 + rnd() % 4, rnd() % 7);
		break;
	}
	for (k = rnd() % 4 == 0 ? 1 + rnd() % 3 : 0; k > 0; k--)
		p = p6_ext(p, 1 + rnd() % 7, rnd() % 3 ? 0 : 8 * (rnd() % 3) | (rnd() % 2));
	p.rt_len = rnd() % 4 ? 0 : rnd() % 3;
	p.rt_type = rnd() % 3;
	p.rt_segs = rnd() % 3;
	p.rt_res = rnd() % 4 == 0;
	p.frag_id = rnd() % 5;
	p.frag_res = rnd() % 4 == 0;
	p.frag_bits = rnd() % 4 == 0 ? rnd() % 4 : 0;
	if (rnd() % 2) {	/* hop-by-hop / destination options (-m hbh / -m dst) */
		static const uint8_t tlv[][4] = {
			{ 0 }, { 1, 0 }, { 1, 2, 0, 0 }, { 5, 2, 0, 0 }, { 0x1e, 2, 1, 1 },
			{ 0x1e, 0 }, { 0x1e, 9 }, { 1, 4 },
		};
		static const uint8_t tlen[] = { 1, 2, 4, 4, 4, 2, 2, 2 };
		int n = 1 + rnd() % 5;

		while (n-- > 0) {
			int t = rnd() % 8;

			if (p.xo_len + tlen[t] > sizeof(p.xo))
				break;
			memcpy(p.xo + p.xo_len, tlv[t], tlen[t]);
			p.xo_len += tlen[t];
		}
	}
	if (rnd() % 8 == 0)	/* cut the datagram inside its headers */
		p.plen_adj = -(int)(rnd() % 24);
	if (rnd() % 10 == 0)
		p.l4_len = rnd() % 24;
	if (rnd() % 10 == 0)
		p.pad = rnd() % 20;
	if (rnd() % 2)
		p.hl = 60 + rnd() % 8;
	p.l2dst = rnd() % 3;
	p.smac_last = rnd() % 3;
	return p;
}

/* Refused as nested too deep at one of the hooks (-E2BIG): fine, skip it. */
static bool fuzz6_too_deep(const struct bf_ir *ir, uint32_t piece)
{
	int h;

	for (h = 0; h < 3; h++) {
		struct bf_gen_opts o = { .sz = sizeof(o), .hook = test_hooks[h],
					 .force_hook = -1, .piece_rules = piece };
		struct bf_prog *prog = NULL;
		struct bf_err err = { 0 };
		int ret = bf_gen(ir, &o, &prog, &err);

		bf_prog_free(prog);
		if (ret == -E2BIG)
			return true;
	}
	return false;
}

static void fuzz6_tables(unsigned int n_tables)
{
	unsigned int t, bad = 0, skipped = 0, piece;
	char first[400] = "";

	for (t = 0; t < n_tables; t++) {
		struct bf_ir *ir = tb_new6();
		uint32_t n_user = rnd() % 4, c, k, n_chains;
		struct pkt6 base[16];
		struct loaded l;
		int h;

		tb_ifpat(ir, "lo");
		tb_ifpat(ir, "l+");
		tb_ifpat(ir, "+");
		tb_chain(ir, "INPUT", IN, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		tb_chain(ir, "FORWARD", FWD, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		tb_chain(ir, "OUTPUT", OUT, rnd() % 2 ? BF_V_ACCEPT : BF_V_DROP, true);
		for (c = 0; c < n_user; c++) {
			char name[8];

			snprintf(name, sizeof(name), "U%u", c);
			tb_chain(ir, name, BF_HOOK_NONE,
				 rnd() % 4 ? BF_V_RETURN : BF_V_DROP, true);
			ir->chains[ir->n_chains - 1].end_counts =
				ir->chains[ir->n_chains - 1].end == BF_V_RETURN;
		}
		n_chains = ir->n_chains;
		for (c = 0; c < n_chains; c++)
			for (k = rnd() % 7; k > 0; k--)
				fuzz6_rule(ir, c, n_chains);
		tb_finish(ir);
		piece = 1 + rnd() % 4;
		if (fuzz6_too_deep(ir, piece)) {
			skipped++;
			tb_free(ir);
			continue;
		}
		if (load_table(ir, &l, piece)) {
			bad++;
			tb_free(ir);
			continue;
		}
		for (k = 0; k < 16; k++)
			base[k] = fuzz_pkt6();
		for (h = 0; h < 3; h++) {
			if (l.fd[h][IN] < 0 || l.fd[h][FWD] < 0 || l.fd[h][OUT] < 0) {
				if (!bad++)
					snprintf(first, sizeof(first), "table %u: load", t);
				continue;
			}
			random6_bad = 0;
			run_random6(ir, &l, test_hooks[h], base, 16);
			if (random6_bad && !bad++) {
				snprintf(first, sizeof(first), "table %u: %s", t,
					 random6_first);
				fuzz_print(ir);
			}
		}
		unload_table(&l);
		tb_free(ir);
	}
	tap(!bad, "fuzz6: %u random IPv6 tables (%u refused as too deep) x 3 hooks x %u packets agree with bf_interp_run%s%s",
	    n_tables, skipped, random_n, bad ? ": " : "", first);
}

/* BPF_PROG_TEST_RUN of a tc program with skb->mark = mark */
static int run_frame_mark(int fd, const uint8_t *frame, size_t len,
			  uint32_t mark, uint32_t *ret)
{
	struct __sk_buff skb = { .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = len, .repeat = 1);

	if (mark) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ret = o.retval;
	return 0;
}

/* -m mark and -m limit in IPv6 programs (both are every-family matches). */
static void table6_mark_limit(void)
{
	struct bf_ir *ir = tb_new6();
	uint32_t in = tb_chain(ir, "INPUT", NF_INET_LOCAL_IN, BF_V_ACCEPT, true);
	struct bf_rule *r;
	struct bf_pred *lim;
	static const struct { uint32_t mark; bool accept; const char *what; } seq[] = {
		{ 0x13, false, "mark 0x13: the mark rule drops" },
		{ 0, true, "unmarked: limit burst 2, first" },
		{ 0x20, true, "mark 0x20: limit, second" },
		{ 0, false, "limit: bucket empty, the next rule drops" },
	};
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP, .force_hook = IN };
	struct bf_limit_state st;
	struct bf_interp_env env = { .sz = sizeof(env), .limits = &st };
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	struct pkt6 k = p6_icmp("fd00::1", "fd00::2", 128, 0);
	struct bf_maps maps;
	uint8_t frame[512];
	size_t len = pkt6_frame(&k, frame), i;
	uint32_t code = 0;
	int fd, ret;

	r = tb_rule(ir, in, BF_V_DROP, 0);
	tb_pred(r, BF_F_MARK, false, 0x10, 0xf0, 0, 0, 0);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);
	lim = tb_pred(r, BF_F_LIMIT, false, 600000, 0, 2, 0, 0);	/* 1/min burst 2 */
	lim->mask = bf_limit_user2credits(1200000);
	lim->hi = bf_limit_user2credits(600000);
	tb_rule(ir, in, BF_V_DROP, 0);
	tb_finish(ir);
	ret = bf_gen(ir, &o, &prog, &err);
	tap(ret == -EINVAL && strstr(err.msg, "match 'mark' needs the skb mark"),
	    "v6 mark/xdp: refused (%d: %s)", ret, err.msg);
	bf_prog_free(prog);
	if (bf_maps_create(ir, &maps, &err)) {
		tap(false, "v6 mark/limit: maps: %s", err.msg);
		goto out;
	}
	fd = load_one(ir, BF_HOOK_TC_INGRESS, IN, &maps, 0, false);
	if (fd < 0) {
		tap(false, "v6 mark/limit: load at tc");
		bf_maps_close(&maps);
		goto out;
	}
	bf_limit_init(lim, 0, &st);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int v;

		env.mark = seq[i].mark;
		v = bf_interp_run_env(ir, IN, frame, len, "", "", &env, NULL);
		ret = run_frame_mark(fd, frame, len, seq[i].mark, &code);
		tap(!ret && (code == TC_ACT_OK) == seq[i].accept &&
		    (v == BF_V_ACCEPT) == seq[i].accept,
		    "v6 mark/limit tc: %s (BPF %u, interp %d)", seq[i].what, code, v);
	}
	close(fd);
	bf_maps_close(&maps);
out:
	tb_free(ir);
}

/* Median of 5 BPF_PROG_TEST_RUN durations of `frame` (ns/packet). */
static double bench6_ns(int fd, const uint8_t *frame, size_t len, uint32_t rep)
{
	double ns[5], x;
	int k, j;

	for (k = 0; k < 5; k++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame,
			    .data_size_in = len, .repeat = rep);
		bpf_prog_test_run_opts(fd, &t);
		ns[k] = t.duration;
	}
	for (k = 0; k < 5; k++)
		for (j = k + 1; j < 5; j++)
			if (ns[j] < ns[k]) {
				x = ns[j];
				ns[j] = ns[k];
				ns[k] = x;
			}
	return ns[2];
}

/*
 * IPv6: n rules "-s 2001:db8::<i>/128 -p tcp --dport <1000 + i % 1000>
 * -j DROP" then ACCEPT, a TCP packet that matches none, behind no
 * extension header and behind hop-by-hop + destination options.
 */
static int bench6_one(uint32_t n)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = BF_HOOK_XDP,
				 .force_hook = IN };
	struct bf_ir *ir = tb_new6();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true), i;
	struct pkt6 p = p6_tcp("2001:db8:1::1", "fd00::1", 40000, 80, 0x02);
	struct pkt6 px = p6_ext(p6_ext(p, X_HOP, 0), X_DST, 0);
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	struct bf_maps maps;
	uint8_t frame[512], framex[512];
	size_t len, lenx;
	double t0, t1, t2;
	int fd, r, fdt;

	for (i = 0; i < n; i++) {
		struct bf_rule *rule = tb_rule(ir, in, BF_V_DROP, 0);
		struct bf_pred *a = tb_addr6(rule, BF_F_SADDR6, false,
					     "2001:db8::", 128);

		a->a6[12] = i >> 24;
		a->a6[13] = i >> 16;
		a->a6[14] = i >> 8;
		a->a6[15] = i;
		add_l4hdr6(rule, 6);
		tb_pred(rule, BF_F_DPORT, false, 0, 0, 1000 + i % 1000,
			1000 + i % 1000, 0);
	}
	tb_finish(ir);
	if (bf_maps_create(ir, &maps, &err))
		return -1;
	t0 = now_s();
	r = bf_gen(ir, &o, &prog, &err);
	t1 = now_s();
	fd = r ? r : bf_prog_load(prog, &maps, &err);
	t2 = now_s();
	if (fd < 0) {
		printf("# %u rules: %s\n", n, err.msg);
		tap(false, "bench6 %u rules loads", n);
	} else {
		uint32_t rep = n >= 10000 ? 200 : n >= 1000 ? 2000 : 100000;

		len = pkt6_frame(&p, frame);
		lenx = pkt6_frame(&px, framex);
		tap(true, "bench6 %6u rules: %7u insns %4u funcs, gen %.3f s, load %.3f s, xdp %.0f ns/pkt (%.0f behind hop+dst)",
		    n, prog->n_insns, prog->n_funcs, t1 - t0, t2 - t1,
		    bench6_ns(fd, frame, len, rep),
		    bench6_ns(fd, framex, lenx, rep));
		close(fd);
		fdt = load_one(ir, BF_HOOK_TC_INGRESS, IN, &maps, 0, false);
		if (fdt >= 0) {
			printf("#   tc ingress: %.0f ns/pkt\n",
			       bench6_ns(fdt, frame, len, rep));
			close(fdt);
		}
	}
	bf_prog_free(prog);
	bf_maps_close(&maps);
	bf_err_clear(&err);
	tb_free(ir);
	return 0;
}

/*
 * -m conntrack in an IPv6 table: the state without a kernel entry, as
 * table_ct() for IPv4, plus what only IPv6 has: ICMPv6 messages the
 * kernel leaves UNTRACKED (MLD, neighbour and router discovery), the
 * extension-header walk (NEXTHDR_NONE INVALID, headers before TCP).
 * UNTRACKED reaches the policy (counter 5), NEW rule 4.
 */
static struct pkt6 ct6_icmp_err(uint8_t inner_proto)
{
	struct pkt6 p = p6_icmp(S6, D6, 1, 4);

	p.l4[8] = 0x60;
	p.l4[8 + 6] = inner_proto;
	memcpy(p.l4 + 8 + 8, p.d, 16);
	memcpy(p.l4 + 8 + 24, p.s, 16);
	p.l4[48 + 1] = 53;
	p.l4_len = 56;
	return p;
}

static void table6_ct(void)
{
	struct bf_ir *ir;
	uint32_t in;
	struct bf_rule *r;

	if (unshare(CLONE_NEWNET)) {
		tap(false, "ct6: unshare(CLONE_NEWNET): %s", strerror(errno));
		return;
	}
	ir = tb_new6();
	in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 0: INVALID */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_INVALID, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 1: ESTABLISHED */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_ESTABLISHED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 2: RELATED */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_RELATED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_DROP, 0);		/* 3: ! NEW,UNTRACKED */
	tb_pred(r, BF_F_CTSTATE, true, BF_CT_NEW | BF_CT_UNTRACKED, 0, 0, 0, 3 << 16 | 1);
	r = tb_rule(ir, in, BF_V_ACCEPT, 0);		/* 4: NEW (xt_state) */
	tb_pred(r, BF_F_CTSTATE, false, BF_CT_NEW, 0, 0, 0, 0);
	/* policy: 5 */

	struct tcase6 c[] = {
		{ "tcp SYN: NEW", p6_tcp(S6, D6, 1, 22, 0x02), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp ACK: NEW (loose)", p6_tcp(S6, D6, 1, 22, 0x10), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp FIN ACK: INVALID", p6_tcp(S6, D6, 1, 22, 0x11), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp SYN ACK: INVALID", p6_tcp(S6, D6, 1, 22, 0x12), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp RST: INVALID", p6_tcp(S6, D6, 1, 22, 0x04), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp SYN FIN: INVALID", p6_tcp(S6, D6, 1, 22, 0x03), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp doff 4: INVALID", p6_tcp(S6, D6, 1, 22, 0x02), IN, 1, 0, E_DROP, CNT(0) },
		{ "tcp SYN behind hop-by-hop and dst: NEW", p6_ext(p6_ext(p6_tcp(S6, D6, 1, 22, 0x02), X_HOP, 0), X_DST, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "udp: NEW", p6_udp(S6, D6, 1, 53), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "udp length 4: INVALID", p6_udp(S6, D6, 1, 53), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 echo request: NEW", p6_icmp(S6, D6, 128, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "icmp6 node information query: NEW", p6_icmp(S6, D6, 139, 0), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "icmp6 echo reply, no request: INVALID", p6_icmp(S6, D6, 129, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 node information reply, no query: INVALID", p6_icmp(S6, D6, 140, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 mld query: UNTRACKED", p6_icmp(S6, D6, 130, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 mld report: UNTRACKED", p6_icmp(S6, D6, 131, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 mld done: UNTRACKED", p6_icmp(S6, D6, 132, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 router solicitation: UNTRACKED", p6_icmp(S6, D6, 133, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 router advertisement: UNTRACKED", p6_icmp(S6, D6, 134, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 neighbour solicitation: UNTRACKED", p6_icmp(S6, D6, 135, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 neighbour advertisement: UNTRACKED", p6_icmp(S6, D6, 136, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 mldv2 report behind hop-by-hop: UNTRACKED", p6_ext(p6_icmp(S6, D6, 143, 0), X_HOP, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 mrd advertisement: UNTRACKED", p6_icmp(S6, D6, 151, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 mrd solicitation: UNTRACKED", p6_icmp(S6, D6, 152, 0), IN, 1, 0, E_ACCEPT, CNT(5) },
		{ "icmp6 redirect: INVALID", p6_icmp(S6, D6, 137, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 mrd termination 153: INVALID", p6_icmp(S6, D6, 153, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 type 200: INVALID", p6_icmp(S6, D6, 200, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 4 bytes: INVALID", p6_icmp(S6, D6, 130, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, nothing quoted: INVALID", p6_icmp(S6, D6, 1, 4), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, unknown udp flow: INVALID", ct6_icmp_err(17), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, quoted gre: INVALID", ct6_icmp_err(47), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 type 0, unknown udp flow: INVALID", ct6_icmp_err(17), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, unknown udp flow behind dstopts: INVALID", ct6_icmp_err(60), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, unknown tcp flow behind AH 12: INVALID", ct6_icmp_err(51), IN, 1, 0, E_DROP, CNT(0) },
		{ "icmp6 unreach, quoted non-first fragment: INVALID", ct6_icmp_err(44), IN, 1, 0, E_DROP, CNT(0) },
		{ "no next header: INVALID", p6_ext(p6_udp(S6, D6, 1, 53), X_NONE, 0), IN, 1, 0, E_DROP, CNT(0) },
		{ "non-first fragment: ESTABLISHED", p6_ext(p6_udp(S6, D6, 1, 53), X_FRAG, 1480), IN, 1, 0, E_DROP, CNT(1) },
		{ "first fragment udp: NEW", p6_ext(p6_udp(S6, D6, 1, 53), X_FRAG, 1), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "gre: NEW", p6_ip(S6, D6, 47), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "icmp (IPv4's protocol 1): NEW", p6_ip(S6, D6, 1), IN, 1, 0, E_ACCEPT, CNT(4) },
		{ "tcp SYN in OUTPUT: NEW", p6_tcp(D6, S6, 1, 22, 0x02), OUT, 0, 1, E_ACCEPT, NONE },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!strcmp(c[i].name, "tcp doff 4: INVALID"))
			c[i].pkt.l4[12] = 0x40;
		if (!strcmp(c[i].name, "udp length 4: INVALID"))
			c[i].pkt.l4[5] = 4;
		if (!strcmp(c[i].name, "icmp6 4 bytes: INVALID"))
			c[i].pkt.l4_len = 4;
		if (!strcmp(c[i].name, "icmp6 type 0, unknown udp flow: INVALID"))
			c[i].pkt.l4[0] = 0;
		if (strstr(c[i].name, "behind dstopts")) {	/* next 17, hdrlen 0 */
			c[i].pkt.l4[48] = 17;
			c[i].pkt.l4_len = 64;
		}
		if (strstr(c[i].name, "behind AH 12")) {	/* next 6, hdrlen 1 */
			c[i].pkt.l4[48] = 6;
			c[i].pkt.l4[49] = 1;
			c[i].pkt.l4_len = 64;
		}
		if (strstr(c[i].name, "non-first fragment: INVALID")) {
			c[i].pkt.l4[48] = 17;
			c[i].pkt.l4[51] = 0x10;
			c[i].pkt.l4_len = 64;
		}
	}
	run_table6("ct6", ir, c, sizeof(c) / sizeof(c[0]), 0);
	tb_free(ir);
}

static void ipv6_tests(void)
{
	table6_basic();
	table6_mark_limit();
	fuzz6_tables(30);
}

/* ---- IPv6 real traffic: the v6 program attached directly on the veth ---------- */

static bool ping6_ok(const char *dst)
{
	return sh("ip netns exec %s ping -6 -c 1 -W 1 %s >/dev/null 2>&1",
		  peer_ns, dst) == 0;
}

/* Load `ir` for `h` (unforced) with its own maps and attach it. */
static int attach6(struct bf_ir *ir, enum bf_hook h, int ifindex,
		   struct bf_maps *maps)
{
	struct bf_err err = { 0 };
	int fd;

	if (bf_maps_create(ir, maps, &err))
		return -1;
	bf_maps_sync_ifaces(ir, maps);
	fd = load_one(ir, h, -1, maps, 0, false);
	if (fd >= 0 && bf_attach(h, ifindex, fd, &err)) {
		printf("# attach: %s\n", err.msg);
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		bf_maps_close(maps);
	return fd;
}

/* ping6 from the peer: echo requests dropped at INPUT, or replies at OUTPUT */
static void traffic6_one(enum bf_hook h, int ifindex)
{
	struct bf_ir *ir = tb_new6();
	uint32_t in = tb_chain(ir, "INPUT", IN, BF_V_ACCEPT, true);
	uint32_t out = tb_chain(ir, "OUTPUT", OUT, BF_V_ACCEPT, true);
	bool egress = h == BF_HOOK_TC_EGRESS, before, after;
	struct xt_counters cnt[8];
	struct bf_maps maps;
	struct bf_rule *r;
	uint32_t idx;
	int fd;

	r = tb_rule(ir, egress ? out : in, BF_V_DROP, 0);
	tb_addr6(r, egress ? BF_F_DADDR6 : BF_F_SADDR6, false, "fd00:201::2", 128);
	add_l4hdr6(r, 58);
	tb_pred(r, BF_F_ICMP6, false, egress ? 129 : 128, 0, 0, 255, 0);
	tb_finish(ir);
	before = ping6_ok("fd00:201::1");
	fd = attach6(ir, h, ifindex, &maps);
	if (fd < 0) {
		tap(false, "traffic6/%s: load and attach", hook_names[h]);
		tb_free(ir);
		return;
	}
	after = ping6_ok("fd00:201::1");
	bf_maps_read_counters(&maps, cnt);
	idx = ir->chains[egress ? out : in].rules[0].index;
	tap(before && !after && cnt[idx].pcnt >= 1,
	    "traffic6/%s: ping6 dropped by the attached IPv6 program (before %d after %d, rule counter %llu)",
	    hook_names[h], before, after, (unsigned long long)cnt[idx].pcnt);
	tap(sh("ip netns exec %s ping -c 1 -W 1 10.201.0.1 >/dev/null 2>&1",
	       peer_ns) == 0,
	    "traffic6/%s: IPv4 ping passes the IPv6 program", hook_names[h]);
	bf_detach(h, ifindex);
	tap(ping6_ok("fd00:201::1"), "traffic6/%s: ping6 works again after detach",
	    hook_names[h]);
	close(fd);
	bf_maps_close(&maps);
	tb_free(ir);
}

/* peer -> us -> peer2: FORWARD -i bfv0 -o bfv2 -p icmpv6 -j DROP */
static void traffic6_forward(enum bf_hook h, int ifindex)
{
	struct bf_ir *ir = tb_new6();
	uint32_t fwd = tb_chain(ir, "FORWARD", FWD, BF_V_ACCEPT, true);
	uint32_t pat = tb_ifpat(ir, "bfv2"), inpat = tb_ifpat(ir, "bfv0");
	struct xt_counters cnt[8];
	struct bf_maps maps;
	struct bf_rule *r;
	bool before, after;
	int fd;

	r = tb_rule(ir, fwd, BF_V_DROP, 0);
	tb_pred(r, BF_F_IIF, false, inpat, 0, 0, 0, 0);
	tb_pred(r, BF_F_OIF, false, pat, 0, 0, 0, 0);
	tb_pred(r, BF_F_PROTO6, false, 58, 0, 0, 0, 0);
	tb_finish(ir);
	before = ping6_ok("fd00:202::2");
	fd = attach6(ir, h, ifindex, &maps);
	if (fd < 0) {
		tap(false, "traffic6/%s: forward: load and attach", hook_names[h]);
		tb_free(ir);
		return;
	}
	after = ping6_ok("fd00:202::2");
	bf_maps_read_counters(&maps, cnt);
	tap(before && !after && cnt[0].pcnt >= 1,
	    "traffic6/%s: forwarded ping6 dropped by FORWARD -i bfv0 -o bfv2 (before %d after %d, counter %llu)",
	    hook_names[h], before, after, (unsigned long long)cnt[0].pcnt);
	bf_detach(h, ifindex);
	close(fd);
	bf_maps_close(&maps);
	tb_free(ir);
}

static void traffic6_tests(int ifindex)
{
	if (sh("ip addr add fd00:201::1/64 dev bfv0 nodad && "
	       "ip netns exec %s ip addr add fd00:201::2/64 dev bfv1 nodad",
	       peer_ns)) {
		tap(false, "traffic6: setup");
		return;
	}
	traffic6_one(BF_HOOK_XDP, ifindex);
	traffic6_one(BF_HOOK_TC_INGRESS, ifindex);
	traffic6_one(BF_HOOK_TC_EGRESS, ifindex);
}

static void traffic6_forward_tests(int ifindex)
{
	/* IPv6 needs an MTU of 1280 at least (the IPv4 test set 1000) */
	if (sh("ip link set bfv2 mtu 1500 && "
	       "ip netns exec %s2 ip link set bfv3 mtu 1500 && "
	       "ip addr add fd00:202::1/64 dev bfv2 nodad && "
	       "ip netns exec %s2 ip addr add fd00:202::2/64 dev bfv3 nodad && "
	       "ip netns exec %s2 ip -6 route add default via fd00:202::1 && "
	       "ip netns exec %s ip -6 route add default via fd00:201::1 && "
	       "sysctl -qw net.ipv6.conf.all.forwarding=1",
	       peer_ns, peer_ns, peer_ns, peer_ns)) {
		tap(false, "traffic6: forward setup");
		return;
	}
	/* warm up: neighbour discovery on both links */
	sh("ip netns exec %s ping -6 -c 2 -W 3 fd00:202::2 >/dev/null 2>&1",
	   peer_ns);
	traffic6_forward(BF_HOOK_XDP, ifindex);
	traffic6_forward(BF_HOOK_TC_INGRESS, ifindex);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 1, 100, 1000, 10000, 20000 };
	size_t i;

	if (geteuid() != 0) {
		printf("1..0 # SKIP progtest needs root\n");
		return 4;
	}
	if (argc > 2 && !strcmp(argv[1], "--random"))
		random_n = atoi(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "--fuzz")) {
		random_n = 200;
		fuzz_tables(atoi(argv[2]), random_n);
		printf("1..%d\n", tap_n);
		return tap_fail ? 1 : 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--limit")) {
		env_interp();
		limit_interp();
		limit_smp();
		printf("1..%d\n", tap_n);
		return tap_fail ? 1 : 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--ct")) {
		random_n = argc > 2 ? atoi(argv[2]) : 100;
		table_ct();
		table6_ct();
		printf("1..%d\n", tap_n);
		return tap_fail ? 1 : 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--attach")) {
		table_attach();
		printf("1..%d\n", tap_n);
		return tap_fail ? 1 : 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--v6")) {
		random_n = argc > 2 ? atoi(argv[2]) : 100;
		ipv6_tests();
		printf("1..%d\n", tap_n);
		return tap_fail ? 1 : 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--bench6")) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			bench6_one(sizes[i]);
	} else if (argc > 1 && !strcmp(argv[1], "--bench")) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			bench_one(sizes[i]);
	} else {
		table_addr();
		table_l4();
		table_matches();
		table_l2();
		table_flow();
		table_iface();
		table_split();
		table_unforced();
		table_errors();
		table_verifier_log();
		env_interp();
		limit_interp();
		limit_smp();
		if (!random_n)
			random_n = 100;
		fuzz_tables(30, random_n);
		ipv6_tests();
		table_ct();	/* moves us to a new netns */
		table6_ct();	/* moves us to a new netns */
		table_attach();	/* last: moves us to a new netns */
	}
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
