// SPDX-License-Identifier: GPL-2.0
/*
 * Reference interpreter of the IR: evaluates a table for one IPv4 packet in
 * plain C, following ipt_do_table() and the xt matches. No BPF is involved,
 * so comparing it with BPF_PROG_TEST_RUN isolates codegen bugs, and
 * comparing it with the kernel isolates front-end bugs.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <linux/netfilter.h>

#include "bpfilter/codegen.h"

enum interp_res {
	INTERP_NOMATCH,
	INTERP_MATCH,
	INTERP_HOTDROP,
};

/* What one chain call answers: no decision, or a final verdict. */
enum interp_answer {
	ANSWER_NONE,
	ANSWER_ACCEPT,
	ANSWER_DROP,
};

struct interp_pkt {
	uint32_t saddr;		/* network order */
	uint32_t daddr;
	uint8_t saddr6[16];	/* IPv6 */
	uint8_t daddr6[16];
	bool walkerr;		/* IPv6: ipv6_find_hdr() failed */
	uint16_t len6;		/* IPv6: (u16)(payload_len + 40), xt_length */
	/*
	 * IPv6 -m rt: ipv6_find_hdr(NEXTHDR_ROUTING)'s answer: 0 found,
	 * -ENOENT, -EBADMSG; rt = its offset in the packet, rt_len the
	 * packet's length (skb->len).
	 */
	int rt_err;
	uint32_t rt;
	const uint8_t *l3;
	uint8_t proto;
	uint8_t ttl;
	uint8_t pkttype;	/* PACKET_HOST, _BROADCAST, _MULTICAST */
	uint8_t smac[6];
	uint16_t fragoff;	/* IPv4: 8-byte units; IPv6: bytes */
	const uint8_t *l4;
	uint32_t l4len;		/* L4 bytes inside the datagram */
	uint32_t len;		/* tot_len / skb->len, what counters count */
	char iif[16];
	char oif[16];
	uint32_t ctstate;	/* BF_CT_* bit; 0 until decided */
};

struct interp {
	const struct bf_ir *ir;
	bool v6;
	const struct interp_pkt *pkt;
	struct xt_counters *counters;
	unsigned int depth;
	const struct bf_interp_env *env;	/* NULL: mark 0, no limits */
};

static uint16_t interp_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ip_rcv_core()'s checks: what fails them never reaches netfilter. */
static int interp_parse(const uint8_t *l3, size_t len, struct interp_pkt *pkt)
{
	struct iphdr iph;	/* a copy: l3 need not be aligned (frame + 14) */
	uint32_t ihl, tot;

	if (len < sizeof(iph))
		return -EINVAL;
	memcpy(&iph, l3, sizeof(iph));
	if (iph.version != 4 || iph.ihl < 5)
		return -EINVAL;
	ihl = iph.ihl * 4u;
	tot = ntohs(iph.tot_len);
	if (len < ihl || tot < ihl || tot > len)
		return -EINVAL;
	if (interp_csum(l3, ihl) != 0)
		return -EINVAL;
	pkt->saddr = iph.saddr;
	pkt->daddr = iph.daddr;
	pkt->proto = iph.protocol;
	pkt->ttl = iph.ttl;
	pkt->fragoff = ntohs(iph.frag_off) & 0x1fff;
	pkt->l4 = l3 + ihl;
	pkt->l4len = tot - ihl;
	pkt->len = tot;
	return 0;
}

#define NEXTHDR_HOP		0
#define NEXTHDR_ROUTING		43
#define NEXTHDR_FRAGMENT	44
#define NEXTHDR_AUTH		51
#define NEXTHDR_NONE		59
#define NEXTHDR_DEST		60
#define INTERP6_MAX_EXTHDRS	8	/* BF_V6_MAX_EXTHDRS (codegen/gen.h) */

static bool interp6_ext_hdr(uint8_t h)
{
	return h == NEXTHDR_HOP || h == NEXTHDR_ROUTING ||
	       h == NEXTHDR_FRAGMENT || h == NEXTHDR_AUTH ||
	       h == NEXTHDR_NONE || h == NEXTHDR_DEST;
}

