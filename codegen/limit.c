// SPDX-License-Identifier: GPL-2.0
/*
 * -m limit's token bucket in C: the arithmetic of the kernel's xt_limit.c
 * (limit_mt(), user2credits()), for the front-end's checkentry, the
 * loader's initial bucket and the interpreter. The BPF version is
 * gen_limit() in gen_chain.c; both keep the kernel's u32 wrap-arounds.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <unistd.h>

#include "bpfilter/codegen.h"
#include "insn.h"

#define LIMIT_SCALE	10000	/* XT_LIMIT_SCALE */

uint32_t bf_limit_user2credits(uint32_t user)
{
	const uint32_t k = BF_LIMIT_HZ * BF_LIMIT_CREDITS_PER_JIFFY;

	/* divide first when multiplying would overflow */
	if (user > UINT32_MAX / k)
		return (user / LIMIT_SCALE) * k;
	return (user * k) / LIMIT_SCALE;
}

void bf_limit_init(const struct bf_pred *pred, uint64_t now,
		   struct bf_limit_state *st)
{
	st->prev = now;
	st->credit = bf_limit_user2credits(pred->value * pred->lo);
	st->pad = 0;
}

bool bf_limit_take(const struct bf_pred *pred, uint64_t now,
		   struct bf_limit_state *st)
{
	uint32_t credit;

	if (st->credit < pred->hi && st->prev == now)
		return false;
	credit = st->credit +
		 (uint32_t)((now - st->prev) * BF_LIMIT_CREDITS_PER_JIFFY);
	st->prev = now;
	if (credit > pred->mask)
		credit = pred->mask;
	if (credit < pred->hi) {
		st->credit = credit;
		return false;
	}
	st->credit = credit - pred->hi;
	return true;
}

/* r0 = bpf_jiffies64() >> shift; exit */
static int limit_jiffies_part(int shift, uint32_t *out)
{
	struct bpf_insn prog[] = {
		BPF_EMIT_CALL(BPF_FUNC_jiffies64),
		BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, shift),
		BPF_EXIT_INSN(),
	};
	uint8_t pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int fd, r;

	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bpfilter_jif", "GPL",
			   prog, sizeof(prog) / sizeof(prog[0]), NULL);
	if (fd < 0)
		return -errno;
	r = bpf_prog_test_run_opts(fd, &opts);
	r = r ? -errno : 0;
	close(fd);
	*out = opts.retval;
	return r;
}

int bf_jiffies_now(uint64_t *now)
{
	uint32_t hi, lo, hi2;
	int tries, r;

	for (tries = 0; tries < 4; tries++) {
		r = limit_jiffies_part(32, &hi);
		if (!r)
			r = limit_jiffies_part(0, &lo);
		if (!r)
			r = limit_jiffies_part(32, &hi2);
		if (r)
			return r;
		if (hi == hi2) {
			*now = (uint64_t)hi << 32 | lo;
			return 0;
		}
	}
	return -EAGAIN;
}
