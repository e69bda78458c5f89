// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter test: load a rule file as `translate` does, but with the
 * programs loaded for BPF_PROG_TEST_RUN (BF_UMH_TEST, the chain forced by
 * --chain, iif/oif read from the test map), then run one packet per stdin
 * line and print ACCEPT or DROP for each, in order.
 *
 * All of stdin is parsed first: a bad line fails the run before anything is
 * loaded, and every device the lines name is known (and created if
 * missing) before the interface bitmaps are computed at load time.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "bpfilter/log.h"
#include "cli.h"
#include "pktline.h"

#define TEST_MAX_IFACES	64

struct test_pkt {
	struct bf_pkt_spec spec;
	unsigned int line;
};

struct test_iface {
	char name[IF_NAMESIZE];
	int ifindex;
};

struct test_ctx {
	int family;		/* AF_INET, or AF_INET6 with -6 */
	bool interp;		/* --interp: bf_interp_run_frame, no BPF run */
	struct test_pkt *pkts;
	size_t n_pkts;
	size_t cap_pkts;
	struct test_iface ifaces[TEST_MAX_IFACES];
	size_t n_ifaces;
};

static void test_usage(FILE *f)
{
	fprintf(f,
		"Usage: bpfilter test [-6] [--hook xdp|tc] [--chain INPUT|FORWARD|OUTPUT] [-v] FILE < PACKETS\n\n"
		"Loads the filter table of FILE (iptables-save format) through the\n"
		"unmodified %s (-6: ip6tables-legacy-restore and IPv6 packets), then runs one packet per line of stdin\n"
		"through the generated program with BPF_PROG_TEST_RUN and prints ACCEPT\n"
		"or DROP for each, in order. Needs root.\n\n"
		"  -6, --ipv6         FILE is an ip6tables-save file, the lines IPv6 packets\n"
		"  -H, --hook HOOK    xdp (default) or tc\n"
		"  -c, --chain CHAIN  INPUT (default), FORWARD, or OUTPUT (tc only)\n"
		"  -v, --verbose      print each program return code on stderr\n"
		"  -I, --interp       judge with the reference interpreter of the IR\n"
		"                     (codegen/interp.c) instead of running the program\n"
		"  -h, --help         this text\n\n"
		"A packet line is space-separated key=value tokens, each key at most once:\n"
		"  src=A.B.C.D dst=A.B.C.D  IPv4 addresses\n"
		"  proto=tcp|udp|icmp|N     IP protocol\n"
		"  sport=N dport=N          TCP/UDP ports\n"
		"  flags=LETTERS            TCP flags from FSRPAUEC (F=FIN S=SYN R=RST P=PSH\n"
		"                           A=ACK U=URG E=ECE C=CWR), or none\n"
		"  type=N code=N            ICMP type and code\n"
		"  iif=NAME oif=NAME        input/output device (missing ones are created\n"
		"                           as veth pairs for the run and deleted after)\n"
		"  len=N                    IP total length 20..1500 (shorter than the\n"
		"                           headers cuts the L4 header; longer pads zeros)\n"
		"  ttl=N                    IP TTL\n"
		"  pkttype=unicast|broadcast|multicast  Ethernet destination:\n"
		"                           00:00:00:00:00:00 (loopback's, where tc\n"
		"                           test runs happen), ff:ff:ff:ff:ff:ff or\n"
		"                           01:00:5e:00:00:01; what -m pkttype sees at\n"
		"                           INPUT and FORWARD\n"
		"  smac=xx:xx:xx:xx:xx:xx   Ethernet source (-m mac --mac-source)\n"
		"  mark=N                   skb->mark (-m mark; tc only)\n"
		"  wait=MS                  sleep before sending it (-m limit refills)\n"
		"  opts=HEX|none           TCP option bytes (up to 40), padded with EOL\n"
		"                           to a multiple of 4; doff follows (--tcp-option)\n"
		"  frag=none|first|nonfirst|N  first: MF set, offset 0; nonfirst: offset\n"
		"                           185 (1480 bytes), no MF, payload only, no L4\n"
		"                           header (default len 28); N: that offset\n"
		"Defaults: " BF_PKT_DEFAULTS_TEXT ".\n"
		"With -6: src=/dst= are IPv6 addresses, ttl= the hop limit, len= the\n"
		"whole IPv6 packet (40..1500), proto=icmp6 (58) an ICMPv6 header\n"
		"(type=/code=), ext=hop,dst,rt,frag,ah,none extension headers before\n"
		"the L4 header in that order (rt: type 0, segments left 0 unless\n"
		"rt=TYPE:SEGS[:HDRLEN[:RESERVED]] says otherwise; none: next\n"
		"header 59 and nothing after, last only); frag= sets the fragment\n"
		"header's offset/MF (one is added to ext= if missing);\n"
		"fh=ID[:RES[:BITS[:M]]] its identification (default 1), reserved byte,\n"
		"reserved bits and M; hopts=HEX / dopts=HEX the options of the hop /\n"
		"dst headers after their first two bytes (zero padded; default a PadN).\n"
		"Defaults with -6: " BF_PKT_DEFAULTS6_TEXT ".\n"
		"Blank lines and lines starting with # are skipped; '#' also starts a\n"
		"comment after the tokens. A bad line stops the run (exit 1) naming its\n"
		"line number and token.\n",
		BF_CLI_RESTORE_NAME);
}