static bool interp6_zero(const uint8_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* ip6_rcv_core's RFC 4291 address checks: true = the kernel drops it */
static bool interp6_bad_addrs(const uint8_t *s, const uint8_t *d)
{
	if (s[0] == 0xff)				/* multicast source */
		return true;
	if (d[0] == 0xff && (d[1] & 0xf) <= 1)		/* scope 0, 1 */
		return true;
	if (interp6_zero(s, 15) && s[15] == 1)		/* ::1 */
		return true;
	return interp6_zero(d, 15) && d[15] == 1;
}

/*
 * ipv6_find_hdr(skb, &thoff, -1, &fragoff, NULL) on the `len` bytes of
 * the packet at `l3`, bounded as bpfilter_main's walk is.
 */
static void interp6_walk(const uint8_t *l3, uint32_t len,
			 struct interp_pkt *pkt)
{
	uint32_t start = 40, hdrlen;
	uint8_t nexthdr = l3[6];
	int n;

	for (n = 0; ; n++) {
		if (!interp6_ext_hdr(nexthdr) || nexthdr == NEXTHDR_NONE)
			break;
		if (n == INTERP6_MAX_EXTHDRS)
			goto err;	/* designed bound: a walk error */
		if (start + 2 > len)
			goto err;
		/* ipv6_find_hdr() reads a routing header's first 4 bytes */
		if (nexthdr == NEXTHDR_ROUTING && start + 4 > len)
			goto err;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			uint16_t off;

			if (start + 4 > len)
				goto err;
			off = ((uint16_t)l3[start + 2] << 8 | l3[start + 3]) & ~7;
			if (off) {
				uint8_t next = l3[start];

				if (interp6_ext_hdr(next) && next != NEXTHDR_NONE)
					goto err;	/* -ENOENT */
				pkt->proto = next;
				pkt->fragoff = off;
				pkt->l4 = l3;	/* thoff stays 0 */
				pkt->l4len = len;
				return;
			}
			hdrlen = 8;
		} else if (nexthdr == NEXTHDR_AUTH) {
			hdrlen = (l3[start + 1] + 2u) << 2;
		} else {
			hdrlen = (l3[start + 1] + 1u) << 3;
		}
		nexthdr = l3[start];
		start += hdrlen;
	}
	pkt->proto = nexthdr;
	pkt->l4 = l3 + (start <= len ? start : len);
	pkt->l4len = start <= len ? len - start : 0;
	return;
err:
	pkt->walkerr = true;
	pkt->proto = 0;
	pkt->l4 = l3 + len;
	pkt->l4len = 0;
}

/*
 * ipv6_find_hdr(skb, &off, target, NULL, NULL) for a target >= 0, bounded
 * as bpfilter_main's walk is (a 9th extension header is -EBADMSG: the
 * designed difference of docs/design-notes.md). 0 and *off, or -ENOENT,
 * -EBADMSG.
 */
static int interp6_find(const uint8_t *l3, uint32_t len, uint8_t target,
			uint32_t *off)
{
	uint32_t start = 40, hdrlen;
	uint8_t nexthdr = l3[6];
	int n;

	for (n = 0; ; n++) {
		if (!interp6_ext_hdr(nexthdr) || nexthdr == NEXTHDR_NONE)
			return -ENOENT;
		if (n == INTERP6_MAX_EXTHDRS)
			return -EBADMSG;
		if (start + 2 > len)
			return -EBADMSG;
		if (nexthdr == NEXTHDR_ROUTING && start + 4 > len)
			return -EBADMSG;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			if (start + 4 > len)
				return -EBADMSG;
			if (((uint16_t)l3[start + 2] << 8 | l3[start + 3]) & ~7) {
				if (nexthdr != target)
					return -ENOENT;
				break;
			}
			hdrlen = 8;
		} else if (nexthdr == NEXTHDR_AUTH) {
			hdrlen = (l3[start + 1] + 2u) << 2;
		} else {
			hdrlen = (l3[start + 1] + 1u) << 3;
		}
		if (nexthdr == target)
			break;
		nexthdr = l3[start];
		start += hdrlen;
	}
	*off = start;
	return 0;
}

/* rt_mt6() (ir.h BF_F_RT) */
static enum interp_res interp6_rt(const struct interp_pkt *pkt,
				  const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = p->flags >> 8, hdrlen;
	const uint8_t *rh = pkt->l3 + pkt->rt;
	bool m;

	if (pkt->rt_err == -ENOENT)
		return INTERP_NOMATCH;
	if (pkt->rt_err)
		return INTERP_HOTDROP;
	hdrlen = (rh[1] + 1u) << 3;
	if (pkt->len - pkt->rt < hdrlen)
		return INTERP_HOTDROP;	/* measured on 6.18 (kernel6.py) */
	m = ((rh[3] >= p->lo && rh[3] <= p->hi) != !!(inv & 0x02)) &&
	    (!(f & 0x04) || ((p->mask == hdrlen) != !!(inv & 0x04))) &&
	    (!(f & 0x01) || ((p->value == rh[2]) != !!(inv & 0x01)));
	if (m && (f & 0x08))
		m = !(rh[4] | rh[5] | rh[6] | rh[7]);
	return m ? INTERP_MATCH : INTERP_NOMATCH;
}

