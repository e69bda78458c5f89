// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter translate: what a rule file becomes, without root. The
 * unmodified iptables-legacy-restore (-6: ip6tables-legacy-restore) sends
 * the table to a helper in this process (BF_UMH_TRANSLATE: no bpf() at
 * all); then the filter table's IR, chain by chain with policies, and the
 * disassembly of each program.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpfilter/log.h"
#include "cli.h"

static void tr_usage(FILE *f)
{
	fprintf(f,
		"Usage: bpfilter translate [-6] [--hook xdp|tc] FILE\n\n"
		"Feeds FILE (iptables-save format, '-' for stdin) to the unmodified\n"
		"%s (-6: ip6tables-legacy-restore), translates the filter table it commits and prints\n"
		"one IR line per rule (chain by chain, policies included) and the BPF\n"
		"of each program with rule boundaries marked. Needs no root.\n"
		"If a rule is refused, prints the chain, rule number and reason, plus\n"
		"%s's own messages, and exits 1.\n\n"
		"  -6, --ipv6        an ip6tables-save file: the IPv6 filter table\n"
		"  -H, --hook HOOK   xdp (default; one program) or tc (ingress + egress)\n"
		"  -h, --help        this text\n",
		BF_CLI_RESTORE_NAME, BF_CLI_RESTORE_NAME);
}

static const char *tr_verdict(enum bf_verdict v)
{
	switch (v) {
	case BF_V_ACCEPT:
		return "ACCEPT";
	case BF_V_DROP:
		return "DROP";
	case BF_V_RETURN:
		return "RETURN";
	default:
		return "?";
	}
}

static void tr_rule(const struct bf_ir *ir, const struct bf_chain *c,
		    const struct bf_rule *rule)
{
	char buf[1024], *big;
	int n = bf_ir_rule_str(ir, c, rule, buf, sizeof(buf));

	if (n < (int)sizeof(buf)) {
		printf("%s\n", buf);
		return;
	}
	big = malloc((size_t)n + 1);
	if (!big) {
		printf("%s...\n", buf);
		return;
	}
	bf_ir_rule_str(ir, c, rule, big, (size_t)n + 1);
	printf("%s\n", big);
	free(big);
}

static void tr_chain(const struct bf_ir *ir, const struct bf_chain *c)
{
	uint32_t i;

	if (c->hook != BF_HOOK_NONE)
		printf("# chain %s (built-in, policy %s)\n", c->name, tr_verdict(c->end));
	else
		printf("# chain %s (user-defined)\n", c->name);
	for (i = 0; i < c->n_rules; i++)
		tr_rule(ir, c, &c->rules[i]);
	if (c->hook != BF_HOOK_NONE)
		printf("%s policy [%u] -> %s\n", c->name, c->end_index, tr_verdict(c->end));
	else if (c->end_counts)
		printf("%s end [%u] -> %s\n", c->name, c->end_index, tr_verdict(c->end));
	else
		printf("%s end (falls into the next chain's ERROR head) -> %s\n",
		       c->name, tr_verdict(c->end));
}

static void tr_ir(const struct bf_ir *ir)
{
	uint32_t i;

	printf("# table %s: %u chains, %u entries, %u interface patterns\n",
	       ir->table, ir->n_chains, ir->n_entries, ir->n_ifpats);
	for (i = 0; i < ir->n_chains; i++)
		tr_chain(ir, &ir->chains[i]);
}

static void tr_line(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
}

static void tr_prog(const struct bf_umh *umh, int family, enum bf_hook hook)
{
	const struct bf_prog *prog = bf_umh_prog(umh, family, hook);

	if (!prog)
		return;
	printf("\n# program %s: %u instructions, %u functions\n",
	       bf_cli_hook_name(hook), prog->n_insns, prog->n_funcs);
	bf_prog_dump(prog, tr_line, NULL);
}

static int tr_parse(int argc, char **argv, enum bf_hook *hook, int *family,
		    const char **file)
{
	static const struct option longopts[] = {
		{ "ipv6", no_argument, NULL, '6' },
		{ "hook", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	*hook = BF_HOOK_XDP;
	*family = AF_INET;
	while ((c = getopt_long(argc, argv, "6H:h", longopts, NULL)) != -1) {
		switch (c) {
		case '6':
			*family = AF_INET6;
			break;
		case 'H':
			if (!bf_cli_parse_hook(optarg, hook))
				break;
			fprintf(stderr, "bpfilter translate: --hook must be xdp or tc, not '%s'\n", optarg);
			return BF_EXIT_USAGE;
		case 'h':
			tr_usage(stdout);
			return -1;
		default:
			tr_usage(stderr);
			return BF_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "bpfilter translate: %s\n\n",
			optind < argc ? "exactly one FILE, please" : "no FILE given");
		tr_usage(stderr);
		return BF_EXIT_USAGE;
	}
	*file = argv[optind];
	return 0;
}

int bf_cli_translate(int argc, char **argv)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TRANSLATE,
		.force_hook = -1,
	};
	struct bf_cli_restore r;
	const struct bf_ir *ir;
	const char *file;
	int family, ret;

	ret = tr_parse(argc, argv, &opts.hook, &family, &file);
	if (ret)
		return ret < 0 ? BF_EXIT_OK : ret;
	bf_log_set_level(BF_LOG_WARN);	/* the helper's per-request info lines are noise here */
	if (bf_cli_restore_run(file, family, &opts, &r) ||
	    bf_cli_restore_failed(&r, file)) {
		bf_cli_restore_fini(&r);
		return BF_EXIT_FAIL;
	}
	ir = bf_umh_ir(r.umh, family);
	if (!ir) {
		fprintf(stderr, "bpfilter: %s: the helper kept no filter table\n", file);
		bf_cli_restore_fini(&r);
		return BF_EXIT_FAIL;
	}
	tr_ir(ir);
	tr_prog(r.umh, family, opts.hook);
	if (opts.hook == BF_HOOK_TC_INGRESS)
		tr_prog(r.umh, family, BF_HOOK_TC_EGRESS);
	bf_cli_restore_fini(&r);
	return fflush(stdout) ? BF_EXIT_FAIL : BF_EXIT_OK;
}
