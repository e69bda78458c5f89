// SPDX-License-Identifier: GPL-2.0
/*
 * The targets bpfilter translates besides the standard and ERROR targets:
 * one file and one ops table each, registered here. Everything else is
 * refused with -ENOENT, as before.
 *
 * The kernel checks a target in find_check_entry() after the matches:
 * xt_check_target() (size, hooks that reach the entry) then checkentry;
 * both answer -EINVAL. LOG serves both families with the same data;
 * REJECT has one ops table per family (ipt_REJECT / ip6t_REJECT). LOG
 * and REJECT are registered per family in the kernel, so an
 * unknown revision is -ENOENT in SET_REPLACE (measured on 6.18 by the
 * xt_kernel unit suite) and -EPROTONOSUPPORT in the revision probe.
 */
#include <errno.h>
#include <string.h>

#include "xt4.h"

static const struct xt4_target_ops *const xt4_targets[] = {
	&xt4_target_log,
	&xt4_target_reject,
	&xt6_target_reject,
};

#define XT4_N_TARGETS (sizeof(xt4_targets) / sizeof(xt4_targets[0]))

static bool xt4_target_serves(const struct xt4_target_ops *ops, uint8_t fam)
{
	return ((ops->families ? ops->families : XT4_FAM_V4) & fam) != 0;
}

int xt4_target_find_fam(uint8_t fam, const char *name, uint8_t revision,
			bool probe, const struct xt4_target_ops **opsp)
{
	bool named = false;
	size_t i;

	for (i = 0; i < XT4_N_TARGETS; i++) {
		if (!xt4_target_serves(xt4_targets[i], fam) || strcmp(xt4_targets[i]->name, name))
			continue;
		named = true;
		if (xt4_targets[i]->revision == revision) {
			*opsp = xt4_targets[i];
			return 0;
		}
	}
	if (named && probe)
		return -EPROTONOSUPPORT;
	return -ENOENT;
}

int xt4_target_find(const char *name, uint8_t revision, bool probe,
		    const struct xt4_target_ops **opsp)
{
	return xt4_target_find_fam(XT4_FAM_V4, name, revision, probe, opsp);
}

int xt4_target_revision_fam(uint8_t fam, const char *name, uint8_t revision)
{
	const struct xt4_target_ops *ops;

	return xt4_target_find_fam(fam, name, revision, true, &ops);
}

int xt4_target_revision(const char *name, uint8_t revision)
{
	return xt4_target_revision_fam(XT4_FAM_V4, name, revision);
}

const struct xt4_target_ops *xt4_target_of_fam(uint8_t fam, enum bf_verdict v)
{
	size_t i;

	for (i = 0; i < XT4_N_TARGETS; i++)
		if (xt4_target_serves(xt4_targets[i], fam) && xt4_targets[i]->verdict == v)
			return xt4_targets[i];
	return NULL;
}

const struct xt4_target_ops *xt4_target_of(enum bf_verdict v)
{
	return xt4_target_of_fam(XT4_FAM_V4, v);
}

int xt4_target_check(const struct xt4_blob *b, uint32_t i, struct bf_err *err)
{
	const struct xt4_fam *f = b->fam ? b->fam : &xt4_fam_ipv4;
	uint8_t *e = xt4_entry(b, i);
	const uint8_t *t = xt4_target(f, e);
	const char *name = xt4_ext_name(t);
	const struct xt4_target_ops *ops;
	uint32_t reach;
	int ret;

	ret = xt4_target_find_fam(f->bit, name, xt4_ext_rev(t), false, &ops);
	if (ret && xt4_target_revision_fam(f->bit, name, xt4_ext_rev(t)) == -ENOENT)
		return bf_err_set(err, ret, "%s: target '%s' is not supported",
				  xt4_where(b, i), name);
	if (ret)
		return bf_err_set(err, ret, "%s: target '%s' revision %u is not supported",
				  xt4_where(b, i), name, xt4_ext_rev(t));
	if (xt4_ext_size(t) != XT4_HDR_SZ + XT_ALIGN(ops->data_size))
		return bf_err_set(err, -EINVAL, "%s: target '%s' size %u, expected %u",
				  xt4_where(b, i), name, xt4_ext_size(t),
				  (unsigned int)(XT4_HDR_SZ + XT_ALIGN(ops->data_size)));
	reach = *xt4_comefrom(f, e) & ((1U << NF_INET_NUMHOOKS) - 1);
	if (ops->hooks && (reach & ~ops->hooks))
		return bf_err_set(err, -EINVAL, "%s: target '%s' cannot run in a chain reached from hook mask 0x%x",
				  xt4_where(b, i), name, reach);
	ret = ops->check ? ops->check((const struct ipt_entry *)e, t + XT4_HDR_SZ) : 0;
	if (ret)
		return bf_err_set(err, ret, "%s: target '%s': options refused by its checkentry",
				  xt4_where(b, i), name);
	return 0;
}

int xt4_target_to_ir(const struct xt4_blob *b, uint32_t i, struct bf_rule *r,
		     struct bf_err *err)
{
	const struct xt4_fam *f = b->fam ? b->fam : &xt4_fam_ipv4;
	const uint8_t *t = xt4_target(f, xt4_entry(b, i));
	const struct xt4_target_ops *ops;
	const char *why = NULL;
	int ret;

	ret = xt4_target_find_fam(f->bit, xt4_ext_name(t), xt4_ext_rev(t), false, &ops);
	if (ret)
		return bf_err_set(err, ret, "%s: target '%s' is not supported",
				  xt4_where(b, i), xt4_ext_name(t));
	r->verdict = ops->verdict;
	ret = ops->to_ir(r, t + XT4_HDR_SZ, &why);
	if (ret)
		return bf_err_set(err, ret, "%s: target '%s': %s", xt4_where(b, i),
				  ops->name, why ? why : "cannot be translated");
	return 0;
}