/* frag_mt6() (ir.h BF_F_FRAG6) */
static enum interp_res interp6_frag(const struct interp_pkt *pkt,
				    const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff, off, id;
	const uint8_t *fh;
	uint16_t fo;
	bool m;
	int err;

	err = interp6_find(pkt->l3, pkt->len, NEXTHDR_FRAGMENT, &off);
	if (err == -ENOENT)
		return INTERP_NOMATCH;
	if (err || pkt->len - off < 8)
		return INTERP_HOTDROP;
	fh = pkt->l3 + off;
	id = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 |
	     (uint32_t)fh[6] << 8 | fh[7];
	fo = (uint16_t)(fh[2] << 8 | fh[3]);
	m = ((id >= p->lo && id <= p->hi) != !!(inv & 0x01)) &&
	    !((f & 0x04) && (fh[1] || (fo & 0x6))) &&
	    !((f & 0x08) && (fo & ~0x7)) &&
	    !((f & 0x10) && !(fo & 0x1)) &&
	    !((f & 0x20) && (fo & 0x1));
	return m ? INTERP_MATCH : INTERP_NOMATCH;
}

/* hbh_mt6()'s strict option walk over the `rem` bytes at `op`: never a hotdrop */
static enum interp_res interp6_opts_walk(const uint8_t *op, uint32_t rem,
					 const struct bf_pred *p)
{
	uint32_t k, optlen;
	uint16_t o;

	for (k = 0; k < p->hi; k++) {
		memcpy(&o, k < 8 ? p->a6 + 2 * k : p->b6 + 2 * (k - 8), 2);
		if (rem < 1)
			return INTERP_NOMATCH;
		if (op[0] != o >> 8)
			return INTERP_NOMATCH;
		if (op[0]) {
			if (rem < 2)
				return INTERP_NOMATCH;
			if ((o & 0xff) != 0xff && op[1] != (o & 0xff))
				return INTERP_NOMATCH;
			optlen = op[1] + 2u;
		} else {
			optlen = 1;	/* Pad1 */
		}
		/* measured on 6.18: not checked for the last option */
		if (rem < optlen && k + 1 < p->hi)
			return INTERP_NOMATCH;
		if (rem < optlen)
			break;
		op += optlen;
		rem -= optlen;
	}
	return INTERP_MATCH;
}

/* hbh_mt6() for -m hbh and -m dst (ir.h BF_F_OPTS6) */
static enum interp_res interp6_opts(const struct interp_pkt *pkt,
				    const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff, off, hdrlen;
	enum interp_res res;
	int err;

	if (p->hi > 16)
		return INTERP_NOMATCH;	/* checkentry refuses it */
	err = interp6_find(pkt->l3, pkt->len, (uint8_t)p->value, &off);
	if (err == -ENOENT)
		return INTERP_NOMATCH;
	if (err)
		return INTERP_HOTDROP;
	hdrlen = (pkt->l3[off + 1] + 1u) << 3;
	if (pkt->len - off < hdrlen)
		return INTERP_HOTDROP;
	if (f & 0x02) {
		res = interp6_opts_walk(pkt->l3 + off + 2, hdrlen - 2, p);
		if (res != INTERP_MATCH)
			return res;
	}
	if ((f & 0x01) && ((p->mask == hdrlen) == !!(inv & 0x01)))
		return INTERP_NOMATCH;
	return INTERP_MATCH;
}

/*
 * ipv6_rcv()/ip6_rcv_core()'s checks (what fails them never reaches
 * netfilter; the address and hop-by-hop checks only for packets from
 * another node), then the walk. See codegen/gen6.c.
 */
static int interp6_parse(const uint8_t *l3, size_t len, int hook,
			 struct interp_pkt *pkt)
{
	uint32_t plen, tot;

	if (len < 40 || l3[0] >> 4 != 6)
		return -EINVAL;
	plen = (uint32_t)l3[4] << 8 | l3[5];
	pkt->len6 = (uint16_t)(plen + 40);
	if (plen == 0 && (l3[6] == NEXTHDR_HOP || hook == NF_INET_LOCAL_OUT))
		tot = len;	/* jumbogram rule, BIG TCP: not trimmed */
	else
		tot = plen + 40;
	if (tot > len)
		return -EINVAL;
	if (hook != NF_INET_LOCAL_OUT) {
		if (interp6_bad_addrs(l3 + 8, l3 + 24))
			return -EINVAL;
		if (l3[6] == NEXTHDR_HOP &&
		    (tot < 48 || 40 + ((l3[41] + 1u) << 3) > tot))
			return -EINVAL;
	}
	memcpy(pkt->saddr6, l3 + 8, 16);
	memcpy(pkt->daddr6, l3 + 24, 16);
	pkt->ttl = l3[7];
	pkt->len = tot;
	interp6_walk(l3, tot, pkt);
	pkt->l3 = l3;
	pkt->rt_err = interp6_find(l3, tot, NEXTHDR_ROUTING, &pkt->rt);
	return 0;
}

