// SPDX-License-Identifier: GPL-2.0
/*
 * The rate limits the kernel applies to the ICMP errors of -j REJECT
 * (icmp_send() / icmp6_send(); tcp-reset is not limited), in BPF:
 *
 *   1. the type must be in the family's ratemask (net.ipv4.icmp_ratemask,
 *      net.ipv6.icmp.ratemask; destination unreachable is in both by
 *      default), else nothing is limited;
 *   2. icmp_global_allow(): a token bucket per netns, credit (s32) and
 *      stamp (u32 jiffies). Credit > 0 passes; else, if at least HZ/50
 *      jiffies passed since the stamp (counted up to HZ), the one who
 *      moves the stamp (cmpxchg) adds msgs_per_sec * delta / HZ, capped
 *      at msgs_burst, and the message passes; otherwise it is dropped;
 *   3. inet_peer_xrlim_allow() for the reply's destination: tokens
 *      (jiffies) grow by the time since the peer's last update, capped at
 *      6 * timeout (XRLIM_BURST_FACTOR), and a message costs `timeout`
 *      (icmp_ratelimit / icmp.ratelimit in jiffies; 0 = no peer limit).
 *      A new peer starts 60 * HZ in the past: a full burst of 6;
 *   4. a message that passed both consumes 0, 1 or 2 credits of the
 *      global bucket (icmp_global_consume(): get_random_u32_below(3)).
 * Nothing is limited at OUTPUT: the rejected packet then has the loopback
 * device (nf_send_unreach{,6}), which both functions exempt.
 *
 * State: BF_MAP_ICMPRL, an LRU hash keyed by the reply's destination (16
 * bytes; IPv4 in the first 4) whose value is the peer's u64 (last jiffy
 * << 32 | tokens), updated with cmpxchg (BF_ICMPRL_TRIES rounds, then the
 * last round's answer stands: the kernel's own update is racy too); the
 * global bucket is the entry of key ff..ff (no reply ever goes to a
 * multicast address). The sysctls are read from /proc/sys when the
 * program is generated (the table's netns: the daemon generates there), so
 * a changed sysctl applies from the next table change; jiffies are
 * BF_LIMIT_HZ (250) as for -m limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R5 BPF_REG_5
#define R7 BPF_REG_7
#define R8 BPF_REG_8
#define R9 BPF_REG_9

#define BF_ATOMIC(sz, dst, src, off, op) \
	BF_INSN(BPF_STX | BPF_SIZE(sz) | BPF_ATOMIC, dst, src, off, op)

/* Scratch (r8) bytes the limiter uses, after REJECT's reply areas. */
#define RL_KEY		1424	/* 16: map key */
#define RL_VAL		1440	/* 8: a new entry's value */
#define RL_NOW		1448	/* u32 jiffies */
#define RL_INCR		1452	/* u32 global credit increase */
#define HZ_		BF_LIMIT_HZ
#define XRLIM_BURST	6
#define BF_ICMPRL_TRIES	4

_Static_assert(RL_INCR + 4 <= BF_SCRATCH_SIZE, "scratch too small for the ICMP rate limiter");

struct icmprl {
	bool limit;		/* the type is in the ratemask */
	uint32_t timeout;	/* peer timeout, jiffies */
	uint32_t per_sec;	/* icmp_msgs_per_sec */
	int32_t burst;		/* icmp_msgs_burst */
};

static long icmprl_read(const char *path, long dflt)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	long v = dflt;

	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

/* Is `type` in a bitmap sysctl written as ranges ("0-1,3-127")? */
static bool icmprl_in_list(const char *path, unsigned int type, bool dflt)
{
	char buf[512], *p, *save = NULL;
	FILE *f = fopen(path, "re");
	bool in = false;

	if (!f)
		return dflt;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return dflt;
	}
	fclose(f);
	for (p = strtok_r(buf, ",\n", &save); p; p = strtok_r(NULL, ",\n", &save)) {
		char *dash = strchr(p, '-');
		unsigned long lo = strtoul(p, NULL, 10);
		unsigned long hi = dash ? strtoul(dash + 1, NULL, 10) : lo;

		if (type >= lo && type <= hi)
			in = true;
	}
	return in;
}

/* proc_dointvec_ms_jiffies: msecs_to_jiffies(), rounding up */
static uint32_t icmprl_ms_to_jiffies(long ms)
{
	if (ms <= 0)
		return 0;
	return (uint32_t)(((uint64_t)ms * HZ_ + 999) / 1000);
}

