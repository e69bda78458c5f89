// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv4 family of the xt front-end: struct ipt_entry's layout and its
 * ipt_ip part (addresses, devices, protocol, fragments) to IR and back,
 * with ipt_do_table()'s semantics.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

static bool ip4_ok(const void *ip)
{
	const struct ipt_ip *i = ip;

	return !(i->flags & ~IPT_F_MASK) && !(i->invflags & ~IPT_INV_MASK);
}

static uint16_t ip4_proto(const void *ip, bool *inv)
{
	const struct ipt_ip *i = ip;

	*inv = i->invflags & IPT_INV_PROTO;
	return i->proto;
}

/*
 * Bits ipt_do_table() never looks at (IPT_INV_TOS, IPT_INV_PROTO without
 * a protocol, IPT_F_GOTO without a jump) become no predicate, so
 * bf_xt4_from_ir() cannot write them back; a RETURN carrying only those
 * must end its chain too, or a round trip turns the rule into the
 * chain's end (found by tests/fuzz/fuzz_xt).
 */
static void ip4_ir_clean(void *ip)
{
	struct ipt_ip *i = ip;

	i->invflags &= ~IPT_INV_TOS;
	if (!i->proto)
		i->invflags &= ~IPT_INV_PROTO;
	i->flags &= ~IPT_F_GOTO;
}

static bool ip4_is_goto(const void *ip)
{
	return ((const struct ipt_ip *)ip)->flags & IPT_F_GOTO;
}

static void ip4_set_goto(void *ip)
{
	((struct ipt_ip *)ip)->flags |= IPT_F_GOTO;
}

static int ip4_addr_to_ir(struct xt4_rb *rb, enum bf_field f, uint32_t addr,
			  uint32_t mask, bool inv)
{
	struct bf_pred *p;

	/* (addr & mask) == value, literally: value bits outside mask never match. */
	if (!mask && !addr && !inv)
		return 0;
	p = xt4_rb_add(rb, f);
	if (!p)
		return -ENOMEM;
	p->value = addr;
	p->mask = mask;
	p->inv = inv;
	return 0;
}

/*
 * The kernel's fragment test is NF_INVF(IPT_INV_FRAG, F_FRAG && !isfrag):
 * F_FRAG alone needs a non-first fragment, F_FRAG with INV_FRAG needs
 * anything else, and INV_FRAG alone never matches: FRAG && !FRAG.
 */
static int ip4_frag_to_ir(struct xt4_rb *rb, const struct ipt_ip *ip)
{
	bool f = ip->flags & IPT_F_FRAG, inv = ip->invflags & IPT_INV_FRAG;
	struct bf_pred *p;

	if (!f && !inv)
		return 0;
	p = xt4_rb_add(rb, BF_F_FRAG);
	if (!p)
		return -ENOMEM;
	p->inv = f && inv;
	if (f)
		return 0;
	p = xt4_rb_add(rb, BF_F_FRAG);
	if (!p)
		return -ENOMEM;
	p->inv = true;
	return 0;
}

static int ip4_to_ir(struct bf_ir *ir, struct xt4_rb *rb, const void *ipv)
{
	const struct ipt_ip *ip = ipv;
	uint8_t inv = ip->invflags;
	struct bf_pred *p;
	int ret;

	ret = ip4_addr_to_ir(rb, BF_F_SADDR4, ip->src.s_addr, ip->smsk.s_addr,
			     inv & IPT_INV_SRCIP);
	if (!ret)
		ret = ip4_addr_to_ir(rb, BF_F_DADDR4, ip->dst.s_addr, ip->dmsk.s_addr,
				     inv & IPT_INV_DSTIP);
	if (!ret)
		ret = xt4_iface_to_ir(ir, rb, BF_F_IIF, ip->iniface, ip->iniface_mask,
				      inv & IPT_INV_VIA_IN);
	if (!ret)
		ret = xt4_iface_to_ir(ir, rb, BF_F_OIF, ip->outiface, ip->outiface_mask,
				      inv & IPT_INV_VIA_OUT);
	if (ret)
		return ret;
	if (ip->proto) {
		p = xt4_rb_add(rb, BF_F_PROTO);
		if (!p)
			return -ENOMEM;
		p->value = ip->proto;
		p->inv = inv & IPT_INV_PROTO;
	}
	return ip4_frag_to_ir(rb, ip);
}

static int ip4_from_ir(const struct bf_ir *ir, const struct bf_rule *r, void *ipv)
{
	struct ipt_ip *ip = ipv;
	uint32_t i, nfrag = 0;
	int ret;

	for (i = 0; i < r->n_preds; i++) {
		const struct bf_pred *p = &r->preds[i];

		switch (p->field) {
		case BF_F_SADDR4:
			ip->src.s_addr = p->value;
			ip->smsk.s_addr = p->mask;
			ip->invflags |= p->inv ? IPT_INV_SRCIP : 0;
			break;
		case BF_F_DADDR4:
			ip->dst.s_addr = p->value;
			ip->dmsk.s_addr = p->mask;
			ip->invflags |= p->inv ? IPT_INV_DSTIP : 0;
			break;
		case BF_F_IIF:
			ret = xt4_iface_from_ir(ir, p, ip->iniface, ip->iniface_mask);
			if (ret)
				return ret;
			ip->invflags |= p->inv ? IPT_INV_VIA_IN : 0;
			break;
		case BF_F_OIF:
			ret = xt4_iface_from_ir(ir, p, ip->outiface, ip->outiface_mask);
			if (ret)
				return ret;
			ip->invflags |= p->inv ? IPT_INV_VIA_OUT : 0;
			break;
		case BF_F_PROTO:
			ip->proto = p->value;
			ip->invflags |= p->inv ? IPT_INV_PROTO : 0;
			break;
		case BF_F_FRAG:
			/* One FRAG: -f / ! -f; FRAG, !FRAG: INV_FRAG alone. */
			if (++nfrag == 1) {
				ip->flags |= IPT_F_FRAG;
				ip->invflags |= p->inv ? IPT_INV_FRAG : 0;
			} else {
				ip->flags &= ~IPT_F_FRAG;
				ip->invflags |= IPT_INV_FRAG;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

static bool ip4_field(enum bf_field f)
{
	return f <= BF_F_FRAG;
}

const struct xt4_fam xt4_fam_ipv4 = {
	.af = AF_INET,
	.bit = XT4_FAM_V4,
	.replace = "ipt_replace",
	.entry_sz = sizeof(struct ipt_entry),
	.ip_sz = sizeof(struct ipt_ip),
	.off_toff = offsetof(struct ipt_entry, target_offset),
	.off_noff = offsetof(struct ipt_entry, next_offset),
	.off_comefrom = offsetof(struct ipt_entry, comefrom),
	.off_counters = offsetof(struct ipt_entry, counters),
	.ip_ok = ip4_ok,
	.ip_proto = ip4_proto,
	.ip_ir_clean = ip4_ir_clean,
	.ip_is_goto = ip4_is_goto,
	.ip_set_goto = ip4_set_goto,
	.ip_to_ir = ip4_to_ir,
	.ip_from_ir = ip4_from_ir,
	.ip_field = ip4_field,
};
