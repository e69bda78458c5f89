// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_load (root): a small valid rule set from the input, loaded under
 * the real verifier, and packets through BPF_PROG_TEST_RUN against the
 * reference interpreter.
 *
 * Input: 'B' + u32 length + an ipt_replace blob (mutated fixtures), or any
 * other first byte: a tiny generator builds the blob (built-in chains, up
 * to four user chains that only jump forward, ip fields, tcp/udp/icmp
 * matches, every verdict) from the bytes. What follows drives the packets.
 *
 * Bugs (abort with the details): a generated blob the front-end refuses;
 * a program the verifier refuses for a table the front-end accepted (the
 * log is printed); an XDP verdict or a counter that differs from
 * bf_interp_run() for the same packet, chain and devices. Programs are
 * XDP, or a quarter of the time tc ingress / egress (SCHED_CLS test runs).
 *
 * Runs in its own network namespace, where lo (ifindex 1) is the only
 * device: iif/oif are 1 ("lo") or 0 (none) in the BF_MAP_TEST map.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/fuzz/fuzz_util.h"

/* ---- input bytes ------------------------------------------------------------ */

struct fl_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t fl_u8(struct fl_in *in)
{
	uint8_t v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static uint16_t fl_u16(struct fl_in *in)
{
	return (uint16_t)fl_u8(in) << 8 | fl_u8(in);
}

/* Small pools, shared by rules and packets, so packets hit rules. */
static const uint32_t fl_addrs[] = {
	0x0a000001, 0x0a000002, 0x0a0000fe, 0x0a010101, 0xc0a80101,
	0xc0a80102, 0x7f000001, 0x00000000,
};
static const uint8_t fl_plens[] = { 32, 24, 16, 8, 0, 31, 1, 32 };
static const uint16_t fl_ports[] = { 22, 80, 53, 443, 0, 1023, 1024, 65535 };
static const uint8_t fl_protos[] = { 6, 17, 1, 0, 6, 17, 47, 1 };
static const char *const fl_ifs[] = { "", "lo", "l+", "eth0", "+", "lo", "", "" };

static uint32_t fl_addr(struct fl_in *in)
{
	uint8_t b = fl_u8(in);

	if (b >= 0xf0)
		return (uint32_t)fl_u16(in) << 16 | fl_u16(in);
	return fl_addrs[b % 8];
}

static uint16_t fl_port(struct fl_in *in)
{
	uint8_t b = fl_u8(in);

	return b >= 0xf0 ? fl_u16(in) : fl_ports[b % 8];
}

/* ---- the generator ---------------------------------------------------------- */

#define FL_MAX_CHAINS	7	/* INPUT FORWARD OUTPUT + 4 user chains */
#define FL_MAX_RULES	5
#define FL_MAX_ENTRIES	(FL_MAX_CHAINS * (FL_MAX_RULES + 2) + 1)
#define FL_ENTRY_MAX	(112 + 48 + 64)

enum fl_tgt { FL_ACCEPT, FL_DROP, FL_RETURN, FL_JUMP, FL_GOTO, FL_NEXT, FL_ERROR };

struct fl_entry {
	uint8_t buf[FL_ENTRY_MAX];	/* ipt_entry + match, target written later */
	uint16_t target_offset;
	enum fl_tgt tgt;
	uint32_t chain;			/* FL_JUMP/FL_GOTO: target chain */
	const char *errname;		/* FL_ERROR */
	uint32_t off;
};

struct fl_gen {
	struct fl_entry e[FL_MAX_ENTRIES];
	uint32_t n;
	uint32_t first[FL_MAX_CHAINS];	/* entry index of each chain's first rule */
	uint32_t n_user;
};

static struct fl_entry *fl_add(struct fl_gen *g, enum fl_tgt tgt)
{
	struct fl_entry *e = &g->e[g->n++];

