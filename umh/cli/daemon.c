// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter daemon: exec bpfilter-umh --daemon with the same options, so the
 * daemon keeps this process's pid (a caller can kill it by that pid).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DAEMON_MAX_ARGS	256

static void daemon_usage(FILE *f)
{
	fprintf(f,
		"Usage: bpfilter daemon --iface IF [--iface IF2 ...] --hook xdp|tc\n"
		"                       [--socket PATH] [--state-dir DIR] [-v]\n\n"
		"Runs the helper (bpfilter-umh --daemon) in the current network namespace:\n"
		"it attaches the IPv4 and IPv6 filter tables to every IF at XDP or at tc\n"
		"(ingress + egress; one program per hook carries both families) and\n"
		"serves iptables and ip6tables calls on a root-only unix socket.\n\n"
		"  -i, --iface IF      device to attach to (repeat for more)\n"
		"  -H, --hook HOOK     xdp or tc\n"
		"  -s, --socket PATH   socket to listen on (default /run/bpfilter/bpfilter.sock)\n"
		"  -d, --state-dir DIR where rule sets persist (default /run/bpfilter)\n"
		"  -v, --verbose       log more (repeatable)\n"
		"  -h, --help          this text\n");
}

struct daemon_args {
	char *argv[DAEMON_MAX_ARGS];
	int argc;
};

static int daemon_push(struct daemon_args *a, const char *s1, const char *s2)
{
	if (a->argc + 3 > DAEMON_MAX_ARGS) {
		fprintf(stderr, "bpfilter daemon: too many options\n");
		return -E2BIG;
	}
	a->argv[a->argc++] = (char *)s1;
	if (s2)
		a->argv[a->argc++] = (char *)s2;
	a->argv[a->argc] = NULL;
	return 0;
}

static int daemon_parse(int argc, char **argv, struct daemon_args *a)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "hook", required_argument, NULL, 'H' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool have_iface = false, have_hook = false;
	enum bf_hook hook;
	int c, r = 0;

	while (!r && (c = getopt_long(argc, argv, "i:H:s:d:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			have_iface = true;
			r = daemon_push(a, "--iface", optarg);
			break;
		case 'H':
			if (bf_cli_parse_hook(optarg, &hook)) {
				fprintf(stderr, "bpfilter daemon: --hook must be xdp or tc, not '%s'\n", optarg);
				return BF_EXIT_USAGE;
			}
			have_hook = true;
			r = daemon_push(a, "--hook", optarg);
			break;
		case 's':
			r = daemon_push(a, "--socket", optarg);
			break;
		case 'd':
			r = daemon_push(a, "--state-dir", optarg);
			break;
		case 'v':
			r = daemon_push(a, "-v", NULL);
			break;
		case 'h':
			daemon_usage(stdout);
			return -1;
		default:
			daemon_usage(stderr);
			return BF_EXIT_USAGE;
		}
	}
	if (r)
		return BF_EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "bpfilter daemon: unexpected argument '%s'\n", argv[optind]);
		return BF_EXIT_USAGE;
	}
	if (!have_iface || !have_hook) {
		fprintf(stderr, "bpfilter daemon: %s is required\n\n",
			have_iface ? "--hook" : "--iface");
		daemon_usage(stderr);
		return BF_EXIT_USAGE;
	}
	return 0;
}

int bf_cli_daemon(int argc, char **argv)
{
	struct daemon_args a = { .argc = 0 };
	char umh[PATH_MAX];
	int r;

	daemon_push(&a, BF_CLI_UMH_NAME, "--daemon");
	r = daemon_parse(argc, argv, &a);
	if (r)
		return r < 0 ? BF_EXIT_OK : r;
	if (!bf_cli_sibling(BF_CLI_UMH_NAME, umh, sizeof(umh)))
		execv(umh, a.argv);
	else
		execvp(BF_CLI_UMH_NAME, a.argv);
	fprintf(stderr, "bpfilter daemon: cannot run %s (looked next to this binary and in PATH): %s\n",
		BF_CLI_UMH_NAME, strerror(errno));
	return BF_EXIT_FAIL;
}