static bool interp_in_range(uint32_t v, const struct bf_pred *p)
{
	return v >= p->lo && v <= p->hi;
}

static enum interp_res interp_tcpopt(const struct interp_pkt *pkt,
				     const struct bf_pred *p)
{
	uint32_t hdr = (pkt->l4[12] >> 4) * 4u, optlen, i;
	const uint8_t *op = pkt->l4 + 20;
	bool found = false;

	if (hdr < 20 || hdr > pkt->l4len)
		return INTERP_HOTDROP;
	optlen = hdr - 20;
	for (i = 0; i < optlen && !found;) {
		if (op[i] == p->value)
			found = true;
		else if (op[i] < 2 || i + 1 >= optlen)
			i++;
		else
			i += op[i + 1] ? op[i + 1] : 1;
	}
	return found != p->inv ? INTERP_MATCH : INTERP_NOMATCH;
}

static enum interp_res interp_l4hdr(const struct interp_pkt *pkt,
				    const struct bf_pred *p)
{
	if (pkt->fragoff) {
		if ((p->flags & BF_L4_EVIL_FRAG) && pkt->fragoff == 1)
			return INTERP_HOTDROP;
		return INTERP_NOMATCH;
	}
	if (pkt->l4len < p->lo)
		return INTERP_HOTDROP;
	return INTERP_MATCH;
}

/* ipt_ttl's modes; an unknown one never matches. */
static bool interp_ttl(uint8_t ttl, const struct bf_pred *p)
{
	switch (p->flags) {
	case 0: return ttl == p->value;
	case 1: return ttl != p->value;
	case 2: return ttl < p->value;
	case 3: return ttl > p->value;
	}
	return false;
}

static bool interp_mport_item(uint32_t port, const struct bf_pred *it)
{
	if (it->flags & BF_MPORT_RANGE)
		return port >= it->lo && port <= it->hi;
	return port == it->lo;
}

/*
 * xt_multiport v1 (multiport_mt, ports_match_v1): p and the `n` items
 * after it.
 */
static enum interp_res interp_mport(const struct interp_pkt *pkt,
				    const struct bf_pred *p, uint32_t n)
{
	uint32_t sport, dport, i;
	bool hit = false;

	if (pkt->fragoff)
		return INTERP_NOMATCH;
	if (pkt->l4len < 4)
		return INTERP_HOTDROP;
	sport = (uint32_t)pkt->l4[0] << 8 | pkt->l4[1];
	dport = (uint32_t)pkt->l4[2] << 8 | pkt->l4[3];
	for (i = 1; i <= n && !hit; i++) {
		if (p->value != 1 && interp_mport_item(sport, &p[i]))
			hit = true;
		if (p->value != 0 && interp_mport_item(dport, &p[i]))
			hit = true;
	}
	return hit != p->inv ? INTERP_MATCH : INTERP_NOMATCH;
}

#define RTN_UNICAST_	1
#define RTN_BROADCAST_	3
#define RTN_MULTICAST_	5

/* __inet_dev_addr_type(): what the address alone says, else env's routes */
static unsigned int interp_addr_type(const struct interp *in, uint32_t addr,
				     const char *dev)
{
	uint32_t h = ntohl(addr);

	if ((h >> 24) == 0 || h == UINT32_MAX)
		return RTN_BROADCAST_;
	if ((h >> 28) == 0xe)
		return RTN_MULTICAST_;
	if (!in->env || !in->env->addr_type)
		return RTN_UNICAST_;
	return in->env->addr_type(in->env->addr_ctx, addr, dev);
}

/* xt_addrtype v1's addrtype_mt_v1() for IPv4 */
static bool interp_addrtype(const struct interp *in, const struct bf_pred *p)
{
	const struct interp_pkt *pkt = in->pkt;
	const char *dev = NULL;
	unsigned int t;

	if (p->flags & 4)
		dev = pkt->iif;
	else if (p->flags & 8)
		dev = pkt->oif;
	/* (type in mask) XOR invert, source first; a false side ends it */
	if (p->lo) {
		t = interp_addr_type(in, pkt->saddr, dev);
		if ((t < 16 && (p->lo & (1U << t))) == !!(p->flags & 1))
			return false;
	}
	if (p->hi) {
		t = interp_addr_type(in, pkt->daddr, dev);
		if ((t < 16 && (p->hi & (1U << t))) == !!(p->flags & 2))
			return false;
	}
	return true;
}

/* match_lookup_rt6(net, NULL, a): env's routes, else "no route" */
static uint32_t interp6_lookup(const struct interp *in, const uint8_t *a)
{
	if (!in->env || !in->env->addr6_lookup)
		return 0x80;	/* XT_ADDRTYPE_UNREACHABLE */
	return in->env->addr6_lookup(in->env->addr6_ctx, a);
}

