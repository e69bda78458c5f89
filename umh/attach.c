// SPDX-License-Identifier: GPL-2.0
/*
 * Two families on one device (ATTACH mode).
 *
 * A device has one XDP program (driver mode) and bpfilter's one clsact
 * filter per direction, yet carries an IPv4 and an IPv6 table. What is
 * attached is one program per hook built from the two families' generated
 * programs:
 *
 *   prologue   ethertype 0x0800 -> main4, 0x86dd -> main6, else pass
 *   main4      the IPv4 program's entry function, unchanged
 *   main6      the IPv6 program's entry function, unchanged
 *   subs4      the IPv4 program's global functions (chains, pieces)
 *   subs6      the IPv6 program's
 *
 * Each block keeps its own jumps; calls into the moved functions are
 * re-pointed and the map loads of each half use that family's maps, so
 * the two tables share nothing but the entry point. Replacing one family
 * rebuilds and reloads the program with the other family's code and maps
 * as they are (its counters keep counting in its maps) and swaps it in
 * atomically per device (XDP_FLAGS_REPLACE, the clsact filter replaced in
 * place), as a single-family program was swapped before.
 *
 * Why not a dispatcher tail-calling through a prog array (one map update
 * per replacement): the kernel empties a prog array when its last user
 * reference (fd or bpffs pin) goes away, so a killed daemon would leave
 * the dispatcher passing everything; and pins live in the mount namespace
 * `ip netns exec` gives the daemon. Plain programs and maps are held by
 * the attachment itself and keep filtering without the daemon.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <arpa/inet.h>

#include "bpfilter/log.h"
#include "insn.h"
#include "internal.h"

#define ATT_PROLOGUE_MAX	16

static const char *const att_hook_names[UMH_NR_HOOKS] = {
	[BF_HOOK_XDP] = "xdp",
	[BF_HOOK_TC_INGRESS] = "tc ingress",
	[BF_HOOK_TC_EGRESS] = "tc egress",
};

void umh_att_close(int fds[UMH_NR_HOOKS])
{
	int i;

	for (i = 0; i < UMH_NR_HOOKS; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* One family's program inside the combined one. */
struct att_part {
	int family;
	const struct bf_prog *prog;
	const struct bf_maps *maps;
	uint32_t main_len;	/* insns of its entry function */
	uint32_t main_at;	/* where the entry function goes */
	uint32_t subs_at;	/* where its global functions go */
};

static uint32_t att_map(const struct att_part *p, uint32_t old)
{
	return old < p->main_len ? p->main_at + old :
				   p->subs_at + (old - p->main_len);
}

static bool att_is_ld64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_DW | BPF_IMM);
}

/*
 * The prologue: pick the family by ethertype. `to4` and `to6` are
 * filled with the indexes of the two jumps to patch.
 */
static uint32_t att_prologue(enum bf_hook hook, struct bpf_insn *out,
			     uint32_t *to4, uint32_t *to6)
{
	uint32_t n = 0;

	if (hook == BF_HOOK_XDP) {
		out[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1,
							offsetof(struct xdp_md, data));
		out[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_3, BPF_REG_1,
							offsetof(struct xdp_md, data_end));
		out[n++] = BPF_MOV64_REG(BPF_REG_4, BPF_REG_2);
		out[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, ETH_HLEN);
		/* too short for an Ethernet header: to the pass at the end */
		out[n++] = BPF_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 3);
		out[n++] = BPF_LDX_MEM(BPF_H, BPF_REG_4, BPF_REG_2, 12);
	} else {
		out[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_4, BPF_REG_1,
							offsetof(struct __sk_buff, protocol));
	}
	*to4 = n;
	out[n++] = BPF_JMP_IMM(BPF_JEQ, BPF_REG_4, htons(ETH_P_IP), 0);
	*to6 = n;
	out[n++] = BPF_JMP_IMM(BPF_JEQ, BPF_REG_4, htons(ETH_P_IPV6), 0);
	out[n++] = BPF_MOV64_IMM(BPF_REG_0,
			hook == BF_HOOK_XDP ? XDP_PASS : TC_ACT_OK);
	out[n++] = BPF_EXIT_INSN();
	return n;
}

/* Copy p's instructions into place: calls re-pointed, maps resolved. */
static int att_copy(const struct att_part *p, struct bpf_insn *out,
		    struct bf_err *err)
{
	const struct bf_prog *prog = p->prog;
	uint32_t pc, at, target, i;

