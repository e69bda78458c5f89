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
	uint8_t proto;
	uint8_t ttl;
	uint8_t pkttype;	/* PACKET_HOST, _BROADCAST, _MULTICAST */
	uint8_t smac[6];
	uint16_t fragoff;	/* in 8-byte units */
	const uint8_t *l4;
	uint32_t l4len;		/* L4 bytes inside the datagram */
	uint32_t len;		/* tot_len, what counters count */
	char iif[16];
	char oif[16];
};

struct interp {
	const struct bf_ir *ir;
	const struct interp_pkt *pkt;
	struct xt_counters *counters;
	unsigned int depth;
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
		return interp_in_range(pkt->len, p);
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

static int interp_run(const struct bf_ir *ir, int hook, const uint8_t *l3,
		      size_t len, const char *iif, const char *oif,
		      struct xt_counters *counters, struct interp_pkt *l2)
{
	struct interp_pkt pkt = *l2;
	struct interp in = { .ir = ir, .pkt = &pkt, .counters = counters };
	const struct bf_chain *chain;
	bool returned;
	int c, ret;

	if (!ir || !l3 || hook < 0 || hook >= BF_NR_HOOKS)
		return -EINVAL;
	if (interp_parse(l3, len, &pkt))
		return BF_INTERP_UNFILTERED;
	/* ip_forward() decrements the TTL before the FORWARD hook. */
	if (hook == NF_INET_FORWARD && pkt.ttl)
		pkt.ttl--;
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

	return interp_run(ir, hook, l3, len, iif, oif, counters, &l2);
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
	struct interp_pkt l2 = {};

	if (!frame || len < 14)
		return -EINVAL;
	if (frame[12] != 0x08 || frame[13] != 0x00)
		return BF_INTERP_UNFILTERED;	/* not IPv4: bpfilter passes it */
	l2.pkttype = interp_pkttype(frame);
	memcpy(l2.smac, frame + 6, 6);
	return interp_run(ir, hook, frame + 14, len - 14, iif, oif, counters, &l2);
}
