// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter: the command-line front of bpfilter.
 *   bpfilter daemon    run the helper as a daemon on some interfaces
 *   bpfilter exec      run an unmodified iptables / ip6tables through the helper
 *   bpfilter translate show the IR and BPF a rule file becomes (no root)
 *   bpfilter test      run packets through the generated program (root)
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct cli_cmd cli_cmds[] = {
	{ "daemon", bf_cli_daemon, "run bpfilter-umh as a daemon attached to interfaces" },
	{ "exec", bf_cli_exec, "run a command (iptables, ip6tables...) with its ip(6)_tables calls sent to the daemon" },
	{ "translate", bf_cli_translate, "translate an ip(6)tables-restore file; print the IR and the BPF (no root)" },
	{ "test", bf_cli_test, "run packets described on stdin through the generated program (root)" },
};

#define CLI_N_CMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: bpfilter COMMAND [OPTIONS]\n\nCommands:\n");
	for (i = 0; i < CLI_N_CMDS; i++)
		fprintf(f, "  %-10s %s\n", cli_cmds[i].name, cli_cmds[i].help);
	fprintf(f, "\n'bpfilter COMMAND --help' describes a command.\n"
		   "Exit codes: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		cli_usage(stderr);
		return BF_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return BF_EXIT_OK;
	}
	for (i = 0; i < CLI_N_CMDS; i++) {
		if (!strcmp(argv[1], cli_cmds[i].name))
			return cli_cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "bpfilter: unknown command '%s'\n\n", argv[1]);
	cli_usage(stderr);
	return BF_EXIT_USAGE;
}