	memset(e, 0, sizeof(*e));
	e->target_offset = sizeof(struct ipt_entry);
	e->tgt = tgt;
	return e;
}

static void fl_iface(struct fl_in *in, char *name, unsigned char *mask)
{
	const char *s = fl_ifs[fl_u8(in) % 8];
	size_t n = strlen(s), i;

	if (n && s[n - 1] == '+') {
		memcpy(name, s, n - 1);
		for (i = 0; i < n - 1; i++)
			mask[i] = 0xff;
	} else if (n) {
		memcpy(name, s, n);
		for (i = 0; i <= n; i++)
			mask[i] = 0xff;
	}
}

static void fl_prefix(struct fl_in *in, struct in_addr *a, struct in_addr *m)
{
	uint8_t plen = fl_plens[fl_u8(in) % 8];
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;

	a->s_addr = htonl(fl_addr(in) & mask);
	m->s_addr = htonl(mask);
}

/* One match after the entry header, for the protocol. */
static void fl_match(struct fl_in *in, struct fl_entry *e, uint8_t proto)
{
	struct xt_entry_match *m = (void *)(e->buf + e->target_offset);
	size_t dsz;

	if (proto == IPPROTO_TCP) {
		struct xt_tcp *t = (void *)m->data;

		strcpy(m->u.user.name, "tcp");
		dsz = XT_ALIGN(sizeof(*t));
		t->spts[0] = fl_port(in);
		t->spts[1] = fl_u8(in) & 1 ? t->spts[0] : 0xffff;
		t->dpts[0] = fl_port(in);
		t->dpts[1] = fl_u8(in) & 1 ? t->dpts[0] : 0xffff;
		if (t->spts[1] < t->spts[0])
			t->spts[0] = 0;
		if (t->dpts[1] < t->dpts[0])
			t->dpts[0] = 0;
		t->flg_mask = fl_u8(in) & 0x3f;
		t->flg_cmp = fl_u8(in) & t->flg_mask;
		t->option = fl_u8(in) % 8 == 0 ? fl_u8(in) % 10 : 0;
		t->invflags = fl_u8(in) & XT_TCP_INV_MASK;
	} else if (proto == IPPROTO_UDP) {
		struct xt_udp *u = (void *)m->data;

		strcpy(m->u.user.name, "udp");
		dsz = XT_ALIGN(sizeof(*u));
		u->spts[0] = fl_port(in);
		u->spts[1] = fl_u8(in) & 1 ? u->spts[0] : 0xffff;
		u->dpts[0] = fl_port(in);
		u->dpts[1] = u->dpts[0] + (fl_u8(in) & 1);
		if (u->dpts[1] < u->dpts[0])
			u->dpts[1] = u->dpts[0];
		u->invflags = fl_u8(in) & XT_UDP_INV_MASK;
	} else {
		struct ipt_icmp *c = (void *)m->data;

		strcpy(m->u.user.name, "icmp");
		dsz = XT_ALIGN(sizeof(*c));
		c->type = fl_u8(in) % 4 == 0 ? 0xff : fl_u8(in) % 12;
		c->code[0] = fl_u8(in) % 3;
		c->code[1] = fl_u8(in) % 2 ? 0xff : c->code[0];
		c->invflags = fl_u8(in) & IPT_ICMP_INV;
	}
	m->u.match_size = sizeof(*m) + dsz;
	e->target_offset += m->u.match_size;
}

static void fl_rule(struct fl_in *in, struct fl_gen *g, uint32_t chain,
		    uint32_t n_chains)
{
	uint8_t b = fl_u8(in), v = fl_u8(in);
	struct fl_entry *e = fl_add(g, FL_ACCEPT);
	struct ipt_entry *ie = (void *)e->buf;
	struct ipt_ip *ip = &ie->ip;
	uint8_t proto;

	if (b & 1)
		fl_prefix(in, &ip->src, &ip->smsk);
	if (b & 2)
		fl_prefix(in, &ip->dst, &ip->dmsk);
	if (b & 4)
		fl_iface(in, ip->iniface, ip->iniface_mask);
	if (b & 8)
		fl_iface(in, ip->outiface, ip->outiface_mask);
	proto = b & 16 ? fl_protos[fl_u8(in) % 8] : 0;
	ip->proto = proto;
	ip->invflags = fl_u8(in) & (IPT_INV_SRCIP | IPT_INV_DSTIP |
				    IPT_INV_VIA_IN | IPT_INV_VIA_OUT);
	if (b & 32)
		ip->flags |= IPT_F_FRAG;
	if (b & 64)
		ip->invflags |= IPT_INV_FRAG;
	if ((b & 128) && (proto == 6 || proto == 17 || proto == 1))
		fl_match(in, e, proto);
	else if (proto && fl_u8(in) % 4 == 0)
		ip->invflags |= IPT_INV_PROTO;
	/* Jumps only go to later user chains: no loops, bounded depth. */
	switch (v % 8) {
	case 0: case 1: e->tgt = FL_ACCEPT; break;
	case 2: case 3: e->tgt = FL_DROP; break;
	case 4: e->tgt = FL_RETURN; break;
	case 5: case 6:
		if (chain + 1 < n_chains) {
			e->tgt = v & 8 ? FL_GOTO : FL_JUMP;
			e->chain = chain + 1 + (v >> 4) % (n_chains - chain - 1);
			if (e->chain < 3)
				e->chain = 3 + (v >> 4) % (n_chains - 3);
			break;
		}
		/* fall through */
	default:
		e->tgt = FL_NEXT;
	}
}

static const char *const fl_user_names[] = { "u0", "u1", "u2", "u3" };

static void fl_layout(struct fl_in *in, struct fl_gen *g)
{
	uint32_t c, k, n_chains, n_rules;

	g->n_user = fl_u8(in) % 5;
	n_chains = 3 + g->n_user;
	for (c = 0; c < n_chains; c++) {
		if (c >= 3) {
			struct fl_entry *h = fl_add(g, FL_ERROR);

			h->errname = fl_user_names[c - 3];
		}
		g->first[c] = g->n;
		n_rules = fl_u8(in) % (FL_MAX_RULES + 1);
		for (k = 0; k < n_rules; k++)
			fl_rule(in, g, c < 3 ? 2 : c, n_chains);
		if (c < 3)
			fl_add(g, fl_u8(in) & 1 ? FL_DROP : FL_ACCEPT);
		else if (fl_u8(in) % 4 || c == n_chains - 1)
			/* ip_tables refuses a path into the final ERROR entry. */
			fl_add(g, FL_RETURN);
	}
	fl_add(g, FL_ERROR)->errname = "ERROR";
}

static int32_t fl_verdict(const struct fl_gen *g, const struct fl_entry *e,
			  uint32_t i)
{
	switch (e->tgt) {
	case FL_ACCEPT: return -NF_ACCEPT - 1;
	case FL_DROP: return -NF_DROP - 1;
	case FL_RETURN: return XT_RETURN;
	case FL_JUMP:
	case FL_GOTO: return g->e[g->first[e->chain]].off;
	default: return g->e[i + 1].off;
	}
}

/* The blob as iptables-legacy would send it: malloc'ed ipt_replace. */
static struct ipt_replace *fl_generate(struct fl_in *in, size_t *lenp)
{
	static const int hooks[] = { NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT };
	static struct fl_gen g;
	struct ipt_replace *r;
	uint32_t i, off = 0, c;
	uint8_t *p;