static int test_parse_chain(const char *s, int *force_hook)
{
	if (!strcmp(s, "INPUT"))
		*force_hook = NF_INET_LOCAL_IN;
	else if (!strcmp(s, "FORWARD"))
		*force_hook = NF_INET_FORWARD;
	else if (!strcmp(s, "OUTPUT"))
		*force_hook = NF_INET_LOCAL_OUT;
	else
		return -EINVAL;
	return 0;
}

static int test_parse(int argc, char **argv, struct bf_umh_opts *opts,
		      int *family, const char **file, bool *interp)
{
	static const struct option longopts[] = {
		{ "ipv6", no_argument, NULL, '6' },
		{ "hook", required_argument, NULL, 'H' },
		{ "chain", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "interp", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "6H:c:vIh", longopts, NULL)) != -1) {
		switch (c) {
		case '6':
			*family = AF_INET6;
			break;
		case 'I':
			*interp = true;
			break;
		case 'v':
			bf_cli_verbose = true;
			break;
		case 'H':
			if (!bf_cli_parse_hook(optarg, &opts->hook))
				break;
			fprintf(stderr, "bpfilter test: --hook must be xdp or tc, not '%s'\n", optarg);
			return BF_EXIT_USAGE;
		case 'c':
			if (!test_parse_chain(optarg, &opts->force_hook))
				break;
			fprintf(stderr, "bpfilter test: --chain must be INPUT, FORWARD or OUTPUT, not '%s'\n", optarg);
			return BF_EXIT_USAGE;
		case 'h':
			test_usage(stdout);
			return -1;
		default:
			test_usage(stderr);
			return BF_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "bpfilter test: %s\n\n",
			optind < argc ? "exactly one FILE, please" : "no FILE given");
		test_usage(stderr);
		return BF_EXIT_USAGE;
	}
	*file = argv[optind];
	if (!strcmp(*file, "-")) {
		fprintf(stderr, "bpfilter test: FILE cannot be stdin: stdin carries the packets\n");
		return BF_EXIT_USAGE;
	}
	if (opts->force_hook == NF_INET_LOCAL_OUT && opts->hook == BF_HOOK_XDP) {
		fprintf(stderr, "bpfilter test: --chain OUTPUT needs --hook tc (XDP sees no outgoing packets)\n");
		return BF_EXIT_USAGE;
	}
	return 0;
}

