// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_load (root): a small valid rule set from the input, loaded under
 * the real verifier, and packets through BPF_PROG_TEST_RUN against the
 * reference interpreter.
 *
 * Input: an optional leading '6' picks IPv6 (fz_family()); then 'B' + u32
 * length + an ipt_replace / ip6t_replace blob (mutated fixtures), or any
 * other byte: a tiny generator builds the blob (built-in chains, up to
 * four user chains that only jump forward, ip / ip6 fields, tcp, udp,
 * icmp / icmp6 matches, one of multiport, length, ttl / hl, iprange,
 * pkttype, mac, comment, every verdict) from the bytes. What follows
 * drives the packets: Ethernet frames (host, broadcast or multicast
 * destination; -m mac's sources) with an IPv4 datagram (options,
 * fragments, bad lengths and checksums) or an IPv6 packet (extension
 * header chains past the walk's bound, first and non-first fragments, no
 * next header, addresses ip6_rcv_core() drops, payload length 0 or wrong),
 * truncated or with trailing bytes.
 *
 * Bugs (abort with the details): a generated blob the front-end refuses;
 * a program the verifier refuses for a table the front-end accepted (the
 * log is printed); a verdict or a counter that differs from
 * bf_interp_run_frame() for the same frame, chain and devices. Programs
 * are XDP, or a quarter of the time tc ingress / egress (SCHED_CLS test
 * runs), for INPUT, FORWARD and OUTPUT (force_hook).
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
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_length.h>
#include <linux/netfilter/xt_mac.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_pkttype.h>
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
static const uint8_t fl_addrs6[][16] = {
	{ 0xfd, 0, [15] = 1 }, { 0xfd, 0, [15] = 2 }, { 0xfd, 0, [15] = 0xfe },
	{ 0xfd, 0, 0, 1, [15] = 1 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, [14] = 0xff, 0xff }, { 0xfe, 0x80, [15] = 1 },
	{ 0 },
};
/*
 * Packet addresses only: what ip6_rcv_core() drops at INPUT and FORWARD
 * (::1, multicast source, scope 0/1 multicast destination, v4-mapped) and
 * a multicast destination it keeps.
 */
