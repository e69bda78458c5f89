// SPDX-License-Identifier: GPL-2.0
/*
 * The filter table ip_tables / ip6_tables start with (three built-in
 * chains with policy ACCEPT and the ERROR terminator), built through
 * from_ir: 632 bytes of entries for IPv4, 936 for IPv6.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

static int xt4_initial(const struct xt4_fam *f, struct ipt_replace **replp,
		       size_t *lenp)
{
	struct bf_chain chains[3] = { 0 };
	struct bf_ir ir = { 0 };
	struct ipt_replace *repl;
	uint32_t size, n, c;
	void *blob;
	int ret;

	if (!replp || !lenp)
		return -EINVAL;
	ir.family = f->af;
	strcpy(ir.table, "filter");
	ir.valid_hooks = XT4_FILTER_HOOKS;
	ir.chains = chains;
	ir.n_chains = 3;
	for (c = 0; c < 3; c++) {
		chains[c].hook = NF_INET_LOCAL_IN + c;
		strcpy(chains[c].name, xt4_hook_name(chains[c].hook));
		chains[c].end = BF_V_ACCEPT;
		chains[c].end_index = c;
		chains[c].end_counts = true;
	}
	ir.n_entries = 4;
	repl = xt4_calloc(1, sizeof(*repl));
	if (!repl)
		return -ENOMEM;
	strcpy(repl->name, "filter");
	repl->valid_hooks = XT4_FILTER_HOOKS;
	ret = xt4_from_ir_fam(f, &ir, &blob, &size, &n, repl->hook_entry, repl->underflow);
	if (ret)
		goto out_free;
	/* num_counters = num_entries, so the result passes translation. */
	repl->num_entries = n;
	repl->num_counters = n;
	repl->size = size;
	ret = -ENOMEM;
	*replp = xt4_realloc(repl, sizeof(*repl) + size);
	if (!*replp)
		goto out_free_blob;
	repl = *replp;
	memcpy(repl->entries, blob, size);
	*lenp = sizeof(*repl) + size;
	free(blob);
	return 0;
out_free_blob:
	free(blob);
out_free:
	free(repl);
	return ret;
}

int bf_xt4_initial_filter(struct ipt_replace **replp, size_t *lenp)
{
	return xt4_initial(&xt4_fam_ipv4, replp, lenp);
}

/* struct ip6t_replace has ipt_replace's layout (ip6.c checks it). */
int bf_xt6_initial_filter(struct ip6t_replace **replp, size_t *lenp)
{
	return xt4_initial(&xt4_fam_ipv6, (struct ipt_replace **)replp, lenp);
}
