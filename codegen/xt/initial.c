// SPDX-License-Identifier: GPL-2.0
/* The filter table ip_tables starts with, built through bf_xt4_from_ir(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xt4.h"

int bf_xt4_initial_filter(struct ipt_replace **replp, size_t *lenp)
{
	struct bf_chain chains[3] = { 0 };
	struct bf_ir ir = { 0 };
	struct ipt_replace *repl;
	uint32_t size, n, c;
	void *blob;
	int ret;

	if (!replp || !lenp)
		return -EINVAL;
	ir.family = AF_INET;
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
	ret = bf_xt4_from_ir(&ir, &blob, &size, &n, repl->hook_entry, repl->underflow);
	if (ret)
		goto out_free;
	/* num_counters = num_entries, so the result passes bf_xt4_translate(). */
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
