// SPDX-License-Identifier: GPL-2.0
/* IR helpers: freeing, the one-line text form of a rule, device patterns. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter/ir.h"

void bf_ir_free(struct bf_ir *ir)
{
	uint32_t c, r, p;

	if (!ir)
		return;
	for (c = 0; ir->chains && c < ir->n_chains; c++) {
		struct bf_chain *ch = &ir->chains[c];

		for (r = 0; r < ch->n_rules && ch->rules; r++) {
			for (p = 0; p < ch->rules[r].n_preds; p++)
				free(ch->rules[r].preds[p].text);
			free(ch->rules[r].preds);
		}
		free(ch->rules);
	}
	free(ir->chains);
	free(ir->ifpats);
	free(ir);
}

bool bf_ifpat_match(const struct bf_ifpat *pat, const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(pat->name); i++) {
		if (((uint8_t)name[i] ^ (uint8_t)pat->name[i]) & pat->mask[i])
			return false;
	}
	return true;
}

/* snprintf into buf at *pos, counting what would have been written. */
struct ir_str {
	char *buf;
	size_t len;
	size_t pos;
};

__attribute__((format(printf, 2, 3)))
static void ir_put(struct ir_str *s, const char *fmt, ...)
{
	size_t room = s->pos < s->len ? s->len - s->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? s->buf + s->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->pos += n;
}

static void ir_put_addr(struct ir_str *s, const char *what,
			const struct bf_pred *p)
{
	char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
	struct in_addr v = { .s_addr = p->value }, k = { .s_addr = p->mask };

	inet_ntop(AF_INET, &v, a, sizeof(a));
	inet_ntop(AF_INET, &k, m, sizeof(m));
	ir_put(s, " %s%s %s/%s", p->inv ? "!" : "", what, a, m);
}

static void ir_put_addr6(struct ir_str *s, const char *what, const char *sep,
			 const struct bf_pred *p)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, p->a6, a, sizeof(a));
	inet_ntop(AF_INET6, p->b6, b, sizeof(b));
	ir_put(s, " %s%s %s%s%s", p->inv ? "!" : "", what, a, sep, b);
}

/* The name as iptables would write it; "/mask" when the mask is unusual. */
/* -m rt: " rt segsleft 0-4294967295 type 0 len 24 res0" (BF_F_RT) */
static void ir_put_rt(struct ir_str *s, const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = p->flags >> 8;

	ir_put(s, " rt segsleft %s%u-%u", inv & 0x02 ? "!" : "", p->lo, p->hi);
	if (f & 0x01)
		ir_put(s, " type %s%u", inv & 0x01 ? "!" : "", p->value);
	if (f & 0x04)
		ir_put(s, " len %s%u", inv & 0x04 ? "!" : "", p->mask);
	if (f & 0x08)
		ir_put(s, " res0");
	if (f & ~0x0fU)
		ir_put(s, " flags 0x%x", f);
}

/* -m frag: " frag id !1-9 len 8 res first more last" (BF_F_FRAG6) */
static void ir_put_frag6(struct ir_str *s, const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff;

	ir_put(s, " frag id %s%u-%u", inv & 0x01 ? "!" : "", p->lo, p->hi);
	if (f & 0x02)
		ir_put(s, " len %s%u", inv & 0x02 ? "!" : "", p->mask);
	if (f & 0x04)
		ir_put(s, " res");
	if (f & 0x08)
		ir_put(s, " first");
	if (f & 0x10)
		ir_put(s, " more");
	if (f & 0x20)
		ir_put(s, " last");
	if (f & ~0x3fU)
		ir_put(s, " flags 0x%x", f);
}

/* -m hbh / -m dst: " hbh len !8 opts 1:any,0" (BF_F_OPTS6) */
static void ir_put_opts6(struct ir_str *s, const struct bf_pred *p)
{
	uint32_t f = p->flags & 0xff, inv = (p->flags >> 8) & 0xff, k;

	ir_put(s, " %s", p->value == 0 ? "hbh" : "dst");
	if (f & 0x01)
		ir_put(s, " len %s%u", inv & 0x01 ? "!" : "", p->mask);
	if (f & 0x02) {
		ir_put(s, " opts");
		for (k = 0; k < p->hi && k < 16; k++) {
			uint16_t o;

			memcpy(&o, k < 8 ? p->a6 + 2 * k : p->b6 + 2 * (k - 8), 2);
			if ((o & 0xff) == 0xff)
				ir_put(s, "%s%u:any", k ? "," : " ", o >> 8);
			else
				ir_put(s, "%s%u:%u", k ? "," : " ", o >> 8, o & 0xff);
		}
	}
	if (f & ~0x03U)
		ir_put(s, " flags 0x%x", f);
}

