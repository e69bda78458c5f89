// SPDX-License-Identifier: GPL-2.0
/*
 * -m limit --limit R/unit --limit-burst B (xt_limit, revision 0, every
 * family). iptables writes avg (seconds between packets * 10000) and
 * burst; the kernel's checkentry refuses burst 0 and an avg * burst whose
 * credits (u32 arithmetic) fall below avg's with -ERANGE, then computes
 * the bucket in credits of 1/128 jiffy (HZ 250: CREDITS_PER_JIFFY 128):
 * credit = credit_cap = user2credits(avg * burst), cost = user2credits(avg),
 * unless the blob's own cost is not 0, in which case its credit_cap and
 * cost are kept (limit_mt_check()). GET_ENTRIES shows only avg and burst
 * (usersize): the rest is zeroed after translation.
 *
 * The bucket itself, and how BPF and the interpreter run it:
 * BF_F_LIMIT in include/bpfilter/ir.h and docs/design-notes.md.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/netfilter/xt_limit.h>

#include "xt4.h"

static int limit_check(const void *data)
{
	const struct xt_rateinfo *r = data;

	if (r->burst == 0 ||
	    bf_limit_user2credits(r->avg * r->burst) < bf_limit_user2credits(r->avg))
		return -ERANGE;
	return 0;
}

static int limit_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_rateinfo *r = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_LIMIT);
	if (!p)
		return -ENOMEM;
	p->value = r->avg;
	p->lo = r->burst;
	if (r->cost == 0) {
		p->mask = bf_limit_user2credits(r->avg * r->burst);
		p->hi = bf_limit_user2credits(r->avg);
	} else {
		p->mask = r->credit_cap;
		p->hi = r->cost;
	}
	return 0;
}

static bool limit_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_LIMIT;
}

static int limit_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_rateinfo *r = data;

	if (n != 1 || preds[0].inv)
		return -EINVAL;
	r->avg = preds[0].value;
	r->burst = preds[0].lo;
	/*
	 * A bucket the blob chose itself (its cost was not 0) is written
	 * back, or the next translation would compute another one
	 * (tests/fuzz/fuzz_xt's round trip). Computed buckets leave the
	 * fields zero, as GET_ENTRIES shows them.
	 */
	if (preds[0].mask != bf_limit_user2credits(r->avg * r->burst) ||
	    preds[0].hi != bf_limit_user2credits(r->avg)) {
		r->credit_cap = preds[0].mask;
		r->cost = preds[0].hi;
	}
	return 0;
}

const struct xt4_match_ops xt4_match_limit = {
	.name = "limit",
	.revision = 0,
	.data_size = sizeof(struct xt_rateinfo),
	.unspec = true,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.check = limit_check,
	.to_ir = limit_to_ir,
	.claims = limit_claims,
	.from_ir = limit_from_ir,
	.user_size = offsetof(struct xt_rateinfo, prev),
};
