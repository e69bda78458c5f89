// SPDX-License-Identifier: GPL-2.0
/*
 * bench_nf: the per-packet cost of whatever runs at a netfilter hook (IPv4,
 * or IPv6 with --pf 10)
 * between two priorities (the kernel's iptables filter table sits at
 * priority 0 of LOCAL_IN), measured from BPF:
 *
 *   bench_nf [--pf 2|10] [--hook N] [--lo PRIO] [--hi PRIO] -- CMD [ARGS...]
 *
 * Two BPF_PROG_TYPE_NETFILTER programs are linked at the hook (default
 * NF_INET_LOCAL_IN = 1), one at priority --lo (default -1) that stores
 * bpf_ktime_get_ns() in a per-CPU slot, one at --hi (default 1) that adds
 * the elapsed time to a per-CPU sum and counts the packet. CMD runs while
 * the links exist (it sends the packets); then the sums are printed:
 *
 *   packets N ns_per_packet X
 *
 * The number includes the sandwich's own cost (two program runs, one
 * clock read each side); the caller subtracts a run without a filter table
 * in between. Packets that something between the two drops are not
 * counted. Runs in the caller's network namespace. Needs root.
 *
 * libbpf 1.1 and the 6.1 UAPI headers of Debian 12 have no netfilter
 * program or link type: their kernel UAPI values are used directly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "insn.h"

#define BNF_PROG_TYPE_NETFILTER	32	/* enum bpf_prog_type, Linux 6.4 */
#define BNF_ATTACH_NETFILTER	45	/* enum bpf_attach_type, Linux 6.4 */
#define BNF_NFPROTO_IPV4	2
#define BNF_NF_ACCEPT		1

/* union bpf_attr's link_create with its netfilter member (Linux 6.4). */
struct bnf_link_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint32_t pf;
	uint32_t hooknum;
	int32_t priority;
	uint32_t nf_flags;
};

struct bnf_slot {
	uint64_t t0;
	uint64_t sum;
	uint64_t count;
};

static int bnf_map_create(void)
{
	return bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bench_nf", sizeof(uint32_t),
			      sizeof(struct bnf_slot), 1, NULL);
}

/* r6 = &slot of this CPU, or return ACCEPT. Four instructions + 2 for ld_imm64. */
#define BNF_LOOKUP(map_fd)						\
	BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),				\
	BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),				\
	BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),				\
	BPF_LD_IMM64_RAW_LO(BPF_REG_1, BPF_PSEUDO_MAP_FD, map_fd),	\
	BPF_LD_IMM64_RAW_HI(0),						\
	BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem)

static int bnf_prog_load(int map_fd, bool start)
{
	struct bpf_insn first[] = {
		BNF_LOOKUP(map_fd),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 4),
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_0),
		BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns),
		BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_0, 0),
		BPF_JMP_A(0),
		BPF_MOV64_IMM(BPF_REG_0, BNF_NF_ACCEPT),
		BPF_EXIT_INSN(),
	};
	struct bpf_insn second[] = {
		BNF_LOOKUP(map_fd),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 12),
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_6, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_7, 0, 9),
		BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns),
		BPF_ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_7),
		BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, 8),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_0),
		BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, 16),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),
		BPF_STX_MEM(BPF_DW, BPF_REG_6, BPF_REG_1, 16),
		BPF_ST_MEM(BPF_DW, BPF_REG_6, 0, 0),
		BPF_MOV64_IMM(BPF_REG_0, BNF_NF_ACCEPT),
		BPF_EXIT_INSN(),
	};
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BNF_ATTACH_NETFILTER,
		.log_buf = log,
		.log_size = sizeof(log),
		.log_level = 1,
	);
	int fd;

	if (start)
		fd = bpf_prog_load(BNF_PROG_TYPE_NETFILTER, "bench_nf_lo", "GPL",
				   first, sizeof(first) / sizeof(first[0]), &opts);
	else
		fd = bpf_prog_load(BNF_PROG_TYPE_NETFILTER, "bench_nf_hi", "GPL",
				   second, sizeof(second) / sizeof(second[0]), &opts);
	if (fd < 0)
		fprintf(stderr, "bench_nf: program load failed: %s\n%s\n",
			strerror(-fd), log);
	return fd;
}

static int bnf_link(int prog_fd, int pf, int hook, int prio)
{
	struct bnf_link_attr attr = {
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = BNF_ATTACH_NETFILTER,
		.pf = (uint32_t)pf,
		.hooknum = (uint32_t)hook,
		.priority = prio,
	};
	int fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	if (fd < 0)
		fprintf(stderr, "bench_nf: netfilter link (hook %d priority %d) failed: %s\n",
			hook, prio, strerror(errno));
	return fd;
}

static int bnf_run(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bench_nf: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int bnf_report(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bnf_slot *vals;
	uint64_t sum = 0, count = 0;
	uint32_t key = 0;
	int i, ret;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(map_fd, &key, vals);
	if (ret) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < ncpu; i++) {
		sum += vals[i].sum;
		count += vals[i].count;
	}
	printf("packets %llu ns_per_packet %.1f\n", (unsigned long long)count,
	       count ? (double)sum / (double)count : 0.0);
out:
	free(vals);
	return ret;
}

static void bnf_usage(FILE *f)
{
	fprintf(f, "usage: bench_nf [--pf 2|10] [--hook N] [--lo PRIO] [--hi PRIO] -- CMD [ARGS...]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pf", required_argument, NULL, 'p' },
		{ "hook", required_argument, NULL, 'k' },
		{ "lo", required_argument, NULL, 'l' },
		{ "hi", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int pf = BNF_NFPROTO_IPV4, hook = 1, lo = -1, hi = 1, c;
	int map_fd, lo_fd, hi_fd, lo_link, hi_link, ret = 1;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': pf = atoi(optarg); break;
		case 'k': hook = atoi(optarg); break;
		case 'l': lo = atoi(optarg); break;
		case 'u': hi = atoi(optarg); break;
		case 'h': bnf_usage(stdout); return 0;
		default: bnf_usage(stderr); return 2;
		}
	}
	if (optind >= argc || lo >= hi) {
		bnf_usage(stderr);
		return 2;
	}
	map_fd = bnf_map_create();
	if (map_fd < 0) {
		fprintf(stderr, "bench_nf: map: %s\n", strerror(-map_fd));
		return 1;
	}
	lo_fd = bnf_prog_load(map_fd, true);
	hi_fd = bnf_prog_load(map_fd, false);
	if (lo_fd < 0 || hi_fd < 0)
		return 1;
	lo_link = bnf_link(lo_fd, pf, hook, lo);
	hi_link = bnf_link(hi_fd, pf, hook, hi);
	if (lo_link < 0 || hi_link < 0)
		return 1;
	if (bnf_run(argv + optind))
		fprintf(stderr, "bench_nf: %s failed\n", argv[optind]);
	else if (!bnf_report(map_fd))
		ret = 0;
	close(hi_link);
	close(lo_link);
	close(hi_fd);
	close(lo_fd);
	close(map_fd);
	return ret;
}