static void ir_put_ifpat(struct ir_str *s, const struct bf_ifpat *pat)
{
	size_t n = strnlen(pat->name, sizeof(pat->name)), want, i;
	bool plain = true;

	want = (n && pat->name[n - 1] == '+') ? n - 1 : n + 1;
	for (i = 0; i < sizeof(pat->mask); i++)
		plain &= pat->mask[i] == (i < want ? 0xff : 0);
	ir_put(s, "%.*s", (int)n, pat->name);
	if (plain)
		return;
	ir_put(s, "/");
	for (i = 0; i < sizeof(pat->mask); i++)
		ir_put(s, "%02x", pat->mask[i]);
}

static const char *ir_proto_name(uint32_t proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	}
	return NULL;
}

/* "ctstate NEW,ESTABLISHED"; bits no packet has print as a number. */
static void ir_put_ctstate(struct ir_str *s, const char *inv, uint32_t v)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ BF_CT_INVALID, "INVALID" }, { BF_CT_NEW, "NEW" },
		{ BF_CT_RELATED, "RELATED" }, { BF_CT_ESTABLISHED, "ESTABLISHED" },
		{ BF_CT_UNTRACKED, "UNTRACKED" },
	};
	const char *sep = " ";
	size_t i;

	ir_put(s, " %sctstate", inv);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (v & names[i].bit) {
			ir_put(s, "%s%s", sep, names[i].name);
			sep = ",";
			v &= ~names[i].bit;
		}
	}
	if (v || *sep == ' ')
		ir_put(s, "%s0x%x", sep, v);
}