static const uint8_t fl_odd6[][16] = {
	{ [15] = 1 }, { 0xff, 0x02, [15] = 1 }, { 0xff, 0x01, [15] = 1 },
	{ [10] = 0xff, 0xff, 10, 0, 0, 1 },
};
static const uint8_t fl_plens6[] = { 128, 64, 48, 16, 8, 0, 127, 1 };
static const uint16_t fl_ports[] = { 22, 80, 53, 443, 0, 1023, 1024, 65535 };
static const uint8_t fl_protos[] = { 6, 17, 1, 0, 6, 17, 47, 1 };
/* IPv6: the fragment header as a protocol (never an upper layer) too. */
static const uint8_t fl_protos6[] = { 6, 17, 58, 0, 6, 58, 47, 44 };
static const char *const fl_ifs[] = { "", "lo", "l+", "eth0", "+", "lo", "", "" };
static const uint8_t fl_macs[][6] = {
	{ 0x02 }, { 0x02, 0, 0, 0, 0xaa, 0xbb }, { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
	{ 0 },
};

static uint32_t fl_addr(struct fl_in *in)
{
	uint8_t b = fl_u8(in);

	if (b >= 0xf0)
		return (uint32_t)fl_u16(in) << 16 | fl_u16(in);
	return fl_addrs[b % 8];
}

/* A pool address, or one with its last two bytes from the input. */
static void fl_addr6(struct fl_in *in, uint8_t *a)
{
	uint8_t b = fl_u8(in);

	memcpy(a, fl_addrs6[b % 8], 16);
	if (b >= 0xf0) {
		a[14] = fl_u8(in);
		a[15] = fl_u8(in);
	}
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
/* ip6t_entry, an L4 match and the biggest other one (comment) */
#define FL_ENTRY_MAX	(sizeof(struct ip6t_entry) + 64 + \
			 sizeof(struct xt_entry_match) + 256)

enum fl_tgt { FL_ACCEPT, FL_DROP, FL_RETURN, FL_JUMP, FL_GOTO, FL_NEXT, FL_ERROR };

struct fl_entry {
	uint8_t buf[FL_ENTRY_MAX];	/* ipt/ip6t_entry + matches, target written later */
	uint16_t target_offset;
	enum fl_tgt tgt;
	uint32_t chain;			/* FL_JUMP/FL_GOTO: target chain */
	const char *errname;		/* FL_ERROR */
	uint32_t off;
};

struct fl_gen {
	bool v6;
	struct fl_entry e[FL_MAX_ENTRIES];
	uint32_t n;
	uint32_t first[FL_MAX_CHAINS];	/* entry index of each chain's first rule */
	uint32_t n_user;
};

static size_t fl_entry_size(const struct fl_gen *g)
{
	return g->v6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
}

static struct fl_entry *fl_add(struct fl_gen *g, enum fl_tgt tgt)
{
	struct fl_entry *e = &g->e[g->n++];

	memset(e, 0, sizeof(*e));
	e->target_offset = fl_entry_size(g);
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

static void fl_prefix6(struct fl_in *in, struct in6_addr *a, struct in6_addr *m)
{
	uint8_t plen = fl_plens6[fl_u8(in) % 8], k;

	fl_addr6(in, a->s6_addr);
	memset(m, 0, sizeof(*m));
	for (k = 0; k < plen; k++)
		m->s6_addr[k / 8] |= 0x80 >> (k % 8);
	for (k = 0; k < 16; k++)
		a->s6_addr[k] &= m->s6_addr[k];
}

/* A match after the entry's others: its header; data is zeroed. */
static void *fl_match_hdr(struct fl_entry *e, const char *name, uint8_t rev,
			  size_t dsz)
{
	struct xt_entry_match *m = (void *)(e->buf + e->target_offset);

	strcpy(m->u.user.name, name);
	m->u.user.revision = rev;
	m->u.match_size = sizeof(*m) + XT_ALIGN(dsz);
	e->target_offset += m->u.match_size;
	return m->data;
}

/* The L4 match of the rule's protocol: tcp, udp, icmp or icmp6. */
static void fl_match(struct fl_in *in, struct fl_entry *e, uint8_t proto)
{
	if (proto == IPPROTO_TCP) {
		struct xt_tcp *t = fl_match_hdr(e, "tcp", 0, sizeof(*t));

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
		struct xt_udp *u = fl_match_hdr(e, "udp", 0, sizeof(*u));

		u->spts[0] = fl_port(in);
		u->spts[1] = fl_u8(in) & 1 ? u->spts[0] : 0xffff;
		u->dpts[0] = fl_port(in);
		u->dpts[1] = u->dpts[0] + (fl_u8(in) & 1);
		if (u->dpts[1] < u->dpts[0])
			u->dpts[1] = u->dpts[0];
		u->invflags = fl_u8(in) & XT_UDP_INV_MASK;
	} else if (proto == IPPROTO_ICMP) {
		struct ipt_icmp *c = fl_match_hdr(e, "icmp", 0, sizeof(*c));

		c->type = fl_u8(in) % 4 == 0 ? 0xff : fl_u8(in) % 12;
		c->code[0] = fl_u8(in) % 3;
		c->code[1] = fl_u8(in) % 2 ? 0xff : c->code[0];
		c->invflags = fl_u8(in) & IPT_ICMP_INV;
	} else {
		static const uint8_t types[] = { 1, 2, 3, 4, 128, 129, 135, 136 };
		struct ip6t_icmp *c = fl_match_hdr(e, "icmp6", 0, sizeof(*c));

		c->type = types[fl_u8(in) % 8];
		c->code[0] = fl_u8(in) % 3;
		c->code[1] = fl_u8(in) % 2 ? 0xff : c->code[0];
		c->invflags = fl_u8(in) & IP6T_ICMP_INV;
	}
}

/*
 * One more match, of those both families have: multiport (tcp/udp rules),
 * length, ttl / hl, iprange, pkttype, mac (not reachable from OUTPUT: only
 * in INPUT and FORWARD) and comment.
 */
static void fl_extra(struct fl_in *in, const struct fl_gen *g,
		     struct fl_entry *e, uint8_t proto, bool inv_proto,
		     bool mac_ok)
{
	uint8_t kind = fl_u8(in) % 7, k;

	if (kind == 0 && (proto != 6 && proto != 17 ? true : inv_proto))
		kind = 1;
	if (kind == 5 && !mac_ok)
		kind = 6;
	switch (kind) {
	case 0: {
		struct xt_multiport_v1 *m = fl_match_hdr(e, "multiport", 1, sizeof(*m));

		m->flags = fl_u8(in) % 3;	/* source, destination, either */
		m->count = 1 + fl_u8(in) % 4;
		for (k = 0; k < m->count; k++) {
			m->ports[k] = fl_port(in);
			if (k + 1 < m->count && fl_u8(in) & 1) {
				m->pflags[k] = 1;
				m->ports[k + 1] = m->ports[k] + fl_u8(in) % 8;
				if (m->ports[k + 1] < m->ports[k])
					m->ports[k + 1] = 0xffff;
				k++;
			}
		}
		m->invert = fl_u8(in) & 1;
		break;
	}
	case 1: {
		struct xt_length_info *l = fl_match_hdr(e, "length", 0, sizeof(*l));
		static const uint16_t lens[] = { 0, 20, 28, 40, 48, 60, 100, 0xffff };

		l->min = lens[fl_u8(in) % 8];
		l->max = l->min + fl_u8(in);
		if (l->max < l->min)
			l->max = 0xffff;
		l->invert = fl_u8(in) & 1;
		break;
	}
	case 2: {
		/* ipt_ttl_info and ip6t_hl_info: mode, value */
		uint8_t *t = fl_match_hdr(e, g->v6 ? "hl" : "ttl", 0, 2);
		static const uint8_t vals[] = { 64, 1, 0, 255, 63, 65, 2, 100 };

		t[0] = fl_u8(in) % 4;
		t[1] = vals[fl_u8(in) % 8];
		break;
	}
	case 3: {
		struct xt_iprange_mtinfo *r = fl_match_hdr(e, "iprange", 1, sizeof(*r));
		union nf_inet_addr *a[2][2] = {
			{ &r->src_min, &r->src_max }, { &r->dst_min, &r->dst_max },
		};
		uint8_t side;

		r->flags = fl_u8(in) & (IPRANGE_SRC | IPRANGE_DST |
					IPRANGE_SRC_INV | IPRANGE_DST_INV);
		for (side = 0; side < 2; side++) {
			if (g->v6) {
				fl_addr6(in, a[side][0]->in6.s6_addr);
				memcpy(a[side][1], a[side][0], 16);
				a[side][1]->in6.s6_addr[15] += fl_u8(in) % 4;
				if (a[side][1]->in6.s6_addr[15] < a[side][0]->in6.s6_addr[15])
					a[side][1]->in6.s6_addr[15] = 0xff;
			} else {
				uint32_t lo = fl_addr(in), hi = lo + fl_u8(in) % 4;

				a[side][0]->ip = htonl(lo);
				a[side][1]->ip = htonl(hi < lo ? ~0u : hi);
			}
		}
		break;
	}
	case 4: {
		struct xt_pkttype_info *p = fl_match_hdr(e, "pkttype", 0, sizeof(*p));

		p->pkttype = fl_u8(in) % 4;
		p->invert = fl_u8(in) & 1;
		break;
	}
	case 5: {
		struct xt_mac_info *m = fl_match_hdr(e, "mac", 0, sizeof(*m));

		memcpy(m->srcaddr, fl_macs[fl_u8(in) % 4], ETH_ALEN);
		m->invert = fl_u8(in) & 1;
		break;
	}
	default: {
		struct xt_comment_info *c = fl_match_hdr(e, "comment", 0, sizeof(*c));

		snprintf(c->comment, sizeof(c->comment), "fz%u", fl_u8(in));
		break;
	}
	}
}

/* ipt_ip from the input; the protocol the L4 match may use. */
static uint8_t fl_ip4(struct fl_in *in, struct ipt_ip *ip, uint8_t b,
		      bool *inv_proto)
{
	if (b & 1)
		fl_prefix(in, &ip->src, &ip->smsk);
	if (b & 2)
		fl_prefix(in, &ip->dst, &ip->dmsk);
	if (b & 4)
		fl_iface(in, ip->iniface, ip->iniface_mask);
	if (b & 8)
		fl_iface(in, ip->outiface, ip->outiface_mask);
	ip->proto = b & 16 ? fl_protos[fl_u8(in) % 8] : 0;
	ip->invflags = fl_u8(in) & (IPT_INV_SRCIP | IPT_INV_DSTIP |
				    IPT_INV_VIA_IN | IPT_INV_VIA_OUT);
	if (b & 32)
		ip->flags |= IPT_F_FRAG;
	if (b & 64)
		ip->invflags |= IPT_INV_FRAG;
	if (!(b & 128) && ip->proto && fl_u8(in) % 4 == 0)
		ip->invflags |= IPT_INV_PROTO;
	*inv_proto = ip->invflags & IPT_INV_PROTO;
	return ip->proto;
}

/*
 * ip6t_ip6 from the input. IP6T_F_PROTO (what ip6tables sets with -p) is
 * there with every protocol (the front-end refuses a protocol without it)
 * and sometimes with protocol 0 ("all"); IP6T_F_TOS and IP6T_INV_TOS /
 * IP6T_INV_FRAG are bits ip6_packet_match() ignores.
 */
static uint8_t fl_ip6(struct fl_in *in, struct ip6t_ip6 *ip, uint8_t b,
		      bool *inv_proto)
{
	uint8_t f;

	if (b & 1)
		fl_prefix6(in, &ip->src, &ip->smsk);
	if (b & 2)
		fl_prefix6(in, &ip->dst, &ip->dmsk);
	if (b & 4)
		fl_iface(in, ip->iniface, ip->iniface_mask);
	if (b & 8)
		fl_iface(in, ip->outiface, ip->outiface_mask);
	ip->proto = b & 16 ? fl_protos6[fl_u8(in) % 8] : 0;
	f = fl_u8(in);
	if (ip->proto || f % 8 == 0)
		ip->flags |= IP6T_F_PROTO;
	if (b & 32) {
		ip->flags |= IP6T_F_TOS;
		ip->tos = fl_u8(in);
	}
	ip->invflags = fl_u8(in) & (IP6T_INV_SRCIP | IP6T_INV_DSTIP |
				    IP6T_INV_VIA_IN | IP6T_INV_VIA_OUT |
				    IP6T_INV_TOS);
	if (b & 64)
		ip->invflags |= IP6T_INV_FRAG;
	if (!(b & 128) && ip->proto && f % 4 == 1)
		ip->invflags |= IP6T_INV_PROTO;
	*inv_proto = ip->invflags & IP6T_INV_PROTO;
	return ip->proto;
}

/* A rule of chain `chain` (built-ins: 2), where -m mac may be used or not. */
static void fl_rule(struct fl_in *in, struct fl_gen *g, uint32_t chain,
		    uint32_t n_chains, bool mac_ok)
{
	uint8_t b = fl_u8(in), v = fl_u8(in), l4 = g->v6 ? 58 : 1;
	struct fl_entry *e = fl_add(g, FL_ACCEPT);
	bool inv_proto;
	uint8_t proto;

	if (g->v6)
		proto = fl_ip6(in, &((struct ip6t_entry *)e->buf)->ipv6, b, &inv_proto);
	else
		proto = fl_ip4(in, &((struct ipt_entry *)e->buf)->ip, b, &inv_proto);
	if ((b & 128) && (proto == 6 || proto == 17 || proto == l4))
		fl_match(in, e, proto);
	if (fl_u8(in) % 4 == 0)
		fl_extra(in, g, e, proto, inv_proto, mac_ok);
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
		/* User chains may be reached from OUTPUT: no -m mac there. */
		for (k = 0; k < n_rules; k++)
			fl_rule(in, g, c < 3 ? 2 : c, n_chains, c < 2);
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

/*
 * The blob as iptables-legacy / ip6tables-legacy would send it: a
 * malloc'ed ipt_replace / ip6t_replace (the same header).
 */
static struct ipt_replace *fl_generate(struct fl_in *in, bool v6, size_t *lenp)
{
	static const int hooks[] = { NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT };
	static struct fl_gen g;
	struct ipt_replace *r;
	uint32_t i, off = 0, c;
	uint8_t *p;

	memset(&g, 0, sizeof(g));
	g.v6 = v6;
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
		size_t tsz = e->tgt == FL_ERROR ? sizeof(struct xt_error_target) :
						  sizeof(struct xt_standard_target);

		p = (uint8_t *)r->entries + e->off;
		memcpy(p, e->buf, e->target_offset);
		if (v6) {
			struct ip6t_entry *ie = (void *)p;

			ie->target_offset = e->target_offset;
			ie->next_offset = e->target_offset + tsz;
			if (e->tgt == FL_GOTO)
				ie->ipv6.flags |= IP6T_F_GOTO;
		} else {
			struct ipt_entry *ie = (void *)p;

			ie->target_offset = e->target_offset;
			ie->next_offset = e->target_offset + tsz;
			if (e->tgt == FL_GOTO)
				ie->ip.flags |= IPT_F_GOTO;
		}
		if (e->tgt == FL_ERROR) {
			struct xt_error_target *t = (void *)(p + e->target_offset);

			t->target.u.user.target_size = tsz;
			strcpy(t->target.u.user.name, XT_ERROR_TARGET);
			strcpy(t->errorname, e->errname);
		} else {
			struct xt_standard_target *t = (void *)(p + e->target_offset);

			t->target.u.user.target_size = tsz;
			t->verdict = fl_verdict(&g, e, i);
		}
	}
	*lenp = sizeof(*r) + off;
	return r;
}

/* ---- packets ---------------------------------------------------------------- */

#define FL_FRAME_MAX	512

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

/*
 * The Ethernet header: destination this host, broadcast or multicast
 * (-m pkttype; a unicast address that is not the device's would be
 * PACKET_OTHERHOST at tc, which XDP cannot tell: left out), source from
 * the -m mac pool.
 */
static void fl_eth(struct fl_in *in, uint8_t *buf, uint16_t proto)
{
	static const uint8_t dst[][6] = {
		{ 0 }, { 0 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x33, 0x33, 0, 0, 0, 1 }, { 0x01, 0x00, 0x5e, 0, 0, 1 },
	};
	uint8_t b = fl_u8(in);

	memcpy(buf, dst[b % 8 < 5 ? b % 8 : 0], 6);
	memcpy(buf + 6, fl_macs[(b >> 3) % 4], 6);
	buf[12] = proto >> 8;
	buf[13] = proto & 0xff;
}

/* Transport bytes at l4 (tcp, udp, icmp/icmp6, other); their length. */
static size_t fl_l4(struct fl_in *in, uint8_t *l4, uint8_t proto, uint8_t b)
{
	uint16_t sp = fl_port(in), dp = fl_port(in);
	size_t l4len = proto == 6 ? 20 : 8, i;

	if (b & 2)
		l4len = fl_u8(in) % 48;
	l4[0] = sp >> 8;
	l4[1] = sp;
	l4[2] = dp >> 8;
	l4[3] = dp;
	if (proto == 1) {
		l4[0] = fl_u8(in) % 12;
		l4[1] = fl_u8(in) % 4;
	}
	if (proto == 58) {
		static const uint8_t types[] = { 1, 2, 3, 4, 128, 129, 135, 136 };

		l4[0] = types[fl_u8(in) % 8];
		l4[1] = fl_u8(in) % 4;
	}
	if (proto == 6) {
		l4[12] = (b & 4 ? fl_u8(in) % 16 : 5 + fl_u8(in) % 3) << 4;
		l4[13] = fl_u8(in);
		for (i = 20; i < l4len; i++)
			l4[i] = fl_u8(in) % 10;
	}
	return l4len;
}

/* An Ethernet frame for an IPv4 datagram from the bytes; its length. */
static size_t fl_packet4(struct fl_in *in, uint8_t *buf)
{
	uint8_t *ip = buf + ETH_HLEN, b = fl_u8(in), proto;
	size_t ihl = 20 + 4 * (b & 1 ? fl_u8(in) % 4 : 0), tot;
	uint32_t s = htonl(fl_addr(in)), d = htonl(fl_addr(in));
	uint16_t c;
	int adj = 0;

	fl_eth(in, buf, ETH_P_IP);
	proto = fl_protos[fl_u8(in) % 8];
	tot = ihl + fl_l4(in, ip + ihl, proto, b);
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

/*
 * IPv6 extension headers after the fixed header at ip (up to 10, over
 * bpfilter's walk bound of 8): hop-by-hop, routing, fragment (first or
 * not, with or without M), AH, destination options, no next header. The
 * next-header numbers are chained; *proto is the upper layer (59: none).
 * Returns the offset of the upper-layer header.
 */
static size_t fl_exthdrs(struct fl_in *in, uint8_t *ip, uint8_t *proto)
{
	static const uint8_t kinds[] = { 0, 43, 44, 51, 60, 44, 60, 59 };
	static const uint16_t offs[] = { 0, 0, 1, 2, 185, 8191, 0, 1 };
	uint8_t n = fl_u8(in), k, kind, *nextp = ip + 6, *h;
	size_t len = 40, hl;

	n = n < 0xc0 ? n % 3 : n % 11;
	for (k = 0; k < n; k++) {
		kind = kinds[fl_u8(in) % 8];
		*nextp = kind;
		if (kind == 59) {
			*proto = 59;
			return len;
		}
		h = ip + len;
		nextp = h;
		if (kind == 44) {
			uint8_t f = fl_u8(in);
			uint16_t off = offs[f % 8] << 3 | (f & 8 ? 1 : 0);

			h[2] = off >> 8;
			h[3] = off;
			hl = 8;
		} else if (kind == 51) {
			h[1] = fl_u8(in) % 3 + 1;
			hl = (h[1] + 2u) << 2;
		} else {
			h[1] = fl_u8(in) % 3;
			hl = (h[1] + 1u) << 3;
			if (kind == 0 || kind == 60) {
				h[2] = 1;		/* PadN over the rest */
				h[3] = hl - 4;
			}
		}
		len += hl;
	}
	*nextp = fl_protos6[fl_u8(in) % 8];
	*proto = *nextp;
	return len;
}

/* An Ethernet frame for an IPv6 packet from the bytes; its length. */
static size_t fl_packet6(struct fl_in *in, uint8_t *buf)
{
	static const uint8_t hls[] = { 64, 1, 0, 255, 63, 65, 2, 100 };
	uint8_t *ip = buf + ETH_HLEN, b = fl_u8(in), proto, s = fl_u8(in);
	size_t tot;
	int adj = 0;

	fl_eth(in, buf, ETH_P_IPV6);
	ip[0] = 0x60 | (b & 1 ? fl_u8(in) & 0xf : 0);
	ip[1] = fl_u8(in);
	if (s >= 0xe0)
		memcpy(ip + 8, fl_odd6[s % 4], 16);
	else
		fl_addr6(in, ip + 8);
	if (s >= 0xc0 && s < 0xe0)
		memcpy(ip + 24, fl_odd6[s % 4], 16);
	else
		fl_addr6(in, ip + 24);
	ip[7] = hls[fl_u8(in) % 8];
	tot = fl_exthdrs(in, ip, &proto);
	if (proto != 59)
		tot += fl_l4(in, ip + tot, proto, b);
	if (b & 8)
		adj = (int)(fl_u8(in) % 9) - 4;
	if ((b & 16) && fl_u8(in) % 4 == 0)
		adj = 40 - (int)tot;		/* payload length 0 */
	ip[4] = (tot - 40 + adj) >> 8;
	ip[5] = tot - 40 + adj;
	return ETH_HLEN + tot + (b & 64 ? fl_u8(in) % 16 : 0);
}

static size_t fl_packet(struct fl_in *in, bool v6, uint8_t *buf)
{
	memset(buf, 0, FL_FRAME_MAX);
	return v6 ? fl_packet6(in, buf) : fl_packet4(in, buf);
}

/* ---- loading and running ---------------------------------------------------- */

/* What the run exercised, printed at exit: a silent skip shows up here. */
static struct {
	unsigned long tables, loads, gen_refused, packets, drops, unfiltered;
	unsigned long tables6, packets6;	/* of those, IPv6 */
} fl_stats;

static void fl_print_stats(void)
{
	fprintf(stderr, "fuzz_load: %lu tables (%lu IPv6), %lu programs loaded, %lu refused by bf_gen, %lu packets (%lu IPv6, %lu dropped, %lu unfiltered)\n",
		fl_stats.tables, fl_stats.tables6, fl_stats.loads,
		fl_stats.gen_refused, fl_stats.packets, fl_stats.packets6,
		fl_stats.drops, fl_stats.unfiltered);
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
	uint8_t frame[FL_FRAME_MAX], out[2 * FL_FRAME_MAX];
	struct bf_test_ifs ifs;
	uint32_t key = 0, k;
	size_t len;
	int v, expect;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	ifs.iif = fl_u8(in) & 1;
	ifs.oif = fl_u8(in) & 1;
	len = fl_packet(in, ir->family == AF_INET6, frame);
	o.data_size_in = len;
	memset(want, 0, ir->n_entries * sizeof(*want));
	v = bf_interp_run_frame(ir, hook, frame, len, ifs.iif ? "lo" : "",
				ifs.oif ? "lo" : "", want);
	if (v < 0)
		fz_fail("bf_interp_run_frame: %d", v);
	if (bh == BF_HOOK_XDP)
		expect = v == BF_V_DROP ? XDP_DROP : XDP_PASS;
	else
		expect = v == BF_V_DROP ? TC_ACT_SHOT : TC_ACT_OK;
	fl_stats.packets++;
	fl_stats.packets6 += ir->family == AF_INET6;
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
		fz_fail("%s %s returned %u, bf_interp_run_frame %d (want %d)",
			ir->family == AF_INET6 ? "IPv6" : "IPv4",
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
	fl_stats.tables6 += ir->family == AF_INET6;
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
	const struct fz_fam *fam = fz_family(&data, &len);
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
		repl = fl_generate(&in, fam->family == AF_INET6, &rlen);
	}
	if (getenv("FUZZ_DUMP_BLOB")) {
		/* The blob, for tests/unit/ or a look with a hex dumper. */
		FILE *f = fopen(getenv("FUZZ_DUMP_BLOB"), "wb");

		if (f) {
			fwrite(repl, 1, rlen, f);
			fclose(f);
		}
	}
	ret = fz_translate(fam, repl, rlen, &ir, &err);
	if (ret && gen)
		fz_fail("the front-end refused a generated %s blob: %d %s",
			fam->name, ret, err.msg);
	if (!ret)
		fl_exercise(ir, &in);
	bf_ir_free(ir);
	bf_err_clear(&err);
	free(repl);
	return 0;
}
