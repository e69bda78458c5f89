// SPDX-License-Identifier: GPL-2.0
/*
 * bf_xt4_translate() / bf_xt6_translate(): validate as ip_tables or
 * ip6_tables does, then build the IR.
 */
#include <errno.h>
#include <string.h>

#include "xt4.h"

/*
 * The kernel reports hooks a table does not use as ~0U (GET_INFO); the
 * caller keeps this blob and answers GET_INFO from it.
 */
static void xt4_normalise_hooks(struct ipt_replace *repl)
{
	int h;

	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		if (repl->valid_hooks & (1U << h))
			continue;
		repl->hook_entry[h] = ~0U;
		repl->underflow[h] = ~0U;
	}
}

int xt4_validate(struct ipt_replace *repl, size_t len, struct xt4_blob *b,
		 struct bf_err *err)
{
	return xt4_validate_fam(&xt4_fam_ipv4, repl, len, b, err);
}

int xt4_validate_fam(const struct xt4_fam *f, struct ipt_replace *repl,
		     size_t len, struct xt4_blob *b, struct bf_err *err)
{
	int ret;

	if (!repl)
		return bf_err_set(err, -EINVAL, "replace: no buffer");
	ret = xt4_check_header(repl, len, err);
	if (ret)
		return ret;
	/* translate_table(): every check ip_tables makes, in its order. */
	ret = xt4_walk_fam(b, f, repl, err);
	if (!ret)
		ret = xt4_mark(b, err);
	if (!ret)
		ret = xt4_check_exts(b, err);
	if (ret)
		return ret;
	/* __do_replace() looks the table up only after translate_table(). */
	if (strcmp(repl->name, "filter"))
		return bf_err_set(err, -ENOENT, "table '%s' is not supported (only filter)",
				  repl->name);
	if (repl->valid_hooks != XT4_FILTER_HOOKS)
		return bf_err_set(err, -EINVAL, "table filter: valid_hooks 0x%x, expected 0x%x",
				  repl->valid_hooks, XT4_FILTER_HOOKS);
	return 0;
}

static int xt4_translate(const struct xt4_fam *f, struct ipt_replace *repl,
			 size_t len, struct bf_ir **irp, struct bf_err *err)
{
	struct xt4_blob b = { 0 };
	int ret;

	if (!irp)
		return bf_err_set(err, -EINVAL, "replace: nowhere to put the IR");
	ret = xt4_validate_fam(f, repl, len, &b, err);
	if (!ret)
		ret = xt4_to_ir(&b, irp, err);
	if (!ret)
		xt4_normalise_hooks(repl);
	xt4_blob_release(&b);
	return ret;
}

int bf_xt4_translate(struct ipt_replace *repl, size_t len,
		     struct bf_ir **irp, struct bf_err *err)
{
	return xt4_translate(&xt4_fam_ipv4, repl, len, irp, err);
}

/* struct ip6t_replace has ipt_replace's layout (ip6.c checks it). */
int bf_xt6_translate(struct ip6t_replace *repl, size_t len,
		     struct bf_ir **irp, struct bf_err *err)
{
	return xt4_translate(&xt4_fam_ipv6, (struct ipt_replace *)repl, len, irp, err);
}