/* match_type6() (ir.h BF_F_ADDRTYPE6) */
static bool interp6_type(const struct interp *in, const uint8_t *a,
			 uint32_t mask)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool mc = a[0] == 0xff, any = interp6_zero(a, 16);
	bool unicast = !mc && !any && memcmp(a, mapped, sizeof(mapped));

	if ((mask & 0x20) && !mc)
		return false;
	if ((mask & 0x02) && !unicast)
		return false;
	if ((mask & 0x01) && !any)
		return false;
	/* LOCAL, ANYCAST, UNREACHABLE: one of them from the route lookup */
	if (mask & (0x04 | 0x10 | 0x80))
		return !!(mask & interp6_lookup(in, a));
	return true;
}

/* addrtype_mt6(): each side with bits, XOR its inversion */
static bool interp6_addrtype(const struct interp *in, const struct bf_pred *p)
{
	const struct interp_pkt *pkt = in->pkt;

	if (p->lo && interp6_type(in, pkt->saddr6, p->lo) == !!(p->flags & 1))
		return false;
	if (p->hi && interp6_type(in, pkt->daddr6, p->hi) == !!(p->flags & 2))
		return false;
	return true;
}

/* -m limit: bucket bf_ir_pred_ordinal() at env->jiffies */
static bool interp_limit(const struct interp *in, const struct bf_pred *p)
{
	int32_t slot = bf_ir_pred_ordinal(in->ir, p);

	if (!in->env || !in->env->limits || slot < 0)
		return false;
	return bf_limit_take(p, in->env->jiffies, &in->env->limits[slot]);
}

/* ipv6_masked_addr_cmp() == 0 */
static bool interp6_addr(const uint8_t *a, const struct bf_pred *p)
{
	int i;

	for (i = 0; i < 16; i++)
		if ((a[i] ^ p->a6[i]) & p->b6[i])
			return false;
	return true;
}

/* xt_iprange: !(a < a6 || b6 < a), before the inversion */
static bool interp6_range(const uint8_t *a, const struct bf_pred *p)
{
	return memcmp(a, p->a6, 16) >= 0 && memcmp(p->b6, a, 16) >= 0;
}

/*
 * Is `f` a field of the table's family? Fields of the other family are
 * never generated (bf_gen refuses them); evaluating them as false keeps
 * the interpreter total.
 */
static bool interp_field_ok(bool v6, enum bf_field f)
{
	switch (f) {
	case BF_F_SADDR4:
	case BF_F_DADDR4:
	case BF_F_PROTO:
	case BF_F_FRAG:
	case BF_F_ICMP:
	case BF_F_SRANGE4:
	case BF_F_DRANGE4:
	case BF_F_ADDRTYPE:	/* IPv4's inet_dev_addr_type() */
		return !v6;
	case BF_F_SADDR6:
	case BF_F_DADDR6:
	case BF_F_PROTO6:
	case BF_F_ICMP6:
	case BF_F_SRANGE6:
	case BF_F_DRANGE6:
	case BF_F_RT:
	case BF_F_FRAG6:
	case BF_F_OPTS6:
	case BF_F_ADDRTYPE6:
		return v6;
	default:
		return true;
	}
}

/* ip6_packet_match's protocol test (ir.h BF_F_PROTO6), inversion included */
static enum interp_res interp6_proto(const struct interp_pkt *pkt,
				     const struct bf_pred *p)
{
	bool m;

	if (pkt->walkerr)
		return INTERP_HOTDROP;	/* its fragment offset is always 0 */
	if (pkt->proto == p->value)
		m = !p->inv;
	else
		m = p->value == 0 || p->inv;
	return m ? INTERP_MATCH : INTERP_NOMATCH;
}

