/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The codegen library: front-ends, IR, emitter and loader. It does no I/O
 * of its own beyond the bpf() and netlink calls the loader needs; callers
 * format and print.
 *
 * Errors: every function returns 0 or a negative errno. Functions that can
 * fail because of user input also fill a struct bf_err with a message that
 * names the chain, the rule and the reason.
 */
#ifndef BPFILTER_CODEGEN_H
#define BPFILTER_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "bpfilter/ir.h"

struct bf_err {
	char msg[512];		/* "chain INPUT rule 3: match 'string' is not supported" */
	char *verifier_log;	/* loader failures: the whole verifier log; owned */
};

void bf_err_clear(struct bf_err *err);
/* printf-style: set err->msg (if err is not NULL) and return `ret`. */
int bf_err_set(struct bf_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- xt front-end (codegen/xt/) ----------------------------------------- */

/*
 * Validate an IPv4 SET_REPLACE payload exactly as ip_tables'
 * translate_table() and find_check_entry() do (sizes, offsets, alignment,
 * hook entries, underflows, verdicts, jump targets, loops, extension names,
 * revisions, sizes and protocol requirements) and translate it to IR.
 *
 * `repl` is the whole option buffer: struct ipt_replace then repl->size
 * bytes of entries; `len` is its length. On success the entries are
 * normalised in place as the kernel does (counters zeroed, comefrom set to
 * the hooks that reach each entry), so the caller can keep them as the
 * table's blob.
 *
 * Returns the errno ip_tables would return: -EINVAL for malformed blobs,
 * -ELOOP for loops and bad jumps, -ENOENT / -EPROTONOSUPPORT for unknown
 * extensions or revisions, -ENOMEM for absurd sizes. Extensions ip_tables
 * knows but bpfilter cannot translate are -ENOENT too, with a message.
 */
int bf_xt4_translate(struct ipt_replace *repl, size_t len,
		     struct bf_ir **irp, struct bf_err *err);

/*
 * Serialise IR back to an entries blob laid out as libiptc lays it out.
 * *blobp is malloc'ed; hook_entry/underflow/num_entries/size describe it.
 */
int bf_xt4_from_ir(const struct bf_ir *ir, void **blobp, uint32_t *sizep,
		   uint32_t *num_entries, uint32_t hook_entry[BF_NR_HOOKS],
		   uint32_t underflow[BF_NR_HOOKS]);

/*
 * The table ip_tables starts with: filter, valid_hooks 0x0e, INPUT, FORWARD
 * and OUTPUT with policy ACCEPT, 4 entries, 632 bytes of entries.
 * *replp is a malloc'ed struct ipt_replace followed by its entries.
 */
int bf_xt4_initial_filter(struct ipt_replace **replp, size_t *lenp);

/* Is (name, revision) an extension bpfilter translates? For the probes. */
int bf_xt4_match_revision(const char *name, uint8_t revision);	/* 0, -ENOENT, -EPROTONOSUPPORT */
int bf_xt4_target_revision(const char *name, uint8_t revision);

/*
 * The same four for ip6_tables (struct ip6t_replace / ip6t_entry): the
 * kernel's ip6_tables checks and errnos, ir->family == AF_INET6. The
 * initial filter table is 4 entries, 856 bytes of entries (measured:
 * IP6T_SO_GET_INFO in a fresh netns).
 */
int bf_xt6_translate(struct ip6t_replace *repl, size_t len,
		     struct bf_ir **irp, struct bf_err *err);
int bf_xt6_from_ir(const struct bf_ir *ir, void **blobp, uint32_t *sizep,
		   uint32_t *num_entries, uint32_t hook_entry[BF_NR_HOOKS],
		   uint32_t underflow[BF_NR_HOOKS]);
int bf_xt6_initial_filter(struct ip6t_replace **replp, size_t *lenp);
int bf_xt6_match_revision(const char *name, uint8_t revision);
int bf_xt6_target_revision(const char *name, uint8_t revision);

/* ---- program generation (codegen/) --------------------------------------- */

enum bf_hook {
	BF_HOOK_XDP,		/* INPUT + FORWARD, decided by bpf_fib_lookup */
	BF_HOOK_TC_INGRESS,	/* INPUT + FORWARD, decided by bpf_fib_lookup */
	BF_HOOK_TC_EGRESS,	/* OUTPUT (locally generated packets only) */
};

struct bf_gen_opts {
	size_t sz;		/* sizeof(struct bf_gen_opts) */
	enum bf_hook hook;
	/*
	 * -1: decide the chain as the attached program does.
	 * NF_INET_LOCAL_IN / FORWARD / LOCAL_OUT: always run that chain and
	 * take iif/oif from the test map (bf_maps.test_fd) instead of the
	 * context and the FIB: for BPF_PROG_TEST_RUN.
	 */
	int force_hook;
	uint32_t piece_rules;	/* 0: default; rules per global subprogram */
	/*
	 * BF_HOOK_TC_EGRESS only: no chain runs; the program only shows the
	 * ICMP query tracker (BF_MAP_ICMPCT) the locally sent ICMP queries
	 * and replies, then passes them. Attached next to an XDP program
	 * (XDP has no egress) when the table uses conntrack.
	 */
	bool observe;
};

/* Maps every program of one table shares. */
enum bf_map_id {
	BF_MAP_COUNTERS,	/* percpu array, key u32 entry index, value struct xt_counters */
	BF_MAP_IFBITS,		/* hash, key u32 ifindex, value bitmap of matching ifpats */
	BF_MAP_TEST,		/* array[1], value struct bf_test_ifs */
	/* array, key u32 slot (bf_ir_pred_ordinal()), value struct bf_limit_state */
	BF_MAP_LIMIT,
	/* LPM trie, key struct bf_addrtype_key, value struct bf_addrtype_val */
	BF_MAP_ADDRTYPE,
	BF_MAP_LOG,		/* ringbuf of struct bf_logrec (include/bpfilter/logrec.h) */
	BF_MAP_SCRATCH,		/* percpu array[1] of BF_SCRATCH_SIZE bytes: -j REJECT builds its reply there */
	/* LRU hash, key struct bf_icmpct_key, value struct bf_icmpct_val (gen_ct.c) */
	BF_MAP_ICMPCT,
	/* LRU hash, key 16-byte address, value u64: REJECT's ICMP rate limits (gen_icmprl.c) */
	BF_MAP_ICMPRL,
	/* LPM trie, key struct bf_addrtype6_key, value struct bf_addrtype6_val */
	BF_MAP_ADDRTYPE6,
	BF_MAP_NR,
};

struct bf_test_ifs {
	uint32_t iif;		/* ifindex, 0 = none */
	uint32_t oif;
};

#define BF_MAX_IFPATS	256	/* bits in one BF_MAP_IFBITS value */
#define BF_SCRATCH_SIZE	1600	/* BF_MAP_SCRATCH value size (IPv6 REJECT quotes 1232 bytes) */
#define BF_ICMPRL_MAX	4096	/* BF_MAP_ICMPRL entries (peers + 1) when the table has REJECT rules */

/*
 * -m limit (BF_F_LIMIT): the kernel's jiffies (HZ 250, Debian's) and
 * credits of 1/CREDITS_PER_JIFFY jiffy, as xt_limit.c computes them.
 * One bucket per predicate, the value of BF_MAP_LIMIT (and the
 * interpreter's state): the kernel's struct xt_limit_priv.
 */
#define BF_LIMIT_HZ			250
#define BF_LIMIT_CREDITS_PER_JIFFY	128	/* POW2_BELOW32(0xffffffff / (HZ * 86400)) */
struct bf_limit_state {
	uint64_t prev;		/* jiffies of the last update */
	uint32_t credit;
	uint32_t pad;
};
uint32_t bf_limit_user2credits(uint32_t user);
/* A full bucket at jiffy `now`, as limit_mt_check() leaves it. */
void bf_limit_init(const struct bf_pred *pred, uint64_t now,
		   struct bf_limit_state *st);
/* limit_mt() for one packet at jiffy `now`: does it match? */
bool bf_limit_take(const struct bf_pred *pred, uint64_t now,
		   struct bf_limit_state *st);
/* The kernel's jiffies now (bpf_jiffies64() run by BPF_PROG_TEST_RUN). */
int bf_jiffies_now(uint64_t *now);

/*
 * -m addrtype (BF_F_ADDRTYPE): BF_MAP_ADDRTYPE holds the routes
 * inet_dev_addr_type() can find (docs/design-notes.md), longest prefix
 * first: the route's type (RTN_*) and its first nexthop's device.
 */
struct bf_addrtype_key {
	uint32_t prefixlen;
	uint32_t addr;		/* network order */
};
struct bf_addrtype_val {
	uint32_t type;		/* RTN_* */
	uint32_t ifindex;	/* the route's (first) nexthop device */
};

/*
 * ip6tables -m addrtype LOCAL, ANYCAST, UNREACHABLE (BF_F_ADDRTYPE6):
 * BF_MAP_ADDRTYPE6 holds tables local (table word 0) and main (1), the
 * prefix covering the table word (prefixlen = 32 + route prefix). The
 * value is the XT_ADDRTYPE_* bits match_lookup_rt6() gives an address
 * that route answers, or BF_ADT6_THROW (look in the next table).
 */
struct bf_addrtype6_key {
	uint32_t prefixlen;	/* 32 + the route's prefix length */
	uint32_t table;		/* 0 local, 1 main */
	uint8_t addr[16];
};
struct bf_addrtype6_val {
	uint32_t bits;		/* XT_ADDRTYPE_* | BF_ADT6_THROW */
};
#define BF_ADT6_THROW	0x10000

/*
 * Conntrack of ICMP queries (echo, timestamp, info, address mask), which
 * the conntrack kfuncs cannot look up: BF_MAP_ICMPCT mirrors the kernel's
 * entries for them from the packets bpfilter's programs let through
 * (docs/design-notes.md, "Connection tracking"). Family-neutral: IPv4
 * addresses in the first 4 bytes, the rest zero. The key is the entry's
 * original direction (the request's sender first).
 */
struct bf_icmpct_key {
	uint8_t saddr[16];	/* the request's source */
	uint8_t daddr[16];	/* the request's destination */
	uint16_t id;		/* the query id, network order */
	uint8_t type;		/* the request's type (8, 13, 15, 17; ICMPv6 128) */
	uint8_t code;		/* the packets' code (part of the kernel's tuple) */
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t pad[3];		/* zero */
};
struct bf_icmpct_val {
	uint64_t expires;	/* bpf_ktime_get_ns() when the entry times out */
	uint32_t status;	/* BF_ICMPCT_SEEN_REPLY */
	uint32_t pad;
};
#define BF_ICMPCT_SEEN_REPLY	0x2	/* IPS_SEEN_REPLY */
#define BF_ICMPCT_MAX		65536	/* entries (LRU) */
/* The kernel's ICMP timeout in this namespace (nf_conntrack_icmp_timeout), seconds. */
uint32_t bf_icmpct_timeout(void);

/* A rule boundary in the generated code, for dumps. */
struct bf_mark {
	uint32_t insn;
	char *text;		/* owned: "INPUT#3 ..." or "func chain INPUT" */
};

struct bf_func {
	uint32_t insn;		/* first instruction */
	char name[32];		/* BTF name: bpfilter_main, bpfilter_c3_p0 ... */
	/*
	 * 0: the program's family. A program carrying both families (the
	 * helper's, umh/attach.c) marks each chain function with its own, so
	 * its BTF gets the right struct bf_pkt.
	 */
	int family;
};

struct bf_map_reloc {
	uint32_t insn;		/* the first half of a BPF_LD_IMM64 */
	enum bf_map_id map;
};

struct bf_prog {
	enum bf_hook hook;
	struct bpf_insn *insns;
	uint32_t n_insns;
	struct bf_func *funcs;	/* funcs[0] is the entry point at insn 0 */
	uint32_t n_funcs;
	struct bf_mark *marks;	/* sorted by insn */
	uint32_t n_marks;
	struct bf_map_reloc *relocs;
	uint32_t n_relocs;
	int family;		/* AF_INET or AF_INET6 (0: AF_INET) */
	/*
	 * BF_CT_FAM_* bits: the families whose conntrack the program looks
	 * up; the loader switches tracking on for each (a program carrying
	 * both families ORs its halves'). 0 in a program with conntrack
	 * lookups means prog->family's.
	 */
	unsigned int ct_families;
};

#define BF_CT_FAM4	0x1
#define BF_CT_FAM6	0x2

/* ir->family (AF_INET or AF_INET6) decides the program's family. */
int bf_gen(const struct bf_ir *ir, const struct bf_gen_opts *opts,
	   struct bf_prog **progp, struct bf_err *err);
void bf_prog_free(struct bf_prog *prog);

/*
 * Disassembly with rule boundaries marked, one line per call of `out`.
 * Map loads print the map's name, jumps their absolute targets.
 */
void bf_prog_dump(const struct bf_prog *prog,
		  void (*out)(void *ctx, const char *line), void *ctx);

/* ---- loader (codegen/loader.c) ------------------------------------------ */

struct bf_maps {
	int fd[BF_MAP_NR];	/* -1 when absent */
	uint32_t n_counters;
};

/* Create the maps a table needs, named bpfilter_cnt / bpfilter_ifb / bpfilter_tst. */
int bf_maps_create(const struct bf_ir *ir, struct bf_maps *maps,
		   struct bf_err *err);
void bf_maps_close(struct bf_maps *maps);

/*
 * (Re)compute BF_MAP_IFBITS for every device of the current network
 * namespace, plus key 0 for "no device" (the empty name).
 */
int bf_maps_sync_ifaces(const struct bf_ir *ir, const struct bf_maps *maps);

/*
 * (Re)fill BF_MAP_ADDRTYPE from the current network namespace's routes
 * (a no-op for a table without -m addrtype). Call again when addresses
 * or routes change.
 */
int bf_maps_sync_addrs(const struct bf_ir *ir, const struct bf_maps *maps);

/* The same for BF_MAP_ADDRTYPE6 (IPv6 tables local and main). */
int bf_maps_sync_addrs6(const struct bf_ir *ir, const struct bf_maps *maps);

/* Sum the per-CPU counters into out[0..n_counters). */
int bf_maps_read_counters(const struct bf_maps *maps, struct xt_counters *out);

/*
 * Load a generated program against `maps` with BTF func info for its
 * global subprograms. On a verifier rejection the whole log is kept in
 * err->verifier_log. Returns a program fd or a negative errno; a program the
 * verifier refuses is -EINVAL (its own EACCES would read as a privilege
 * problem to iptables users).
 */
int bf_prog_load(const struct bf_prog *prog, const struct bf_maps *maps,
		 struct bf_err *err);

/*
 * Attach `prog_fd` at `hook` on `ifindex`, atomically replacing whatever
 * bpfilter attached there before (XDP in driver mode through netlink with
 * XDP_FLAGS_REPLACE; tc through a clsact bpf filter in direct-action mode,
 * replaced in place). Attachments outlive the process that made them.
 */
int bf_attach(enum bf_hook hook, int ifindex, int prog_fd, struct bf_err *err);
int bf_detach(enum bf_hook hook, int ifindex);
/* The id of the program bpfilter has attached there, 0 if none. */
int bf_attached_id(enum bf_hook hook, int ifindex, uint32_t *prog_id);

/* ---- reference interpreter (codegen/interp.c) ----------------------------- */

/*
 * Evaluate the IR for one packet in userspace, with no BPF: the oracle that
 * separates codegen bugs (interpreter != BPF) from front-end bugs
 * (interpreter != kernel). `l3` is the IPv4 header and what follows, `len`
 * the bytes present; `hook` is NF_INET_LOCAL_IN / FORWARD / LOCAL_OUT;
 * iif/oif are device names ("" for none). Counters, if not NULL, are
 * n_entries slots incremented as the BPF program would.
 *
 * For an AF_INET6 table `l3` is the IPv6 header and what follows.
 *
 * Returns BF_V_ACCEPT or BF_V_DROP, BF_INTERP_UNFILTERED for packets the
 * kernel drops before netfilter (and bpfilter passes unfiltered), or a
 * negative errno.
 */
#define BF_INTERP_UNFILTERED	100
int bf_interp_run(const struct bf_ir *ir, int hook, const uint8_t *l3,
		  size_t len, const char *iif, const char *oif,
		  struct xt_counters *counters);

/*
 * bf_interp_run() for a whole Ethernet frame (`len` bytes from its
 * destination MAC): the source MAC is what -m mac compares, and the
 * destination decides -m pkttype as eth_type_trans() would (group bit:
 * ff:ff:ff:ff:ff:ff broadcast, else multicast; otherwise host), as it does
 * for BPF_PROG_TEST_RUN at every hook. Frames that are not of the table's
 * family (IPv4 / IPv6 ethertype) are BF_INTERP_UNFILTERED. bf_interp_run() itself evaluates as host with
 * source MAC 00:00:00:00:00:00.
 */
int bf_interp_run_frame(const struct bf_ir *ir, int hook, const uint8_t *frame,
			size_t len, const char *iif, const char *oif,
			struct xt_counters *counters);

/*
 * What bf_interp_run_frame() cannot know from the frame: the skb mark,
 * the clock and bucket state of -m limit, the address types of
 * -m addrtype.
 */
struct bf_interp_env {
	size_t sz;		/* sizeof(struct bf_interp_env) */
	uint32_t mark;		/* skb->mark */
	uint64_t jiffies;	/* the time -m limit sees; the caller moves it */
	/* bf_ir_count_field(ir, BF_F_LIMIT) buckets (bf_limit_init()) */
	struct bf_limit_state *limits;
	/*
	 * inet_dev_addr_type(): RTN_* of `addr` (network order), `dev`
	 * the device name or NULL; NULL callback: from the address alone
	 * (0.0.0.0/8 and 255.255.255.255 broadcast, 224/4 multicast, else
	 * unicast).
	 */
	unsigned int (*addr_type)(void *ctx, uint32_t addr, const char *dev);
	void *addr_ctx;
	/*
	 * Appended: ip6tables' match_lookup_rt6() without a device, the
	 * XT_ADDRTYPE_LOCAL/ANYCAST/UNREACHABLE bits of `addr` (network
	 * order); NULL callback: no routes (UNREACHABLE).
	 */
	uint32_t (*addr6_lookup)(void *ctx, const uint8_t *addr);
	void *addr6_ctx;
};

int bf_interp_run_env(const struct bf_ir *ir, int hook, const uint8_t *frame,
		      size_t len, const char *iif, const char *oif,
		      const struct bf_interp_env *env,
		      struct xt_counters *counters);

/*
 * bf_interp_run() with the packet's connection tracking state given:
 * `ctstate` is one BF_CT_* bit (what the kernel's conntrack says of this
 * packet), or 0 for "the kernel has no entry for it", which the
 * interpreter then decides from the packet alone as the BPF programs do
 * when their conntrack lookup finds nothing (bf_interp_run() does the
 * same). The interpreter does not model the kernel's table.
 */
int bf_interp_run_ct(const struct bf_ir *ir, int hook, const uint8_t *l3,
		     size_t len, const char *iif, const char *oif,
		     uint32_t ctstate, struct xt_counters *counters);

#endif /* BPFILTER_CODEGEN_H */
