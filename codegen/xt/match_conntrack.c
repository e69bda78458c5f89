// SPDX-License-Identifier: GPL-2.0
/*
 * -m conntrack --ctstate (xt_conntrack revisions 1, 2 and 3; iptables
 * 1.8.9 writes revision 3, also for -m state, which it marks with
 * XT_CONNTRACK_STATE_ALIAS). Only the state is translated: NEW,
 * ESTABLISHED, RELATED, INVALID, UNTRACKED, SNAT and DNAT (the entry's
 * IPS_SRC_NAT / IPS_DST_NAT, gen_ct.c), with `!`. Every other option
 * (--ctproto, --ctorigsrc ..., --ctstatus, --ctexpire, --ctdir) is
 * refused with -EOPNOTSUPP and a message; so are
 * bytes iptables never writes (non-zero fields that no flag enables),
 * which the kernel would ignore but a byte-exact round trip could not
 * carry. The kernel's checkentry only takes a conntrack reference
 * (nf_ct_netns_get()): there is nothing to validate beyond sizes.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/netfilter/xt_conntrack.h>

#include "xt4.h"

/* match_flags bpfilter translates */
#define CT_FLAGS_OK	(XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS)

/* Where revision `rev` keeps its flags and state mask (1: u8 masks). */
struct ct_layout {
	size_t flags_off;	/* match_flags, then invert_flags (u16 each) */
	size_t state_off;
	size_t state_size;	/* 1 or 2 */
	size_t size;
};

static const struct ct_layout ct_layouts[4] = {
	[1] = { offsetof(struct xt_conntrack_mtinfo1, match_flags),
		offsetof(struct xt_conntrack_mtinfo1, state_mask), 1,
		sizeof(struct xt_conntrack_mtinfo1) },
	[2] = { offsetof(struct xt_conntrack_mtinfo2, match_flags),
		offsetof(struct xt_conntrack_mtinfo2, state_mask), 2,
		sizeof(struct xt_conntrack_mtinfo2) },
	[3] = { offsetof(struct xt_conntrack_mtinfo3, match_flags),
		offsetof(struct xt_conntrack_mtinfo3, state_mask), 2,
		sizeof(struct xt_conntrack_mtinfo3) },
};

/* Is every byte outside flags, invert flags and state mask zero? */
static bool ct_rest_zero(const struct ct_layout *l, const uint8_t *d)
{
	size_t i;

	for (i = 0; i < l->size; i++) {
		if (i >= l->flags_off && i < l->flags_off + 4)
			continue;
		if (i >= l->state_off && i < l->state_off + l->state_size)
			continue;
		if (d[i])
			return false;
	}
	return true;
}

static int ct_to_ir(struct xt4_rb *rb, const void *data, unsigned int rev)
{
	const struct ct_layout *l = &ct_layouts[rev];
	const uint8_t *d = data;
	uint16_t flags = xt4_rd16(d + l->flags_off);
	uint16_t inv = xt4_rd16(d + l->flags_off + 2);
	uint32_t state = l->state_size == 1 ? d[l->state_off] :
			 xt4_rd16(d + l->state_off);
	struct bf_pred *p;

	if (!(flags & XT_CONNTRACK_STATE) || (flags & ~CT_FLAGS_OK)) {
		rb->why = "match 'conntrack': only --ctstate is supported "
			  "(--ctproto, --ctorigsrc/dst, --ctreplsrc/dst, ports, "
			  "--ctstatus, --ctexpire and --ctdir are not)";
		return -EOPNOTSUPP;
	}
	if (inv & ~XT_CONNTRACK_STATE) {
		rb->why = "match 'conntrack': inversion of an option other than --ctstate is not supported";
		return -EOPNOTSUPP;
	}
	if (!ct_rest_zero(l, d)) {
		rb->why = "match 'conntrack': data in fields no flag enables is not supported";
		return -EOPNOTSUPP;
	}
	p = xt4_rb_add(rb, BF_F_CTSTATE);
	if (!p)
		return -ENOMEM;
	p->value = state;
	p->inv = inv & XT_CONNTRACK_STATE;
	p->flags = rev << 16 | flags;
	return 0;
}

static int ct_from_ir(const struct bf_pred *preds, uint32_t n, void *data,
		      unsigned int rev)
{
	const struct ct_layout *l = &ct_layouts[rev];
	uint8_t *d = data;
	uint16_t flags, inv;

	if (n != 1 || preds[0].field != BF_F_CTSTATE ||
	    preds[0].flags >> 16 != rev)
		return -EINVAL;
	if (preds[0].value > (l->state_size == 1 ? 0xffu : 0xffffu))
		return -EINVAL;
	flags = preds[0].flags & 0xffff;
	inv = preds[0].inv ? XT_CONNTRACK_STATE : 0;
	memset(d, 0, l->size);
	memcpy(d + l->flags_off, &flags, 2);
	memcpy(d + l->flags_off + 2, &inv, 2);
	if (l->state_size == 1) {
		d[l->state_off] = (uint8_t)preds[0].value;
	} else {
		uint16_t st = (uint16_t)preds[0].value;

		memcpy(d + l->state_off, &st, 2);
	}
	return 0;
}

#define CT_REV(n)							\
static int ct_to_ir##n(struct xt4_rb *rb, const void *data)		\
{									\
	return ct_to_ir(rb, data, n);					\
}									\
static bool ct_claims##n(const struct bf_pred *pred)			\
{									\
	return pred->field == BF_F_CTSTATE && pred->flags >> 16 == n;	\
}									\
static int ct_from_ir##n(const struct bf_pred *preds, uint32_t cnt,	\
			 void *data)					\
{									\
	return ct_from_ir(preds, cnt, data, n);				\
}									\
const struct xt4_match_ops xt4_match_conntrack##n = {			\
	.name = "conntrack",						\
	.revision = n,							\
	.data_size = sizeof(struct xt_conntrack_mtinfo##n),		\
	.unspec = true,							\
	.families = XT4_FAM_V4 | XT4_FAM_V6,				\
	.to_ir = ct_to_ir##n,						\
	.claims = ct_claims##n,						\
	.from_ir = ct_from_ir##n,					\
}

CT_REV(1);
CT_REV(2);
CT_REV(3);