static int test_add_pkt(struct test_ctx *t, const struct bf_pkt_spec *spec,
			unsigned int line)
{
	struct test_pkt *p;

	if (t->n_pkts == t->cap_pkts) {
		p = realloc(t->pkts, (t->cap_pkts * 2 + 16) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->pkts = p;
		t->cap_pkts = t->cap_pkts * 2 + 16;
	}
	t->pkts[t->n_pkts].spec = *spec;
	t->pkts[t->n_pkts].line = line;
	t->n_pkts++;
	return 0;
}

static int test_read_packets(struct test_ctx *t, FILE *in)
{
	struct bf_pkt_spec spec;
	unsigned int lineno = 0;
	char *line = NULL, err[256];
	size_t cap = 0;
	int r = 0;

	while (getline(&line, &cap, in) >= 0) {
		lineno++;
		r = bf_pktline_parse_family(t->family, line, &spec, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bpfilter test: stdin line %u: %s\n", lineno, err);
			break;
		}
		r = r ? test_add_pkt(t, &spec, lineno) : 0;
		if (r) {
			fprintf(stderr, "bpfilter test: out of memory\n");
			break;
		}
	}
	free(line);
	return r;
}

static int test_iface(struct test_ctx *t, const char *name, uint32_t *ifindex)
{
	struct test_iface *i;
	size_t k;
	int r;

	*ifindex = 0;
	if (!name[0])
		return 0;
	for (k = 0; k < t->n_ifaces; k++) {
		if (!strcmp(t->ifaces[k].name, name)) {
			*ifindex = (uint32_t)t->ifaces[k].ifindex;
			return 0;
		}
	}
	if (t->n_ifaces == TEST_MAX_IFACES) {
		fprintf(stderr, "bpfilter test: more than %d distinct interfaces\n", TEST_MAX_IFACES);
		return -E2BIG;
	}
	i = &t->ifaces[t->n_ifaces];
	memcpy(i->name, name, IF_NAMESIZE);
	i->ifindex = (int)if_nametoindex(name);
	if (!i->ifindex) {
		r = bf_cli_veth_add(name, &i->ifindex);
		if (r)
			return r;
	}
	t->n_ifaces++;
	*ifindex = (uint32_t)i->ifindex;
	return 0;
}

/* Resolve (and create) every device the packets name, before loading. */
static int test_resolve_ifaces(struct test_ctx *t)
{
	uint32_t dummy;
	size_t k;
	int r;

	for (k = 0; k < t->n_pkts; k++) {
		r = test_iface(t, t->pkts[k].spec.iif, &dummy);
		if (!r)
			r = test_iface(t, t->pkts[k].spec.oif, &dummy);
		if (r)
			return r;
	}
	return 0;
}

static int test_one(struct test_ctx *t, const struct test_pkt *p, int prog_fd,
		    int map_fd, enum bf_hook hook)
{
	uint8_t frame[BF_PKT_FRAME_MAX];
	uint32_t iif, oif;
	int len, r;

	if (p->spec.wait_ms) {
		struct timespec ts = {
			.tv_sec = p->spec.wait_ms / 1000,
			.tv_nsec = (long)(p->spec.wait_ms % 1000) * 1000000,
		};

		nanosleep(&ts, NULL);
	}
	len = bf_pkt_build(&p->spec, frame, sizeof(frame));
	if (len < 0) {
		fprintf(stderr, "bpfilter test: stdin line %u: cannot build the packet: %s\n",
			p->line, strerror(-len));
		return len;
	}
	r = test_iface(t, p->spec.iif, &iif);
	if (!r)
		r = test_iface(t, p->spec.oif, &oif);
	if (!r)
		r = bf_cli_set_test_ifs(map_fd, iif, oif);
	if (!r)
		r = bf_cli_run_frame_mark(prog_fd, hook, frame, (size_t)len,
					  p->spec.mark);
	if (r < 0) {
		fprintf(stderr, "bpfilter test: stdin line %u: the packet could not be run\n", p->line);
		return r;
	}
	printf("%s\n", r ? "ACCEPT" : "DROP");
	return 0;
}

/*
 * --interp: the IR the helper translated, judged by the reference
 * interpreter at the forced chain; what it passes unfiltered (not an IP
 * packet the kernel would filter) is ACCEPT, as the program passes it.
 */
/*
 * inet_dev_addr_type() for the interpreter: the routes the helper copied
 * into BF_MAP_ADDRTYPE for the program (bf_maps_sync_addrs()), so both
 * judge -m addrtype from the same namespace. A route on another device
 * than `dev` answers UNICAST, as the kernel does.
 */
static unsigned int test_addr_type(void *ctx, uint32_t addr, const char *dev)
{
	const int *fd = ctx;
	struct bf_addrtype_key key = { .prefixlen = 32, .addr = addr };
	struct bf_addrtype_val val;

	if (*fd < 0 || bpf_map_lookup_elem(*fd, &key, &val))
		return RTN_UNICAST;
	if (dev && val.ifindex != if_nametoindex(dev))
		return RTN_UNICAST;
	return val.type;
}

/*
 * match_lookup_rt6() for the interpreter: BF_MAP_ADDRTYPE6 as the
 * program reads it (bf_maps_sync_addrs6()): table local, then main, a
 * throw route or no route goes on, no route at all is UNREACHABLE.
 */
static uint32_t test_addr6_lookup(void *ctx, const uint8_t *addr)
{
	const int *fd = ctx;
	struct bf_addrtype6_key key = { .prefixlen = 32 + 128 };
	struct bf_addrtype6_val val;

	memcpy(key.addr, addr, sizeof(key.addr));
	for (key.table = 0; *fd >= 0 && key.table < 2; key.table++)
		if (!bpf_map_lookup_elem(*fd, &key, &val) &&
		    !(val.bits & BF_ADT6_THROW))
			return val.bits;
	return 0x80;	/* XT_ADDRTYPE_UNREACHABLE */
}

/*
 * -m limit for the interpreter: one bucket per BF_F_LIMIT predicate,
 * full at the start; time moves only by the lines' wait= (in jiffies of
 * BF_LIMIT_HZ), as the program sees it when the lines follow at once.
 */
static struct bf_limit_state *test_limits(const struct bf_ir *ir, uint64_t now)
{
	uint32_t n = bf_ir_count_field(ir, BF_F_LIMIT), c, r, i;
	struct bf_limit_state *st;
	const struct bf_rule *rule;
	int32_t slot;

	st = calloc(n ? n : 1, sizeof(*st));
	if (!st)
		return NULL;
	for (c = 0; c < ir->n_chains; c++) {
		for (r = 0; r < ir->chains[c].n_rules; r++) {
			rule = &ir->chains[c].rules[r];
			for (i = 0; i < rule->n_preds; i++) {
				if (rule->preds[i].field != BF_F_LIMIT)
					continue;
				slot = bf_ir_pred_ordinal(ir, &rule->preds[i]);
				if (slot >= 0 && (uint32_t)slot < n)
					bf_limit_init(&rule->preds[i], now, &st[slot]);
			}
		}
	}
	return st;
}

static int test_interp(const struct test_ctx *t, const struct bf_ir *ir,
		       int nf_hook, int addr_fd, int addr6_fd)
{
	struct bf_interp_env env = {
		.sz = sizeof(env), .jiffies = 1000000,
		.addr_type = test_addr_type, .addr_ctx = &addr_fd,
		.addr6_lookup = test_addr6_lookup, .addr6_ctx = &addr6_fd,
	};
	uint8_t frame[BF_PKT_FRAME_MAX];
	const struct test_pkt *p;
	size_t k;
	int len, v = 0;

	env.limits = test_limits(ir, env.jiffies);
	if (!env.limits)
		return -ENOMEM;
	for (k = 0; k < t->n_pkts; k++) {
		p = &t->pkts[k];
		env.mark = p->spec.mark;
		env.jiffies += (uint64_t)p->spec.wait_ms * BF_LIMIT_HZ / 1000;
		len = bf_pkt_build(&p->spec, frame, sizeof(frame));
		v = len < 0 ? len : bf_interp_run_env(ir, nf_hook, frame, (size_t)len,
						       p->spec.iif, p->spec.oif, &env, NULL);
		if (v < 0) {
			fprintf(stderr, "bpfilter test: stdin line %u: the interpreter failed: %s\n",
				p->line, strerror(-v));
			break;
		}
		printf("%s\n", v == BF_V_DROP ? "DROP" : "ACCEPT");
		v = 0;
	}
	free(env.limits);
	return v;
}

static int test_run(struct test_ctx *t, const struct bf_umh *umh,
		    const struct bf_umh_opts *opts)
{
	enum bf_hook hook = opts->hook;
	const struct bf_maps *maps = bf_umh_maps(umh, t->family);
	int prog_fd, map_fd;
	size_t k;
	int r;

	if (t->interp) {
		if (!bf_umh_ir(umh, t->family)) {
			fprintf(stderr, "bpfilter test: the helper holds no IR to interpret\n");
			return -ENOENT;
		}
		return test_interp(t, bf_umh_ir(umh, t->family), opts->force_hook,
				   maps ? maps->fd[BF_MAP_ADDRTYPE] : -1,
				   maps ? maps->fd[BF_MAP_ADDRTYPE6] : -1);
	}
	if (hook == BF_HOOK_TC_INGRESS && opts->force_hook == NF_INET_LOCAL_OUT)
		hook = BF_HOOK_TC_EGRESS;
	prog_fd = bf_umh_prog_fd(umh, t->family, hook);
	map_fd = maps ? maps->fd[BF_MAP_TEST] : -1;
	if (prog_fd < 0 || map_fd < 0) {
		fprintf(stderr, "bpfilter test: the helper loaded no %s program (or no test map)\n",
			bf_cli_hook_name(hook));
		return -ENOENT;
	}
	for (k = 0; k < t->n_pkts; k++) {
		r = test_one(t, &t->pkts[k], prog_fd, map_fd, hook);
		if (r)
			return r;
	}
	return 0;
}

static int test_main(struct test_ctx *t, const char *file,
		     const struct bf_umh_opts *opts)
{
	struct bf_cli_restore r;
	int ret = BF_EXIT_FAIL;

	if (test_read_packets(t, stdin) || test_resolve_ifaces(t))
		return BF_EXIT_FAIL;
	if (bf_cli_restore_run(file, t->family, opts, &r) ||
	    bf_cli_restore_failed(&r, file))
		goto out;
	if (!test_run(t, r.umh, opts))
		ret = BF_EXIT_OK;
out:
	bf_cli_restore_fini(&r);
	return ret;
}

int bf_cli_test(int argc, char **argv)
{
	struct bf_umh_opts opts = {
		.sz = sizeof(opts),
		.mode = BF_UMH_TEST,
		.hook = BF_HOOK_XDP,
		.force_hook = NF_INET_LOCAL_IN,
	};
	struct test_ctx t = { .family = AF_INET, .pkts = NULL };
	const char *file;
	int ret;

	ret = test_parse(argc, argv, &opts, &t.family, &file, &t.interp);
	if (ret)
		return ret < 0 ? BF_EXIT_OK : ret;
	bf_log_set_level(BF_LOG_WARN);	/* the helper's per-request info lines are noise here */
	if (geteuid()) {
		fprintf(stderr, "bpfilter test: needs root (it loads BPF programs and may create interfaces)\n");
		return BF_EXIT_FAIL;
	}
	ret = test_main(&t, file, &opts);
	bf_cli_veth_cleanup();
	free(t.pkts);
	if (fflush(stdout))
		ret = BF_EXIT_FAIL;
	return ret;
}