static void icmprl_params(bool v6, struct icmprl *p)
{
	if (v6) {
		p->limit = icmprl_in_list("/proc/sys/net/ipv6/icmp/ratemask", 1, true);
		p->timeout = icmprl_ms_to_jiffies(icmprl_read("/proc/sys/net/ipv6/icmp/ratelimit", 100));
	} else {
		long mask = icmprl_read("/proc/sys/net/ipv4/icmp_ratemask", 0x1818);

		p->limit = mask & (1 << 3);
		p->timeout = icmprl_ms_to_jiffies(icmprl_read("/proc/sys/net/ipv4/icmp_ratelimit", 1000));
	}
	p->per_sec = (uint32_t)icmprl_read("/proc/sys/net/ipv4/icmp_msgs_per_sec", 1000);
	p->burst = (int32_t)icmprl_read("/proc/sys/net/ipv4/icmp_msgs_burst", 50);
	/* the products below stay within 64 bits, the caps within 32 */
	if (p->timeout > (1u << 28))
		p->timeout = 1u << 28;
}

/* r9 = the entry of the key at r8 + RL_KEY, created from r8 + RL_VAL when missing; `fail` if neither */
static void icmprl_entry(struct bf_emit *e, uint32_t fail)
{
	uint32_t found = bf_label_new(e);

	bf_emit_ld_map(e, R1, BF_MAP_ICMPRL);
	bf_emit(e, BPF_MOV64_REG(R2, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, RL_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), found);
	bf_emit_ld_map(e, R1, BF_MAP_ICMPRL);
	bf_emit(e, BPF_MOV64_REG(R2, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, RL_KEY));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, RL_VAL));
	bf_emit(e, BPF_MOV64_IMM(R4, BPF_NOEXIST));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));
	bf_emit_ld_map(e, R1, BF_MAP_ICMPRL);
	bf_emit(e, BPF_MOV64_REG(R2, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, RL_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), fail);
	bf_label_bind(e, found);
	bf_emit(e, BPF_MOV64_REG(R9, R0));
}

static void icmprl_key_global(struct bf_emit *e)
{
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, RL_KEY, -1));
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, RL_KEY + 8, -1));
}

/* *(u32 *)(r8 + RL_NOW) = jiffies */
static void icmprl_now(struct bf_emit *e)
{
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_jiffies64));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R0, RL_NOW));
}

/* icmp_global_allow(): falls through when allowed, jumps to `limited` */
static void icmprl_global(struct bf_emit *e, const struct icmprl *p, uint32_t limited,
			  uint32_t fail_open)
{
	uint32_t ok = bf_label_new(e), capped = bf_label_new(e);
	int i;

	icmprl_key_global(e);
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, RL_VAL, 0));		/* credit 0, stamp 0 */
	icmprl_entry(e, fail_open);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R9, 0));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JSGT, R1, 0, 0), ok);
	icmprl_now(e);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R9, 4));		/* oldstamp */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R8, RL_NOW));
	bf_emit(e, BPF_ALU32_REG(BPF_SUB, R3, R2));		/* delta = min(now - oldstamp, HZ) */
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLE, R3, HZ_, 0), capped);
	bf_emit(e, BPF_MOV32_IMM(R3, HZ_));
	bf_label_bind(e, capped);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JLT, R3, HZ_ / 50, 0), limited);
	bf_emit(e, BPF_ALU64_IMM(BPF_MUL, R3, (int32_t)p->per_sec));
	bf_emit(e, BPF_ALU64_IMM(BPF_DIV, R3, HZ_));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R3, 0, 0), limited);
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R3, RL_INCR));
	bf_emit(e, BPF_MOV64_REG(R0, R2));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, RL_NOW));
	bf_emit(e, BF_ATOMIC(BPF_W, R9, R1, 4, BPF_CMPXCHG));	/* move the stamp */
	bf_emit_jmp(e, BPF_JMP32_REG(BPF_JNE, R0, R2, 0), ok);
	for (i = 0; i < BF_ICMPRL_TRIES; i++) {			/* credit = min(credit + incr, burst) */
		uint32_t fits = bf_label_new(e);

		bf_emit(e, BPF_LDX_MEM(BPF_W, R0, R9, 0));
		bf_emit(e, BPF_MOV32_REG(R4, R0));
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, RL_INCR));
		bf_emit(e, BPF_ALU32_REG(BPF_ADD, R1, R0));
		bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JSLE, R1, p->burst, 0), fits);
		bf_emit(e, BPF_MOV32_IMM(R1, p->burst));
		bf_label_bind(e, fits);
		bf_emit(e, BF_ATOMIC(BPF_W, R9, R1, 0, BPF_CMPXCHG));
		bf_emit_jmp(e, BPF_JMP32_REG(BPF_JEQ, R0, R4, 0), ok);
	}
	bf_label_bind(e, ok);
}

