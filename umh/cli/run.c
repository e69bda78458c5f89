// SPDX-License-Identifier: GPL-2.0
/* One frame through BPF_PROG_TEST_RUN, and the verdict it got. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "cli.h"

bool bf_cli_verbose;

int bf_cli_set_test_ifs(int map_fd, uint32_t iif, uint32_t oif)
{
	struct bf_test_ifs v = { .iif = iif, .oif = oif };
	uint32_t key = 0;

	if (bpf_map_update_elem(map_fd, &key, &v, BPF_ANY)) {
		fprintf(stderr, "bpfilter test: cannot set the test interfaces: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* XDP_PASS and TC_ACT_SHOT are both 2: the hook decides what a code means. */
static int run_verdict(enum bf_hook hook, int code)
{
	if (hook == BF_HOOK_XDP) {
		if (code == XDP_PASS)
			return 1;
		/* XDP_TX: -j REJECT sent its reply instead; the packet is dropped */
		if (code == XDP_DROP || code == XDP_TX)
			return 0;
	} else {
		if (code == TC_ACT_OK)
			return 1;
		/* TC_ACT_REDIRECT: -j REJECT's reply, as above */
		if (code == TC_ACT_SHOT || code == TC_ACT_REDIRECT)
			return 0;
	}
	fprintf(stderr, "bpfilter test: the %s program returned %d, neither ACCEPT nor DROP\n",
		bf_cli_hook_name(hook), code);
	return -EPROTO;
}

int bf_cli_run_frame(int prog_fd, enum bf_hook hook, const void *frame,
		     size_t len)
{
	return bf_cli_run_frame_mark(prog_fd, hook, frame, len, 0);
}

int bf_cli_run_frame_mark(int prog_fd, enum bf_hook hook, const void *frame,
			  size_t len, uint32_t mark)
{
	struct __sk_buff skb = { .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = (__u32)len,
		.repeat = 1,
	);
	int r;

	/* tc programs see skb->mark; XDP has none (mark= is ignored there) */
	if (hook != BF_HOOK_XDP && mark) {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
	}

	r = bpf_prog_test_run_opts(prog_fd, &opts);
	if (r) {
		r = errno ? -errno : r;
		fprintf(stderr, "bpfilter test: BPF_PROG_TEST_RUN failed: %s\n",
			strerror(-r));
		return r;
	}
	if (bf_cli_verbose)
		fprintf(stderr, "bpfilter test: %zu-byte frame: %s program returned %d\n",
			len, bf_cli_hook_name(hook), (int)opts.retval);
	return run_verdict(hook, (int)opts.retval);
}