	memset(&g, 0, sizeof(g));
	fl_layout(in, &g);
	for (i = 0; i < g.n; i++) {
		g.e[i].off = off;
		off += g.e[i].target_offset + (g.e[i].tgt == FL_ERROR ?
			sizeof(struct xt_error_target) : sizeof(struct xt_standard_target));
	}
	r = calloc(1, sizeof(*r) + off);
	if (!r)
		abort();
	strcpy(r->name, "filter");
	r->valid_hooks = (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD) |
			 (1 << NF_INET_LOCAL_OUT);
	r->num_entries = g.n;
	r->size = off;
	r->num_counters = g.n;
	for (c = 0; c < 3; c++) {
		uint32_t pol = c < 2 ? g.first[c + 1] - 1 : (g.n_user ? g.first[3] - 2 : g.n - 2);

		r->hook_entry[hooks[c]] = g.e[g.first[c]].off;
		r->underflow[hooks[c]] = g.e[pol].off;
	}
	for (i = 0; i < g.n; i++) {
		struct fl_entry *e = &g.e[i];
		struct ipt_entry *ie = (void *)e->buf;
		size_t tsz = e->tgt == FL_ERROR ? sizeof(struct xt_error_target) :
						  sizeof(struct xt_standard_target);

		p = (uint8_t *)r->entries + e->off;
		ie->target_offset = e->target_offset;
		ie->next_offset = e->target_offset + tsz;
		memcpy(p, e->buf, e->target_offset);
		if (e->tgt == FL_ERROR) {
			struct xt_error_target *t = (void *)(p + e->target_offset);

			t->target.u.user.target_size = tsz;
			strcpy(t->target.u.user.name, XT_ERROR_TARGET);
			strcpy(t->errorname, e->errname);
		} else {
			struct xt_standard_target *t = (void *)(p + e->target_offset);

			t->target.u.user.target_size = tsz;
			t->verdict = fl_verdict(&g, e, i);
			if (e->tgt == FL_GOTO)
				((struct ipt_entry *)p)->ip.flags |= IPT_F_GOTO;
		}
	}
	*lenp = sizeof(*r) + off;
	return r;
}

/* ---- packets ---------------------------------------------------------------- */

static uint16_t fl_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* An Ethernet frame for an IPv4 datagram from the bytes; its length. */
static size_t fl_packet(struct fl_in *in, uint8_t *buf, size_t cap)
{
	uint8_t *ip = buf + ETH_HLEN, *l4, b = fl_u8(in), proto;
	size_t ihl = 20 + 4 * (b & 1 ? fl_u8(in) % 4 : 0), l4len, tot, i;
	uint32_t s = htonl(fl_addr(in)), d = htonl(fl_addr(in));
	uint16_t c, sp, dp;
	int adj = 0;

	memset(buf, 0, cap);
	buf[6] = 0x02;
	buf[12] = ETH_P_IP >> 8;
	buf[13] = ETH_P_IP & 0xff;
	proto = fl_protos[fl_u8(in) % 8];
	l4 = ip + ihl;
	sp = fl_port(in);
	dp = fl_port(in);
	l4len = proto == 6 ? 20 : 8;
	if (b & 2)
		l4len = fl_u8(in) % 48;
	if (ETH_HLEN + ihl + l4len + 64 > cap)
		abort();
	l4[0] = sp >> 8;
	l4[1] = sp;
	l4[2] = dp >> 8;
	l4[3] = dp;
	if (proto == 1) {
		l4[0] = fl_u8(in) % 12;
		l4[1] = fl_u8(in) % 4;
	}
	if (proto == 6) {
		l4[12] = (b & 4 ? fl_u8(in) % 16 : 5 + fl_u8(in) % 3) << 4;
		l4[13] = fl_u8(in);
		for (i = 20; i < l4len; i++)
			l4[i] = fl_u8(in) % 10;
	}
	tot = ihl + l4len;
	ip[0] = 0x40 | ihl / 4;
	if (b & 8)
		adj = (int)(fl_u8(in) % 9) - 4;
	ip[2] = (tot + adj) >> 8;
	ip[3] = tot + adj;
	switch ((b >> 4) & 3) {
	case 1: ip[6] = 0x20; break;			/* MF */
	case 2: ip[7] = fl_u8(in) % 3; break;		/* offset 0..2 */
	case 3: ip[6] = 0x40; break;			/* DF */
	}
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	memset(ip + 20, 1, ihl - 20);
	c = fl_csum(ip, ihl);
	if ((b & 0xc0) == 0xc0 && fl_u8(in) == 0)
		c ^= 0x1234;
	ip[10] = c >> 8;
	ip[11] = c;
	return ETH_HLEN + tot + (b & 64 ? fl_u8(in) % 16 : 0);
}

/* ---- loading and running ---------------------------------------------------- */

/* What the run exercised, printed at exit: a silent skip shows up here. */
static struct {
	unsigned long tables, loads, gen_refused, packets, drops, unfiltered;
} fl_stats;

static void fl_print_stats(void)
{
	fprintf(stderr, "fuzz_load: %lu tables, %lu programs loaded, %lu refused by bf_gen, %lu packets (%lu dropped, %lu unfiltered)\n",
		fl_stats.tables, fl_stats.loads, fl_stats.gen_refused,
		fl_stats.packets, fl_stats.drops, fl_stats.unfiltered);
}

static int fl_load(const struct bf_ir *ir, const struct bf_maps *maps,
		   enum bf_hook bh, int force, uint32_t piece, const char *irtext)
{
	struct bf_gen_opts o = { .sz = sizeof(o), .hook = bh,
				 .force_hook = force, .piece_rules = piece };
	struct bf_err err = { 0 };
	struct bf_prog *prog = NULL;
	int fd;