/* the reply's destination (the packet's source) at r8 + RL_KEY */
static void icmprl_key_peer(struct bf_emit *e, bool v6)
{
	int i;

	if (v6) {
		for (i = 0; i < 16; i += 8) {
			bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_SADDR6 + i));
			bf_emit(e, BPF_STX_MEM(BPF_DW, R8, R1, RL_KEY + i));
		}
		return;
	}
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, RL_KEY + 8, 0));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, RL_KEY + 4, 0));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_SADDR));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, RL_KEY));
}

/* inet_peer_xrlim_allow(): jumps to `limited` when the peer has no token */
static void icmprl_peer(struct bf_emit *e, const struct icmprl *p, bool v6, uint32_t limited,
			uint32_t fail_open)
{
	uint32_t done = bf_label_new(e);
	uint32_t cap = XRLIM_BURST * p->timeout;
	int i;

	icmprl_key_peer(e, v6);
	icmprl_now(e);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, RL_NOW));	/* new peer: rate_last = now - 60 * HZ, tokens 0 */
	bf_emit(e, BPF_ALU32_IMM(BPF_SUB, R1, 60 * HZ_));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 32));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R8, R1, RL_VAL));
	icmprl_entry(e, fail_open);
	for (i = 0; i < BF_ICMPRL_TRIES; i++) {
		uint32_t same = bf_label_new(e), capped = bf_label_new(e), poor = bf_label_new(e);

		bf_emit(e, BPF_LDX_MEM(BPF_DW, R4, R9, 0));	/* old word */
		bf_emit(e, BPF_MOV32_REG(R2, R4));		/* tokens */
		bf_emit(e, BPF_MOV64_REG(R3, R4));
		bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R3, 32));	/* rate_last */
		bf_emit(e, BPF_LDX_MEM(BPF_W, R5, R8, RL_NOW));
		bf_emit(e, BPF_MOV32_REG(R0, R5));
		bf_emit(e, BPF_ALU32_REG(BPF_SUB, R0, R3));	/* delta */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), same);
		bf_emit(e, BPF_MOV64_REG(R3, R5));
		bf_emit(e, BPF_ALU64_REG(BPF_ADD, R2, R0));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R2, cap, 0), same);
		bf_emit(e, BPF_MOV64_IMM(R2, cap));
		bf_label_bind(e, same);
		bf_emit(e, BPF_MOV64_IMM(R1, 0));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, p->timeout, 0), poor);
		bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R2, p->timeout));
		bf_emit(e, BPF_MOV64_IMM(R1, 1));
		bf_label_bind(e, poor);
		bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R3, 32));
		bf_emit(e, BPF_ALU64_REG(BPF_OR, R3, R2));
		bf_emit(e, BPF_MOV64_REG(R0, R4));
		bf_emit(e, BF_ATOMIC(BPF_DW, R9, R3, 0, BPF_CMPXCHG));
		bf_emit_jmp(e, BPF_JMP_REG(BPF_JEQ, R0, R4, 0), done);
		(void)capped;
	}
	bf_label_bind(e, done);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), limited);
}

/* icmp_global_consume(): credit -= get_random_u32_below(3) */
static void icmprl_consume(struct bf_emit *e)
{
	uint32_t none = bf_label_new(e);

	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_get_prandom_u32));
	bf_emit(e, BPF_ALU32_IMM(BPF_MOD, R0, 3));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), none);
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R0, RL_INCR));
	icmprl_key_global(e);
	bf_emit_ld_map(e, R1, BF_MAP_ICMPRL);
	bf_emit(e, BPF_MOV64_REG(R2, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, RL_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), none);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, RL_INCR));
	bf_emit(e, BPF_ALU32_IMM(BPF_NEG, R1, 0));
	bf_emit(e, BF_ATOMIC(BPF_W, R0, R1, 0, BPF_ADD));
	bf_label_bind(e, none);
}

void bf_gen_icmp_ratelimit(struct bf_gen *g, bool v6, uint32_t limited)
{
	struct bf_emit *e = &g->e;
	uint32_t pass = bf_label_new(e);
	struct icmprl p;

	/*
	 * OUTPUT: nf_send_unreach{,6}() gives the local packet the loopback
	 * device, and icmp_send()/icmp6_send() limit nothing from loopback.
	 */
	if (g->opts.hook == BF_HOOK_TC_EGRESS)
		return;
	icmprl_params(v6, &p);
	if (!p.limit)
		return;
	icmprl_global(e, &p, limited, pass);
	if (p.timeout)
		icmprl_peer(e, &p, v6, limited, pass);
	icmprl_consume(e);
	bf_label_bind(e, pass);
}