static void ir_put_pred(struct ir_str *s, const struct bf_ir *ir,
			const struct bf_pred *p)
{
	const char *inv = p->inv ? "!" : "";

	switch (p->field) {
	case BF_F_SADDR4:
		ir_put_addr(s, "saddr", p);
		return;
	case BF_F_DADDR4:
		ir_put_addr(s, "daddr", p);
		return;
	case BF_F_IIF:
	case BF_F_OIF:
		ir_put(s, " %s%s ", inv, p->field == BF_F_IIF ? "iif" : "oif");
		if (ir && p->value < ir->n_ifpats)
			ir_put_ifpat(s, &ir->ifpats[p->value]);
		else
			ir_put(s, "#%u", p->value);
		return;
	case BF_F_PROTO:
		ir_put(s, " %sproto %u", inv, p->value);
		return;
	case BF_F_FRAG:
		ir_put(s, " %sfrag", inv);
		return;
	case BF_F_L4HDR:
		if (ir_proto_name(p->value))
			ir_put(s, " l4(%s,%u)", ir_proto_name(p->value), p->lo);
		else
			ir_put(s, " l4(%u,%u)", p->value, p->lo);
		return;
	case BF_F_SPORT:
	case BF_F_DPORT:
		ir_put(s, " %s%s %u-%u", inv, p->field == BF_F_SPORT ? "sport" : "dport",
		       p->lo, p->hi);
		return;
	case BF_F_TCPFLAGS:
		ir_put(s, " %stcpflags 0x%02x/0x%02x", inv, p->value, p->mask);
		return;
	case BF_F_TCPOPT:
		ir_put(s, " %stcpopt %u", inv, p->value);
		return;
	case BF_F_ICMP:
		if (p->value == 0xff)
			ir_put(s, " %sicmp any", inv);
		else
			ir_put(s, " %sicmp type %u code %u-%u", inv, p->value, p->lo, p->hi);
		return;
	case BF_F_COMMENT:
		ir_put(s, " comment \"%s\"", p->text ? p->text : "");
		return;
	case BF_F_LENGTH:
		ir_put(s, " %slength %u-%u", inv, p->lo, p->hi);
		return;
	case BF_F_TTL:
		ir_put(s, " %sttl %s %u", inv,
		       p->flags < 4 ? (const char *[]){ "==", "!=", "<", ">" }[p->flags] : "?",
		       p->value);
		return;
	case BF_F_IPRANGE:
		ir_put(s, " iprange(0x%02x)", p->flags);
		return;
	case BF_F_SRANGE4:
	case BF_F_DRANGE4:
		ir_put(s, " %s%s %u.%u.%u.%u-%u.%u.%u.%u", inv,
		       p->field == BF_F_SRANGE4 ? "srange" : "drange",
		       p->lo >> 24, (p->lo >> 16) & 0xff, (p->lo >> 8) & 0xff, p->lo & 0xff,
		       p->hi >> 24, (p->hi >> 16) & 0xff, (p->hi >> 8) & 0xff, p->hi & 0xff);
		return;
	case BF_F_MPORT:
		ir_put(s, " %smultiport(%s,%u)", inv,
		       p->value < 3 ? (const char *[]){ "src", "dst", "either" }[p->value] : "?",
		       p->lo);
		return;
	case BF_F_PKTTYPE:
		ir_put(s, " %spkttype %u", inv, p->value);
		return;
	case BF_F_SMAC:
		ir_put(s, " %ssmac %02x:%02x:%02x:%02x:%02x:%02x", inv,
		       p->value >> 24, (p->value >> 16) & 0xff, (p->value >> 8) & 0xff,
		       p->value & 0xff, (p->lo >> 8) & 0xff, p->lo & 0xff);
		return;
	case BF_F_SADDR6:
	case BF_F_DADDR6:
		ir_put_addr6(s, p->field == BF_F_SADDR6 ? "saddr6" : "daddr6", "/", p);
		return;
	case BF_F_SRANGE6:
	case BF_F_DRANGE6:
		ir_put_addr6(s, p->field == BF_F_SRANGE6 ? "srange6" : "drange6", "-", p);
		return;
	case BF_F_PROTO6:
		ir_put(s, " %sproto6 %u", inv, p->value);
		return;
	case BF_F_ICMP6:
		ir_put(s, " %sicmp6 type %u code %u-%u", inv, p->value, p->lo, p->hi);
		return;
	case BF_F_MARK:
		ir_put(s, " %smark 0x%x/0x%x", inv, p->value, p->mask);
		return;
	case BF_F_ADDRTYPE:
		ir_put(s, " %saddrtype src%s 0x%x dst%s 0x%x%s", inv,
		       p->flags & 1 ? " !" : "", p->lo, p->flags & 2 ? " !" : "",
		       p->hi, p->flags & 4 ? " iface-in" :
		       p->flags & 8 ? " iface-out" : "");
		return;
	case BF_F_LIMIT:
		ir_put(s, " %slimit avg %u burst %u (cost %u cap %u)", inv,
		       p->value, p->lo, p->hi, p->mask);
		return;
	case BF_F_RT:
		ir_put_rt(s, p);
		return;
	case BF_F_FRAG6:
		ir_put_frag6(s, p);
		return;
	case BF_F_ADDRTYPE6:
		ir_put(s, " %saddrtype6 src%s 0x%x dst%s 0x%x%s", inv,
		       p->flags & 1 ? " !" : "", p->lo, p->flags & 2 ? " !" : "",
		       p->hi, p->flags & 4 ? " iface-in" :
		       p->flags & 8 ? " iface-out" : "");
		return;
	case BF_F_OPTS6:
		ir_put_opts6(s, p);
		return;
	case BF_F_CTSTATE:
		ir_put_ctstate(s, inv, p->value);
		return;
	case BF_F_MPORT_ITEM:
		if (p->flags & BF_MPORT_RANGE)
			ir_put(s, " %u:%u", p->lo, p->hi);
		else
			ir_put(s, " %u", p->lo);
		return;
	}
	ir_put(s, " ?field%d", (int)p->field);
}

/* --reject-with names, by enum ipt_reject_with value */
static const char *const ir_reject_names[] = {
	"icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
	"icmp-port-unreachable", "echo-reply", "icmp-net-prohibited",
	"icmp-host-prohibited", "tcp-reset", "icmp-admin-prohibited",
};