	if (bf_gen(ir, &o, &prog, &err)) {
		/* Documented limits (nesting with small pieces): not a bug. */
		if (!err.msg[0])
			fz_fail("bf_gen refused without a message");
		fl_stats.gen_refused++;
		bf_err_clear(&err);
		return -1;
	}
	fd = bf_prog_load(prog, maps, &err);
	if (fd < 0) {
		if (fd == -EPERM || fd == -ENOMEM || fd == -E2BIG) {
			/* Out of memlock or kernel resources is not the verifier. */
			if (!err.verifier_log || !err.verifier_log[0]) {
				bf_err_clear(&err);
				bf_prog_free(prog);
				return -1;
			}
		}
		fprintf(stderr, "IR:\n%s\nverifier log:\n%s\n", irtext,
			err.verifier_log ? err.verifier_log : "(none)");
		fz_fail("hook %d force_hook %d piece %u: bf_prog_load %d: %s",
			bh, force, piece, fd, err.msg);
	}
	fl_stats.loads++;
	bf_prog_free(prog);
	bf_err_clear(&err);
	return fd;
}

static void fl_run_packet(const struct bf_ir *ir, const struct bf_maps *maps,
			  enum bf_hook bh, int fd, int hook, struct fl_in *in,
			  struct xt_counters *a, struct xt_counters *b,
			  struct xt_counters *want, const char *irtext)
{
	uint8_t frame[256], out[512];
	struct bf_test_ifs ifs;
	uint32_t key = 0, k;
	size_t len;
	int v, expect;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	ifs.iif = fl_u8(in) & 1;
	ifs.oif = fl_u8(in) & 1;
	len = fl_packet(in, frame, sizeof(frame));
	o.data_size_in = len;
	memset(want, 0, ir->n_entries * sizeof(*want));
	v = bf_interp_run(ir, hook, frame + ETH_HLEN, len - ETH_HLEN,
			  ifs.iif ? "lo" : "", ifs.oif ? "lo" : "", want);
	if (v < 0)
		fz_fail("bf_interp_run: %d", v);
	if (bh == BF_HOOK_XDP)
		expect = v == BF_V_DROP ? XDP_DROP : XDP_PASS;
	else
		expect = v == BF_V_DROP ? TC_ACT_SHOT : TC_ACT_OK;
	fl_stats.packets++;
	fl_stats.drops += v == BF_V_DROP;
	fl_stats.unfiltered += v == BF_INTERP_UNFILTERED;
	if (bpf_map_update_elem(maps->fd[BF_MAP_TEST], &key, &ifs, BPF_ANY) ||
	    bf_maps_read_counters(maps, a))
		fz_fail("test map / counters: %s", strerror(errno));
	if (bpf_prog_test_run_opts(fd, &o))
		fz_fail("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (bf_maps_read_counters(maps, b))
		fz_fail("counters: %s", strerror(errno));
	for (k = 0; k < ir->n_entries; k++)
		if (b[k].pcnt - a[k].pcnt != want[k].pcnt ||
		    b[k].bcnt - a[k].bcnt != want[k].bcnt)
			break;
	if (o.retval != (uint32_t)expect || k < ir->n_entries) {
		fprintf(stderr, "IR:\n%s\npacket (%zu bytes, hook %d, iif %u oif %u):",
			irtext, len, hook, ifs.iif, ifs.oif);
		for (k = 0; k < len; k++)
			fprintf(stderr, "%s%02x", k % 16 ? " " : "\n  ", frame[k]);
		fprintf(stderr, "\n");
		for (k = 0; k < ir->n_entries; k++)
			if (b[k].pcnt - a[k].pcnt != want[k].pcnt ||
			    b[k].bcnt - a[k].bcnt != want[k].bcnt)
				fprintf(stderr, "counter %u: bpf +%llu/+%llu, interp %llu/%llu\n",
					k, (unsigned long long)(b[k].pcnt - a[k].pcnt),
					(unsigned long long)(b[k].bcnt - a[k].bcnt),
					(unsigned long long)want[k].pcnt,
					(unsigned long long)want[k].bcnt);
		fz_fail("%s returned %u, bf_interp_run %d (want %d)",
			bh == BF_HOOK_XDP ? "XDP" : "tc", o.retval, v, expect);
	}
}

static const enum bf_hook fl_bhooks[] = {
	BF_HOOK_XDP, BF_HOOK_XDP, BF_HOOK_TC_INGRESS, BF_HOOK_TC_EGRESS,
};

static void fl_exercise(const struct bf_ir *ir, struct fl_in *in)
{
	static const int hooks[] = { NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT };
	static const uint32_t pieces[] = { 0, 0, 1, 2 };
	struct xt_counters *a, *b, *want;
	struct bf_maps maps;
	struct bf_err err = { 0 };
	uint32_t piece = pieces[fl_u8(in) % 4];
	/* Mostly XDP; tc ingress and egress programs a quarter of the time. */
	enum bf_hook bh = fl_bhooks[fl_u8(in) % 4];
	char *irtext = fz_ir_text(ir);
	int fd[3], h, n;

	fl_stats.tables++;
	if (bf_maps_create(ir, &maps, &err))
		fz_fail("bf_maps_create: %s", err.msg);
	if (bf_maps_sync_ifaces(ir, &maps))
		fz_fail("bf_maps_sync_ifaces failed");
	for (h = 0; h < 3; h++)
		fd[h] = fl_load(ir, &maps, bh, hooks[h], piece, irtext);
	a = calloc(ir->n_entries, sizeof(*a));
	b = calloc(ir->n_entries, sizeof(*b));
	want = calloc(ir->n_entries, sizeof(*want));
	if (!a || !b || !want)
		abort();
	for (n = 0; n < 6; n++) {
		h = fl_u8(in) % 3;
		if (fd[h] >= 0)
			fl_run_packet(ir, &maps, bh, fd[h], hooks[h], in, a, b, want, irtext);
		if (!in->n)
			break;
	}
	for (h = 0; h < 3; h++)
		if (fd[h] >= 0)
			close(fd[h]);
	free(a);
	free(b);
	free(want);
	free(irtext);
	bf_maps_close(&maps);
	bf_err_clear(&err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "fuzz_load: needs root (unshare: %s)\n", strerror(errno));
		exit(4);
	}
	atexit(fl_print_stats);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fl_in in = { data, len };
	struct bf_err err = { 0 };
	struct ipt_replace *repl;
	struct bf_ir *ir = NULL;
	size_t rlen;
	bool gen = true;
	int ret;

	if (len && data[0] == 'B') {
		uint32_t n = 0;

		if (len < 5)
			return 0;
		memcpy(&n, data + 1, 4);
		if (n > len - 5)
			return 0;
		repl = fz_copy(data + 5, n);
		rlen = n;
		in.p = data + 5 + n;
		in.n = len - 5 - n;
		gen = false;
	} else {
		fl_u8(&in);
		repl = fl_generate(&in, &rlen);
	}
	if (getenv("FUZZ_DUMP_BLOB")) {
		/* The blob, for tests/unit/ or a look with a hex dumper. */
		FILE *f = fopen(getenv("FUZZ_DUMP_BLOB"), "wb");

		if (f) {
			fwrite(repl, 1, rlen, f);
			fclose(f);
		}
	}
	ret = bf_xt4_translate(repl, rlen, &ir, &err);
	if (ret && gen)
		fz_fail("the front-end refused a generated blob: %d %s", ret, err.msg);
	if (!ret)
		fl_exercise(ir, &in);
	bf_ir_free(ir);
	bf_err_clear(&err);
	free(repl);
	return 0;
}