	for (pc = 0; pc < prog->n_insns; pc++) {
		const struct bpf_insn *in = &prog->insns[pc];

		at = att_map(p, pc);
		out[at] = *in;
		if ((in->code == (BPF_JMP | BPF_CALL) &&
		     in->src_reg == BPF_PSEUDO_CALL) ||
		    (att_is_ld64(in) && in->src_reg == BPF_PSEUDO_FUNC)) {
			target = pc + 1 + in->imm;
			out[at].imm = (int32_t)(att_map(p, target) - (at + 1));
		}
		if (att_is_ld64(in) && pc + 1 < prog->n_insns) {
			pc++;
			out[att_map(p, pc)] = prog->insns[pc];
		}
	}
	for (i = 0; i < prog->n_relocs; i++) {
		const struct bf_map_reloc *r = &prog->relocs[i];

		if (r->insn + 1 >= prog->n_insns || r->map >= BF_MAP_NR ||
		    p->maps->fd[r->map] < 0)
			return bf_err_set(err, -EINVAL, "insn %u: no fd for map %d",
					  r->insn, r->map);
		at = att_map(p, r->insn);
		out[at].src_reg = BPF_PSEUDO_MAP_FD;
		out[at].imm = p->maps->fd[r->map];
	}
	return 0;
}

static int att_funcs(struct bf_prog *c, const struct att_part *parts,
		     unsigned int n_parts)
{
	uint32_t n = 1, i;
	unsigned int k;

	for (k = 0; k < n_parts; k++)
		n += parts[k].prog->n_funcs - 1;
	c->funcs = calloc(n, sizeof(*c->funcs));
	if (!c->funcs)
		return -ENOMEM;
	c->funcs[0].insn = 0;
	snprintf(c->funcs[0].name, sizeof(c->funcs[0].name), "%s",
		 parts[0].prog->funcs[0].name);
	c->n_funcs = 1;
	for (k = 0; k < n_parts; k++) {
		const struct bf_prog *p = parts[k].prog;

		for (i = 1; i < p->n_funcs; i++) {
			struct bf_func *f = &c->funcs[c->n_funcs++];

			f->insn = att_map(&parts[k], p->funcs[i].insn);
			f->family = parts[k].family;
			/* the IPv6 half's functions end in "6" where there is room */
			snprintf(f->name, sizeof(f->name), "%.30s%s",
				 p->funcs[i].name,
				 parts[k].family == AF_INET6 ? "6" : "");
		}
	}
	return 0;
}

/*
 * The program of `hook` for the tables t4 and t6 (either may be NULL or
 * have no program there): a bf_prog with its maps already resolved.
 */
static int att_combine(enum bf_hook hook, const struct umh_table *t4,
		       const struct umh_table *t6, struct bf_prog *c,
		       struct bf_err *err)
{
	const struct umh_table *tabs[2] = { t4, t6 };
	struct att_part parts[2];
	struct bpf_insn pro[ATT_PROLOGUE_MAX];
	uint32_t n_pro, to[2], at, pass, k, n = 0;
	int r;

	memset(c, 0, sizeof(*c));
	c->hook = hook;
	c->family = AF_INET;	/* its IPv6 functions say so (bf_func.family) */
	n_pro = att_prologue(hook, pro, &to[0], &to[1]);
	pass = to[1] + 1;
	for (k = 0; k < 2; k++) {
		const struct bf_prog *p = tabs[k] ? tabs[k]->progs[hook] : NULL;

		if (!p || !p->n_insns || !p->n_funcs)
			continue;
		c->ct_families |= p->ct_families;
		parts[n] = (struct att_part){
			.family = tabs[k]->family,
			.prog = p,
			.maps = &tabs[k]->maps,
			.main_len = p->n_funcs > 1 ? p->funcs[1].insn : p->n_insns,
		};
		n++;
	}
	if (!n)
		return bf_err_set(err, -EINVAL, "no program for the %s hook",
				  att_hook_names[hook]);
	at = n_pro;
	for (k = 0; k < n; k++) {
		parts[k].main_at = at;
		at += parts[k].main_len;
	}
	for (k = 0; k < n; k++) {
		parts[k].subs_at = at;
		at += parts[k].prog->n_insns - parts[k].main_len;
	}
	/* the prologue's jumps: to each family's entry, or to the pass */
	for (k = 0; k < 2; k++) {
		uint32_t target = pass, j;

		for (j = 0; j < n; j++)
			if (parts[j].family == (k ? AF_INET6 : AF_INET))
				target = parts[j].main_at;
		if (target - (to[k] + 1) > INT16_MAX)
			return bf_err_set(err, -E2BIG, "the IPv4 entry function is too long to jump over");
		pro[to[k]].off = (int16_t)(target - (to[k] + 1));
	}
	c->insns = calloc(at, sizeof(*c->insns));
	if (!c->insns)
		return -ENOMEM;
	c->n_insns = at;
	memcpy(c->insns, pro, n_pro * sizeof(*pro));
	for (k = 0; k < n; k++) {
		r = att_copy(&parts[k], c->insns, err);
		if (r)
			return r;
	}
	return att_funcs(c, parts, n);
}

static void att_free(struct bf_prog *c)
{
	free(c->insns);
	free(c->funcs);
	memset(c, 0, sizeof(*c));
}