/* ... by enum ip6t_reject_with value (AF_INET6 IR) */
static const char *const ir_reject6_names[] = {
	"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-not-neighbour",
	"icmp6-addr-unreachable", "icmp6-port-unreachable", "echo-reply",
	"tcp-reset", "icmp6-policy-fail", "icmp6-reject-route",
};

/* " -> LOG level 4 flags 0x0 prefix \"x\"" and " -> REJECT tcp-reset" */
static void ir_put_target(struct ir_str *s, const struct bf_ir *ir, const struct bf_rule *r)
{
	const char *p = r->log.prefix;
	size_t i;

	if (r->verdict == BF_V_REJECT && ir->family == AF_INET6) {
		if (r->reject_with < sizeof(ir_reject6_names) / sizeof(ir_reject6_names[0]))
			ir_put(s, " -> REJECT %s", ir_reject6_names[r->reject_with]);
		else
			ir_put(s, " -> REJECT ?%u", r->reject_with);
		return;
	}
	if (r->verdict == BF_V_REJECT) {
		if (r->reject_with < sizeof(ir_reject_names) / sizeof(ir_reject_names[0]))
			ir_put(s, " -> REJECT %s", ir_reject_names[r->reject_with]);
		else
			ir_put(s, " -> REJECT ?%u", r->reject_with);
		return;
	}
	ir_put(s, " -> LOG level %u flags 0x%x prefix \"", r->log.level, r->log.flags);
	for (i = 0; i < sizeof(r->log.prefix) && p[i]; i++) {
		unsigned char c = p[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			ir_put(s, "\\x%02x", c);
		else
			ir_put(s, "%c", c);
	}
	ir_put(s, "\"");
}

static void ir_put_verdict(struct ir_str *s, const struct bf_ir *ir,
			   const struct bf_rule *r)
{
	static const char *const names[] = {
		[BF_V_NEXT] = "NEXT", [BF_V_ACCEPT] = "ACCEPT",
		[BF_V_DROP] = "DROP", [BF_V_RETURN] = "RETURN",
		[BF_V_JUMP] = "JUMP", [BF_V_GOTO] = "GOTO",
	};

	if (r->verdict == BF_V_LOG || r->verdict == BF_V_REJECT) {
		ir_put_target(s, ir, r);
		return;
	}
	if ((unsigned int)r->verdict > BF_V_GOTO) {
		ir_put(s, " -> ?verdict%d", (int)r->verdict);
		return;
	}
	ir_put(s, " -> %s", names[r->verdict]);
	if (r->verdict != BF_V_JUMP && r->verdict != BF_V_GOTO)
		return;
	if (ir && r->target < ir->n_chains)
		ir_put(s, " %s", ir->chains[r->target].name);
	else
		ir_put(s, " #%u", r->target);
}

int bf_ir_rule_str(const struct bf_ir *ir, const struct bf_chain *chain,
		   const struct bf_rule *rule, char *buf, size_t len)
{
	struct ir_str s = { .buf = buf, .len = len };
	uint32_t i;

	if (buf && len)
		buf[0] = '\0';
	ir_put(&s, "%s#%u [%u]", chain ? chain->name : "?", rule->num, rule->index);
	for (i = 0; i < rule->n_preds; i++)
		ir_put_pred(&s, ir, &rule->preds[i]);
	ir_put_verdict(&s, ir, rule);
	return (int)s.pos;
}

int32_t bf_ir_pred_ordinal(const struct bf_ir *ir, const struct bf_pred *pred)
{
	uint32_t c, r, k;
	int32_t n = 0;

	for (c = 0; c < ir->n_chains; c++) {
		const struct bf_chain *ch = &ir->chains[c];

		for (r = 0; r < ch->n_rules; r++) {
			const struct bf_rule *ru = &ch->rules[r];

			for (k = 0; k < ru->n_preds; k++) {
				if (&ru->preds[k] == pred)
					return n;
				if (ru->preds[k].field == pred->field)
					n++;
			}
		}
	}
	return -1;
}

uint32_t bf_ir_count_field(const struct bf_ir *ir, enum bf_field field)
{
	uint32_t c, r, k, n = 0;

	for (c = 0; c < ir->n_chains; c++)
		for (r = 0; r < ir->chains[c].n_rules; r++)
			for (k = 0; k < ir->chains[c].rules[r].n_preds; k++)
				n += ir->chains[c].rules[r].preds[k].field == field;
	return n;
}