static bool interp_test(const struct interp *in, const struct bf_pred *p)
{
	const struct interp_pkt *pkt = in->pkt;
	const uint8_t *l4 = pkt->l4;

	switch (p->field) {
	case BF_F_SADDR4:
		return (pkt->saddr & p->mask) == p->value;
	case BF_F_DADDR4:
		return (pkt->daddr & p->mask) == p->value;
	case BF_F_IIF:
		return bf_ifpat_match(&in->ir->ifpats[p->value], pkt->iif);
	case BF_F_OIF:
		return bf_ifpat_match(&in->ir->ifpats[p->value], pkt->oif);
	case BF_F_PROTO:
		return pkt->proto == p->value;
	case BF_F_FRAG:
		return pkt->fragoff != 0;
	case BF_F_SPORT:
		return interp_in_range((uint32_t)l4[0] << 8 | l4[1], p);
	case BF_F_DPORT:
		return interp_in_range((uint32_t)l4[2] << 8 | l4[3], p);
	case BF_F_TCPFLAGS:
		return (l4[13] & p->mask) == p->value;
	case BF_F_ICMP:
		return p->value == 0xff ||
		       (l4[0] == p->value && interp_in_range(l4[1], p));
	case BF_F_LENGTH:
		return interp_in_range(in->v6 ? pkt->len6 : pkt->len, p);
	case BF_F_TTL:
		return interp_ttl(pkt->ttl, p);
	case BF_F_SRANGE4:
		return interp_in_range(ntohl(pkt->saddr), p);
	case BF_F_DRANGE4:
		return interp_in_range(ntohl(pkt->daddr), p);
	case BF_F_PKTTYPE:
		return pkt->pkttype == p->value;
	case BF_F_SMAC:
		return ((uint32_t)pkt->smac[0] << 24 | (uint32_t)pkt->smac[1] << 16 |
			(uint32_t)pkt->smac[2] << 8 | pkt->smac[3]) == p->value &&
		       ((uint32_t)pkt->smac[4] << 8 | pkt->smac[5]) == p->lo;
	case BF_F_MARK:
		return ((in->env ? in->env->mark : 0) & p->mask) == p->value;
	case BF_F_ADDRTYPE:
		return interp_addrtype(in, p);
	case BF_F_LIMIT:
		return interp_limit(in, p);
	case BF_F_CTSTATE:
		return (pkt->ctstate & p->value) != 0;
	case BF_F_ADDRTYPE6:
		return interp6_addrtype(in, p);
	case BF_F_SADDR6:
		return interp6_addr(pkt->saddr6, p);
	case BF_F_DADDR6:
		return interp6_addr(pkt->daddr6, p);
	case BF_F_ICMP6:
		return l4[0] == p->value && interp_in_range(l4[1], p);
	case BF_F_SRANGE6:
		return interp6_range(pkt->saddr6, p);
	case BF_F_DRANGE6:
		return interp6_range(pkt->daddr6, p);
	case BF_F_COMMENT:
	case BF_F_IPRANGE:
	case BF_F_MPORT_ITEM:
	default:
		return true;
	}
}

static enum interp_res interp_pred(const struct interp *in,
				   const struct bf_pred *p)
{
	if (p->field == BF_F_L4HDR)
		return interp_l4hdr(in->pkt, p);
	if (p->field == BF_F_TCPOPT)
		return interp_tcpopt(in->pkt, p);
	if (!interp_field_ok(in->v6, p->field))
		return INTERP_NOMATCH;
	if (p->field == BF_F_PROTO6)
		return interp6_proto(in->pkt, p);
	if (p->field == BF_F_RT)
		return interp6_rt(in->pkt, p);
	if (p->field == BF_F_FRAG6)
		return interp6_frag(in->pkt, p);
	if (p->field == BF_F_OPTS6)
		return interp6_opts(in->pkt, p);
	return interp_test(in, p) != p->inv ? INTERP_MATCH : INTERP_NOMATCH;
}

static void interp_count(struct interp *in, uint32_t index)
{
	if (!in->counters)
		return;
	in->counters[index].pcnt++;
	in->counters[index].bcnt += in->pkt->len;
}

static enum interp_res interp_rule(struct interp *in, const struct bf_rule *r)
{
	enum interp_res res;
	uint32_t i;

	for (i = 0; i < r->n_preds; i++) {
		const struct bf_pred *p = &r->preds[i];

		if (p->field == BF_F_MPORT)
			res = interp_mport(in->pkt, p, p->lo < r->n_preds - i ?
					   p->lo : r->n_preds - i - 1);
		else
			res = interp_pred(in, p);
		if (res != INTERP_MATCH)
			return res;
	}
	interp_count(in, r->index);
	return INTERP_MATCH;
}

static int interp_chain(struct interp *in, uint32_t c, bool *returned);

/* Runs `target` for a jump or goto; *answer is what it decided. */
static int interp_call(struct interp *in, uint32_t target,
		       enum interp_answer *answer)
{
	bool returned;
	int ret;

	if (target >= in->ir->n_chains || ++in->depth > 64)
		return -ELOOP;
	ret = interp_chain(in, target, &returned);
	in->depth--;
	if (ret < 0)
		return ret;
	*answer = ret;
	return 0;
}

/*
 * Evaluate chain `c`. Returns an enum interp_answer or a negative errno;
 * ANSWER_NONE means the chain returned (RETURN, its end, or a goto'd chain
 * that returned), which in a built-in chain means its policy.
 */
