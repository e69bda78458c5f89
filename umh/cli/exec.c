// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter exec: run an unmodified command with the preload library, so
 * its ip_tables socket options go to the bpfilter daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void exec_usage(FILE *f)
{
	fprintf(f,
		"Usage: bpfilter exec [--socket PATH] -- CMD [ARGS...]\n\n"
		"Runs CMD (iptables-legacy, iptables-legacy-save, iptables-legacy-restore,\n"
		"ip6tables-legacy, ip6tables-legacy-save, ip6tables-legacy-restore...)\n"
		"with LD_PRELOAD=%s: its ip_tables and ip6_tables calls go\n"
		"to the bpfilter daemon instead of the kernel; everything else is untouched.\n\n"
		"  -s, --socket PATH   the daemon's socket (default: $BPFILTER_SOCKET, else\n"
		"                      /run/bpfilter/bpfilter.sock)\n"
		"  -h, --help          this text\n",
		BF_CLI_PRELOAD_NAME);
}

int bf_cli_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *sock = NULL;
	char lib[PATH_MAX];
	int c;

	while ((c = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			exec_usage(stdout);
			return BF_EXIT_OK;
		default:
			exec_usage(stderr);
			return BF_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bpfilter exec: no command given\n\n");
		exec_usage(stderr);
		return BF_EXIT_USAGE;
	}
	if (bf_cli_preload_path(lib, sizeof(lib)))
		return BF_EXIT_FAIL;
	if (bf_cli_set_preload(lib))
		return BF_EXIT_FAIL;
	if ((sock && setenv("BPFILTER_SOCKET", sock, 1)) ||
	    unsetenv("BPFILTER_FD")) {
		fprintf(stderr, "bpfilter exec: cannot set the environment: %s\n", strerror(errno));
		return BF_EXIT_FAIL;
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "bpfilter exec: cannot run '%s': %s\n", argv[optind], strerror(errno));
	return BF_EXIT_FAIL;
}