/* Load the program of every hook of this helper for (t4, t6) into fds. */
static int att_load(struct bf_umh *umh, const struct umh_table *t4,
		    const struct umh_table *t6, int fds[UMH_NR_HOOKS],
		    struct bf_err *err)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	struct bf_maps none = { .n_counters = 0 };
	struct bf_prog c;
	int i, n, r;

	for (i = 0; i < BF_MAP_NR; i++)
		none.fd[i] = -1;
	for (i = 0; i < UMH_NR_HOOKS; i++)
		fds[i] = -1;
	n = umh_hooks(umh, hooks);
	for (i = 0; i < n; i++) {
		r = att_combine(hooks[i], t4, t6, &c, err);
		if (!r)
			r = bf_prog_load(&c, &none, err);
		att_free(&c);
		if (r < 0) {
			umh_att_close(fds);
			return r;
		}
		fds[hooks[i]] = r;
	}
	return 0;
}

static const char *att_ifname(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

static bool att_device_gone(int ifindex)
{
	char name[IF_NAMESIZE];

	return !if_indextoname(ifindex, name) && errno == ENXIO;
}

/* Put back what was at (hook, ifindex): old_fd, or nothing. */
static void att_undo(int old_fd, enum bf_hook hook, int ifindex)
{
	char name[IF_NAMESIZE];
	struct bf_err err = {};
	int r;

	if (old_fd >= 0)
		r = bf_attach(hook, ifindex, old_fd, &err);
	else
		r = bf_detach(hook, ifindex);
	if (r)
		bf_err("device %s: cannot restore the previous %s program: %s",
		       att_ifname(ifindex, name), att_hook_names[hook],
		       err.msg[0] ? err.msg : strerror(-r));
	bf_err_clear(&err);
}

static void att_msg(struct bf_err *err, int r, int ifindex, enum bf_hook hook)
{
	char name[IF_NAMESIZE], why[sizeof(err->msg)];

	if (!err)
		return;
	snprintf(why, sizeof(why), "%s", err->msg[0] ? err->msg : strerror(-r));
	bf_err_set(err, r, "device %s: cannot attach the %s program: %s",
		   att_ifname(ifindex, name), att_hook_names[hook], why);
}

/* Attach `fds` everywhere; on failure put `old_fds` back where we got. */
static int att_attach(struct bf_umh *umh, const int *fds, const int *old_fds,
		      struct bf_err *err)
{
	enum bf_hook hooks[UMH_NR_HOOKS];
	unsigned int i, j;
	int n, h, r;

	n = umh_hooks(umh, hooks);
	for (i = 0; i < umh->n_ifindexes; i++) {
		for (h = 0; h < n; h++) {
			r = bf_attach(hooks[h], umh->ifindexes[i], fds[hooks[h]],
				      err);
			if (r && att_device_gone(umh->ifindexes[i])) {
				/* Nothing left to filter there; the daemon re-attaches if it comes back. */
				bf_warn("device #%d is gone: not attaching there",
					umh->ifindexes[i]);
				bf_err_clear(err);
				break;
			}
			if (r)
				goto err_undo;
		}
	}
	return 0;

err_undo:
	att_msg(err, r, umh->ifindexes[i], hooks[h]);
	while (h-- > 0)
		att_undo(old_fds ? old_fds[hooks[h]] : -1, hooks[h],
			 umh->ifindexes[i]);
	for (j = 0; j < i; j++)
		for (h = 0; h < n; h++)
			att_undo(old_fds ? old_fds[hooks[h]] : -1, hooks[h],
				 umh->ifindexes[j]);
	return r;
}

int umh_attach_all(struct bf_umh *umh, const int *old_fds, struct bf_err *err)
{
	enum bf_hook hooks[UMH_NR_HOOKS];

	umh_hooks(umh, hooks);
	if (umh->att_fds[hooks[0]] < 0)
		return 0;
	return att_attach(umh, umh->att_fds, old_fds, err);
}

/* Does a table have a tc egress observer that does something (XDP)? */
static bool att_observes(const struct umh_table *t4, const struct umh_table *t6)
{
	const struct umh_table *tabs[2] = { t4, t6 };
	int k;

	for (k = 0; k < 2; k++)
		if (tabs[k] && tabs[k]->progs[BF_HOOK_TC_EGRESS] &&
		    tabs[k]->progs[BF_HOOK_TC_EGRESS]->n_insns > 2)
			return true;
	return false;
}

int umh_install(struct bf_umh *umh, struct umh_table *t, struct bf_err *err)
{
	const struct umh_table *t4 = t && t->family == AF_INET ? t : umh->t4;
	const struct umh_table *t6 = t && t->family == AF_INET6 ? t : umh->t6;
	bool observe = umh->xdp_observe;
	int fds[UMH_NR_HOOKS], r;

	if (umh->hook == BF_HOOK_XDP && att_observes(t4, t6))
		umh->xdp_observe = true;
	r = att_load(umh, t4, t6, fds, err);
	if (!r)
		r = att_attach(umh, fds, umh->att_fds, err);
	if (r) {
		umh_att_close(fds);
		umh->xdp_observe = observe;
		return r;
	}
	umh_att_close(umh->att_fds);
	memcpy(umh->att_fds, fds, sizeof(fds));
	return 0;
}