static int interp_chain(struct interp *in, uint32_t c, bool *returned)
{
	const struct bf_chain *chain = &in->ir->chains[c];
	enum interp_answer answer;
	uint32_t i;
	int ret;

	*returned = false;
	for (i = 0; i < chain->n_rules; i++) {
		const struct bf_rule *r = &chain->rules[i];

		ret = interp_rule(in, r);
		if (ret == INTERP_HOTDROP)
			return ANSWER_DROP;
		if (ret == INTERP_NOMATCH)
			continue;
		switch (r->verdict) {
		case BF_V_NEXT:
		case BF_V_LOG:		/* logging changes no verdict */
			continue;
		case BF_V_REJECT:	/* the reply is a side effect; the packet drops */
			return ANSWER_DROP;
		case BF_V_ACCEPT:
			return ANSWER_ACCEPT;
		case BF_V_DROP:
			return ANSWER_DROP;
		case BF_V_RETURN:
			*returned = true;
			return ANSWER_NONE;
		case BF_V_JUMP:
			ret = interp_call(in, r->target, &answer);
			if (ret < 0)
				return ret;
			if (answer != ANSWER_NONE)
				return answer;
			continue;
		case BF_V_GOTO:
			ret = interp_call(in, r->target, &answer);
			if (ret < 0)
				return ret;
			*returned = answer == ANSWER_NONE;
			return answer;
		}
	}
	if (chain->hook != BF_HOOK_NONE)
		return ANSWER_NONE;
	if (!chain->end_counts)
		return ANSWER_DROP;
	interp_count(in, chain->end_index);
	*returned = true;
	return ANSWER_NONE;
}

/*
 * The connection tracking state is an input of the interpreter (the
 * kernel's table is not modelled): bf_interp_run_ct() takes it; 0, and
 * bf_interp_run(), mean "the kernel has no entry for this packet", which
 * this decides from the packet alone exactly as codegen/gen_ct.c does
 * when its lookups find nothing (as in BPF_PROG_TEST_RUN in a namespace
 * without traffic).
 */
static uint32_t interp_ct_tcp(const struct interp_pkt *pkt)
{
	static const uint8_t ok[] = { 0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31,
				      0x10, 0x30 };
	const uint8_t *th = pkt->l4;
	uint8_t fl;
	size_t i;

	if (pkt->l4len < 20 || (th[12] >> 4) * 4u < 20 ||
	    (th[12] >> 4) * 4u > pkt->l4len)
		return BF_CT_INVALID;
	fl = th[13] & 0x37;
	for (i = 0; i < sizeof(ok) && ok[i] != fl; i++)
		;
	if (i == sizeof(ok) || (fl & 0x04) || (fl & 0x12) == 0x12 ||
	    (!(fl & 0x02) && (fl & 0x01)))
		return BF_CT_INVALID;	/* no entry: only SYN or ACK start one */
	return BF_CT_NEW;
}

static uint32_t interp_ct_nolookup(const struct interp_pkt *pkt)
{
	const uint8_t *l4 = pkt->l4;

	if (pkt->fragoff)
		return BF_CT_ESTABLISHED;
	switch (pkt->proto) {
	case 6:
		return interp_ct_tcp(pkt);
	case 17:
		if (pkt->l4len < 8 || ((uint32_t)l4[4] << 8 | l4[5]) < 8 ||
		    ((uint32_t)l4[4] << 8 | l4[5]) > pkt->l4len)
			return BF_CT_INVALID;
		return BF_CT_NEW;
	case 1:
		if (pkt->l4len < 8)
			return BF_CT_INVALID;
		switch (l4[0]) {
		case 8: case 13: case 15: case 17:
			return BF_CT_NEW;
		default:	/* replies: no request; errors: no flow */
			return BF_CT_INVALID;
		}
	default:
		return BF_CT_NEW;
	}
}

/*
 * IPv6, as gen_ct.c decides it when its lookups find nothing: the
 * extension-header walk failing or ending at NEXTHDR_NONE INVALID;
 * ICMPv6 MLD / neighbour discovery / multicast router discovery
 * UNTRACKED, errors INVALID (no flow), echo and node information
 * queries NEW, their replies INVALID (no request), other types INVALID.
 */
static uint32_t interp6_ct_icmp6(const struct interp_pkt *pkt)
{
	static const uint8_t untracked[] = { 130, 131, 132, 133, 134, 135, 136,
					     143, 151, 152 };
	uint8_t type;
	size_t i;

	if (pkt->l4len < 8)
		return BF_CT_INVALID;
	type = pkt->l4[0];
	for (i = 0; i < sizeof(untracked); i++)
		if (untracked[i] == type)
			return BF_CT_UNTRACKED;
	if (type == 128 || type == 139)
		return BF_CT_NEW;
	return BF_CT_INVALID;
}

