// SPDX-License-Identifier: GPL-2.0
/*
 * -j LOG (xt_LOG, revision 0, struct xt_log_info): --log-level,
 * --log-prefix and the --log-* flags. Non-terminal: the packet goes on
 * with the next rule (BF_V_LOG).
 *
 * checkentry (log_tg_check): level >= 8 or a prefix without its last
 * byte NUL is -EINVAL; flag bits are not checked (nf_log_syslog tests the
 * ones it knows and ignores the rest), so they are kept as they are.
 * --log-uid (XT_LOG_UID): the sending socket file's fsuid/fsgid, read by
 * the program at tc egress (OUTPUT; codegen/gen_target.c gen_log_cred).
 * --log-tcp-sequence, --log-tcp-options, --log-ip-options and
 * --log-macdecode are formatted by the helper from the headers the
 * program sends (umh/logfmt.c).
 */
#include <errno.h>
#include <string.h>
#include <linux/netfilter/xt_LOG.h>

#include "xt4.h"

static int log_check(const struct ipt_entry *e, const void *data)
{
	const struct xt_log_info *info = data;

	(void)e;
	if (info->level >= 8)
		return -EINVAL;
	if (info->prefix[sizeof(info->prefix) - 1] != '\0')
		return -EINVAL;
	return 0;
}

static int log_to_ir(struct bf_rule *r, const void *data, const char **why)
{
	const struct xt_log_info *info = data;

	(void)why;
	_Static_assert(sizeof(r->log.prefix) == sizeof(info->prefix), "prefix size");
	r->log.level = info->level;
	r->log.flags = info->logflags;
	memcpy(r->log.prefix, info->prefix, sizeof(r->log.prefix));
	return 0;
}

static int log_from_ir(const struct bf_rule *r, void *data)
{
	struct xt_log_info *info = data;

	if (r->log.level >= 8 || r->log.prefix[sizeof(r->log.prefix) - 1])
		return -EINVAL;
	info->level = r->log.level;
	info->logflags = r->log.flags;
	memcpy(info->prefix, r->log.prefix, sizeof(info->prefix));
	return 0;
}

const struct xt4_target_ops xt4_target_log = {
	.name = "LOG",
	.revision = 0,
	.data_size = sizeof(struct xt_log_info),
	.verdict = BF_V_LOG,
	.families = XT4_FAM_V4 | XT4_FAM_V6,	/* xt_log_info for both */
	.check = log_check,
	.to_ir = log_to_ir,
	.from_ir = log_from_ir,
};
