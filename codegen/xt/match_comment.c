// SPDX-License-Identifier: GPL-2.0
/* -m comment (revision 0): always true; the text is kept for dumps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/xt_comment.h>

#include "xt4.h"

static int comment_to_ir(struct xt4_rb *rb, const void *data)
{
	const struct xt_comment_info *info = data;
	struct bf_pred *p;

	p = xt4_rb_add(rb, BF_F_COMMENT);
	if (!p)
		return -ENOMEM;
	p->text = xt4_strndup(info->comment, sizeof(info->comment));
	return p->text ? 0 : -ENOMEM;
}

static bool comment_claims(const struct bf_pred *pred)
{
	return pred->field == BF_F_COMMENT;
}

static int comment_from_ir(const struct bf_pred *preds, uint32_t n, void *data)
{
	struct xt_comment_info *info = data;

	if (n != 1)
		return -EINVAL;
	/* Up to 256 bytes, NUL-padded; the kernel does not require a NUL. */
	if (preds[0].text)
		memcpy(info->comment, preds[0].text,
		       strnlen(preds[0].text, sizeof(info->comment)));
	return 0;
}

const struct xt4_match_ops xt4_match_comment = {
	.name = "comment",
	.revision = 0,
	.families = XT4_FAM_V4 | XT4_FAM_V6,
	.data_size = sizeof(struct xt_comment_info),
	.unspec = true,
	.to_ir = comment_to_ir,
	.claims = comment_claims,
	.from_ir = comment_from_ir,
};