static uint32_t interp6_ct_nolookup(const struct interp_pkt *pkt)
{
	if (pkt->fragoff)
		return BF_CT_ESTABLISHED;
	if (pkt->walkerr)
		return BF_CT_INVALID;
	switch (pkt->proto) {
	case 6:
	case 17:
		return interp_ct_nolookup(pkt);
	case 58:
		return interp6_ct_icmp6(pkt);
	case 59:
		return BF_CT_INVALID;
	default:
		return BF_CT_NEW;
	}
}

static int interp_run(const struct bf_ir *ir, int hook, const uint8_t *l3,
		      size_t len, const char *iif, const char *oif,
		      struct xt_counters *counters, struct interp_pkt *l2,
		      const struct bf_interp_env *env)
{
	struct interp_pkt pkt = *l2;
	struct interp in = { .ir = ir, .pkt = &pkt, .counters = counters,
			     .env = env };
	const struct bf_chain *chain;
	bool returned;
	int c, ret;

	if (!ir || !l3 || hook < 0 || hook >= BF_NR_HOOKS)
		return -EINVAL;
	in.v6 = ir->family == AF_INET6;
	if (in.v6) {
		if (interp6_parse(l3, len, hook, &pkt))
			return BF_INTERP_UNFILTERED;
		if (!pkt.ctstate)
			pkt.ctstate = interp6_ct_nolookup(&pkt);
		/* ip6_forward(): hop limit <= 1 never reaches FORWARD */
		if (hook == NF_INET_FORWARD && pkt.ttl <= 1)
			return BF_INTERP_UNFILTERED;
		if (hook == NF_INET_FORWARD)
			pkt.ttl--;
	} else {
		if (interp_parse(l3, len, &pkt))
			return BF_INTERP_UNFILTERED;
		if (!pkt.ctstate)
			pkt.ctstate = interp_ct_nolookup(&pkt);
		/* ip_forward() decrements the TTL before the FORWARD hook. */
		if (hook == NF_INET_FORWARD && pkt.ttl)
			pkt.ttl--;
	}
	strncpy(pkt.iif, iif ? iif : "", sizeof(pkt.iif));
	strncpy(pkt.oif, oif ? oif : "", sizeof(pkt.oif));
	c = ir->hook_chain[hook];
	if (c < 0)
		return BF_V_ACCEPT;
	ret = interp_chain(&in, c, &returned);
	if (ret < 0)
		return ret;
	if (ret == ANSWER_ACCEPT)
		return BF_V_ACCEPT;
	if (ret == ANSWER_DROP)
		return BF_V_DROP;
	chain = &ir->chains[c];
	interp_count(&in, chain->end_index);
	return chain->end == BF_V_DROP ? BF_V_DROP : BF_V_ACCEPT;
}

int bf_interp_run(const struct bf_ir *ir, int hook, const uint8_t *l3,
		  size_t len, const char *iif, const char *oif,
		  struct xt_counters *counters)
{
	struct interp_pkt l2 = {};

	return interp_run(ir, hook, l3, len, iif, oif, counters, &l2, NULL);
}

int bf_interp_run_ct(const struct bf_ir *ir, int hook, const uint8_t *l3,
		     size_t len, const char *iif, const char *oif,
		     uint32_t ctstate, struct xt_counters *counters)
{
	struct interp_pkt l2 = { .ctstate = ctstate };

	return interp_run(ir, hook, l3, len, iif, oif, counters, &l2, NULL);
}

/* eth_type_trans()'s pkt_type, for a frame to this host */
static uint8_t interp_pkttype(const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!(dst[0] & 1))
		return 0;	/* PACKET_HOST */
	return memcmp(dst, bcast, 6) ? 2 : 1;
}

int bf_interp_run_frame(const struct bf_ir *ir, int hook, const uint8_t *frame,
			size_t len, const char *iif, const char *oif,
			struct xt_counters *counters)
{
	return bf_interp_run_env(ir, hook, frame, len, iif, oif, NULL, counters);
}

int bf_interp_run_env(const struct bf_ir *ir, int hook, const uint8_t *frame,
		      size_t len, const char *iif, const char *oif,
		      const struct bf_interp_env *env,
		      struct xt_counters *counters)
{
	struct interp_pkt l2 = {};

	if (!frame || len < 14)
		return -EINVAL;
	if (ir && ir->family == AF_INET6) {
		if (frame[12] != 0x86 || frame[13] != 0xdd)
			return BF_INTERP_UNFILTERED;	/* not IPv6 */
	} else if (frame[12] != 0x08 || frame[13] != 0x00) {
		return BF_INTERP_UNFILTERED;	/* not IPv4: bpfilter passes it */
	}
	l2.pkttype = interp_pkttype(frame);
	memcpy(l2.smac, frame + 6, 6);
	if (env && env->sz < sizeof(*env))
		return -EINVAL;
	return interp_run(ir, hook, frame + 14, len - 14, iif, oif, counters,
			  &l2, env);
}
