// SPDX-License-Identifier: GPL-2.0
/*
 * Targets with side effects, emitted inline in a rule's hit block of a
 * chain or piece function (r6 = ctx, r7 = pkt; see gen.h), after its
 * counter:
 *
 * -j LOG: reserve a struct bf_logrec in the table's ring buffer
 *   (BF_MAP_LOG), fill it (rule, devices, mark, hook, level, flags, prefix
 *   as immediates, the Ethernet header at ingress, the first
 *   BF_LOGREC_CAP bytes of the datagram) and submit it; the packet then
 *   goes on with the next rule. A full ring loses the record (the kernel's
 *   printk can lose lines too); the verdict never depends on it. r8 holds
 *   the record (chain functions keep nothing else in r8).
 */
#include <errno.h>
#include <string.h>
#include <linux/btf.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <bpf/btf.h>

#include "bpfilter/logrec.h"
#include "gen.h"

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R5 BPF_REG_5
#define R6 BPF_REG_6
#define R7 BPF_REG_7
#define R8 BPF_REG_8
#define R9 BPF_REG_9

#define GEN_ETH_HLEN	14

static int gen_load_fn(const struct bf_gen *g)
{
	return g->opts.hook == BF_HOOK_XDP ? BPF_FUNC_xdp_load_bytes :
					     BPF_FUNC_skb_load_bytes;
}

/* r8 + off = the packet's Ethernet header; r0 != 0 on failure */
static void gen_load_eth(struct bf_gen *g, int off)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, off));
	bf_emit(e, BPF_MOV64_IMM(R4, GEN_ETH_HLEN));
	bf_emit(e, BPF_EMIT_CALL(gen_load_fn(g)));
}

/* dreg + doff = the address at sreg + soff (through r1): one word, or IPv6's two double words */
static void gen_addr_copy(struct bf_emit *e, int dreg, int doff, int sreg, int soff, bool v6)
{
	int i;

	if (!v6) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, sreg, soff));
		bf_emit(e, BPF_STX_MEM(BPF_W, dreg, R1, doff));
		return;
	}
	for (i = 0; i < 16; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, sreg, soff + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, dreg, R1, doff + i));
	}
}

/* The constant part of the record: rule, level, flags, prefix. */
static void gen_log_consts(struct bf_gen *g, const struct bf_rule *r)
{
	struct bf_emit *e = &g->e;
	char prefix[32] = { 0 };
	uint32_t w;
	int i;

	memcpy(prefix, r->log.prefix, strnlen(r->log.prefix, sizeof(r->log.prefix)));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_RULE, r->index));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_LEVEL, r->log.level));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_FLAGS, r->log.flags));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_HASMAC,
			      g->opts.hook != BF_HOOK_TC_EGRESS));
	for (i = 0; i < 32; i += 4) {
		memcpy(&w, prefix + i, 4);
		bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_PREFIX + i, (int32_t)w));
	}
}

/* Devices, hook, mark and lengths from pkt and ctx. */
static void gen_log_pkt(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_IIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_IIF));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_OIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_OIF));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
	bf_emit(e, BPF_STX_MEM(BPF_B, R8, R1, BF_LOGREC_OFF_HOOK));
	if (g->opts.hook == BF_HOOK_XDP) {
		bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_MARK, 0));
	} else {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, offsetof(struct __sk_buff, mark)));
		bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_MARK));
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_LEN));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, BF_LOGREC_OFF_TOTLEN));
}

/* mac[] = the Ethernet header (ingress) or zeroes; r0 != 0 on failure. */
static void gen_log_mac(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, BF_LOGREC_OFF_MAC, 0));
	bf_emit(e, BPF_ST_MEM(BPF_DW, R8, BF_LOGREC_OFF_MAC + 8, 0));
	if (g->opts.hook == BF_HOOK_TC_EGRESS) {
		bf_emit(e, BPF_MOV64_IMM(R0, 0));
		return;
	}
	gen_load_eth(g, BF_LOGREC_OFF_MAC);
}

/* data[] = min(totlen, CAP) bytes from the IPv4 header; r0 != 0 on failure. */
static void gen_log_data(struct bf_gen *g, uint32_t fail)
{
	struct bf_emit *e = &g->e;
	uint32_t ok = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R4, R7, BF_PKT_LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R4, BF_LOGREC_CAP, 0), ok);
	bf_emit(e, BPF_MOV64_IMM(R4, BF_LOGREC_CAP));
	bf_label_bind(e, ok);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R4, 1, 0), fail);
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R4, BF_LOGREC_OFF_CAPLEN));
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, BF_PKT_L3OFF));	/* u16: ctstate is the upper half */
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, BF_LOGREC_OFF_DATA));
	bf_emit(e, BPF_EMIT_CALL(gen_load_fn(g)));
}

/*
 * --log-uid: nf_log_dump_sk_uid_gid() prints the fsuid/fsgid of
 * skb->sk->sk_socket->file->f_cred when skb->sk is a full socket with a
 * file. The offsets of that walk come from the kernel's BTF
 * (/sys/kernel/btf/vmlinux), read once per process; 0 or a negative errno.
 */
struct log_cred_off {
	int err;
	uint32_t sk_socket, file, f_cred, fsuid, fsgid;
};

/* byte offset of member `name` of struct `sname`, looking into anonymous members */
static int log_btf_member(const struct btf *btf, int id, const char *name, uint32_t base)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	int i, n, ret;

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_composite(t))
		return -ENOENT;
	m = btf_members(t);
	n = btf_vlen(t);
	for (i = 0; i < n; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		uint32_t off = base + btf_member_bit_offset(t, i) / 8;

		if (mn && !strcmp(mn, name))
			return (int)off;
		if ((!mn || !mn[0]) && (ret = log_btf_member(btf, m->type, name, off)) >= 0)
			return ret;
	}
	return -ENOENT;
}

static int log_btf_off(const struct btf *btf, const char *sname, const char *name,
		       uint32_t *out)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT), off;

	if (id < 0)
		return -ENOENT;
	off = log_btf_member(btf, id, name, 0);
	if (off < 0)
		return off;
	*out = (uint32_t)off;
	return 0;
}

static const struct log_cred_off *log_cred_off_get(void)
{
	static struct log_cred_off o;
	static bool done;
	struct btf *vm;

	if (done)
		return &o;
	done = true;
	vm = btf__load_vmlinux_btf();
	if (!vm) {
		o.err = -ENOENT;
		return &o;
	}
	o.err = log_btf_off(vm, "sock", "sk_socket", &o.sk_socket);
	if (!o.err)
		o.err = log_btf_off(vm, "socket", "file", &o.file);
	if (!o.err)
		o.err = log_btf_off(vm, "file", "f_cred", &o.f_cred);
	if (!o.err)
		o.err = log_btf_off(vm, "cred", "fsuid", &o.fsuid);
	if (!o.err)
		o.err = log_btf_off(vm, "cred", "fsgid", &o.fsgid);
	if (!o.err && (o.fsgid != o.fsuid + 4 || o.sk_socket + 8 > BF_SCRATCH_SIZE))
		o.err = -EOPNOTSUPP;
	btf__free(vm);
	return &o;
}

/* r1 = *(u64 *)r9 after bpf_probe_read_kernel(r9, 8, r1 + off); no_cred when it fails or is NULL */
static void gen_log_deref(struct bf_emit *e, uint32_t off, uint32_t no_cred)
{
	bf_emit(e, BPF_MOV64_REG(R3, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, (int32_t)off));
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_MOV64_IMM(R2, 8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), no_cred);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R9, 0));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), no_cred);
}

/*
 * r3 = a full socket: uid/gid/has_cred from sock -> socket -> file -> cred
 * with bpf_probe_read_kernel() through the scratch buffer (r9; a socket
 * pointer takes no arithmetic, so the first read copies struct sock up to
 * sk_socket); jumps to `fail` when a pointer is NULL or a read fails.
 */
static void gen_log_walk(struct bf_emit *e, const struct log_cred_off *o, uint32_t fail)
{
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_MOV64_IMM(R2, o->sk_socket + 8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R9, o->sk_socket));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), fail);
	gen_log_deref(e, o->file, fail);
	gen_log_deref(e, o->f_cred, fail);
	bf_emit(e, BPF_MOV64_REG(R3, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, (int32_t)o->fsuid));
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_MOV64_IMM(R2, 8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R9, 0));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_UID));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R9, 4));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, BF_LOGREC_OFF_GID));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, BF_LOGREC_OFF_HASCRED, 1));
}

/* reg = the per-CPU scratch buffer (BF_MAP_SCRATCH), else `fail` */
static void gen_scratch(struct bf_emit *e, int reg, uint32_t fail)
{
	bf_emit(e, BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 0));
	bf_emit_ld_map(e, R1, BF_MAP_SCRATCH);
	bf_emit(e, BPF_MOV64_REG(R2, BPF_REG_10));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, -8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), fail);
	bf_emit(e, BPF_MOV64_REG(reg, R0));
}

/*
 * INPUT at XDP / tc ingress: the kernel's early demux (ip_rcv_finish ->
 * tcp_v4_early_demux / udp_v4_early_demux) has put the socket on the skb
 * before LOCAL_IN when the packet belongs to an established-hash TCP socket
 * or a connected UDP one (IPv6: tcp_v6_early_demux / udp_v6_early_demux,
 * the same rule with the 36-byte tuple). bpf_sk_lookup_tcp/udp on the packet's tuple; a
 * TCP listener, or a UDP socket not connected to the sender, is not what
 * early demux finds. The reference is kept at fp - 16 and released.
 */
/* copy n words of the packet record at from to the scratch buffer (R9) at to */
static void gen_log_copy(struct bf_emit *e, int from, int to, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, from + 4 * i));
		bf_emit(e, BPF_STX_MEM(BPF_W, R9, R1, to + 4 * i));
	}
}

static void gen_log_cred_in(struct bf_emit *e, const struct log_cred_off *o, bool v6,
			    uint32_t no_cred)
{
	uint32_t udp = bf_label_new(e), rel = bf_label_new(e);
	uint32_t walk = bf_label_new(e);
	int i;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, NF_INET_LOCAL_IN, 0), no_cred);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), no_cred);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 8, 0), no_cred);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, IPPROTO_UDP, 0), udp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, IPPROTO_TCP, 0), no_cred);
	bf_label_bind(e, udp);
	gen_scratch(e, R9, no_cred);
	/* struct bpf_sock_tuple.ipv4/.ipv6: saddr, daddr, sport, dport as received */
	if (v6) {
		gen_log_copy(e, BF_PKT_SADDR6, 0, 4);
		gen_log_copy(e, BF_PKT_DADDR6, 16, 4);
		gen_log_copy(e, BF_PKT_L4, 32, 1);
	} else {
		gen_log_copy(e, BF_PKT_SADDR, 0, 1);
		gen_log_copy(e, BF_PKT_DADDR, 4, 1);
		gen_log_copy(e, BF_PKT_L4, 8, 1);
	}
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R2, R9));
	bf_emit(e, BPF_MOV64_IMM(R3, v6 ? 36 : 12));
	bf_emit(e, BPF_MOV64_IMM(R4, -1));		/* BPF_F_CURRENT_NETNS */
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R0, R7, BF_PKT_PROTO));
	udp = bf_label_new(e);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, IPPROTO_UDP, 0), udp);
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_sk_lookup_tcp));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), no_cred);
	bf_emit(e, BPF_STX_MEM(BPF_DW, BPF_REG_10, R0, -16));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, offsetof(struct bpf_sock, state)));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 10, 0), rel);	/* TCP_LISTEN */
	bf_emit_jmp(e, BPF_JMP_A(0), walk);
	bf_label_bind(e, udp);
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_sk_lookup_udp));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), no_cred);
	bf_emit(e, BPF_STX_MEM(BPF_DW, BPF_REG_10, R0, -16));
	/* connected to the sender: the socket's peer is the packet's source */
	for (i = 0; i < (v6 ? 4 : 1); i++) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R0, v6 ? offsetof(struct bpf_sock, dst_ip6) + 4 * i :
					       offsetof(struct bpf_sock, dst_ip4)));
		bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, v6 ? BF_PKT_SADDR6 + 4 * i : BF_PKT_SADDR));
		bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), rel);
	}
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R0, offsetof(struct bpf_sock, dst_port)));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, BF_PKT_L4));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), rel);
	bf_label_bind(e, walk);
	bf_emit(e, BPF_MOV64_REG(R3, R0));
	gen_log_walk(e, o, rel);
	bf_label_bind(e, rel);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, BPF_REG_10, -16));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_sk_release));
}

/*
 * uid/gid/has_cred of the record. At tc egress (OUTPUT) skb->sk is the
 * sending socket (bpf_sk_fullsock()); at XDP and tc ingress, INPUT, the
 * socket early demux would attach (gen_log_cred_in). FORWARD: none.
 */
static void gen_log_cred(struct bf_gen *g, const struct bf_rule *r)
{
	const struct log_cred_off *o = log_cred_off_get();
	struct bf_emit *e = &g->e;
	uint32_t no_cred = bf_label_new(e);

	bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_UID, 0));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_GID, 0));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, BF_LOGREC_OFF_HASCRED, 0));
	if (!(r->log.flags & XT_LOG_UID) || o->err)
		goto out;
	if (g->opts.hook != BF_HOOK_TC_EGRESS) {
		gen_log_cred_in(e, o, g->v6, no_cred);
		goto out;
	}
	gen_scratch(e, R9, no_cred);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R6, offsetof(struct __sk_buff, sk)));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), no_cred);
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_sk_fullsock));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), no_cred);
	bf_emit(e, BPF_MOV64_REG(R3, R0));
	gen_log_walk(e, o, no_cred);
out:
	bf_label_bind(e, no_cred);
}

/* --log-uid needs the BTF offsets of the socket -> file -> cred walk */
static int gen_log_check(struct bf_gen *g, const struct bf_rule *r)
{
	const struct log_cred_off *o;

	if (!(r->log.flags & XT_LOG_UID))
		return 0;
	o = log_cred_off_get();
	if (!o->err)
		return 0;
	return bf_err_set(g->err, o->err,
			  "table %s: rule %u: --log-uid needs the kernel's BTF (/sys/kernel/btf/vmlinux) for struct sock, socket, file and cred: %s",
			  g->ir->table, r->index, strerror(-o->err));
}

int bf_gen_log(struct bf_gen *g, const struct bf_rule *r)
{
	struct bf_emit *e = &g->e;
	uint32_t done = bf_label_new(e), fail = bf_label_new(e);

	if (r->log.level >= 8)
		return -EINVAL;
	if (gen_log_check(g, r))
		return -EOPNOTSUPP;
	bf_emit_ld_map(e, R1, BF_MAP_LOG);
	bf_emit(e, BPF_MOV64_IMM(R2, BF_LOGREC_SIZE));
	bf_emit(e, BPF_MOV64_IMM(R3, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_reserve));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), done);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	gen_log_consts(g, r);
	gen_log_cred(g, r);
	gen_log_pkt(g);
	gen_log_mac(g);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	gen_log_data(g, fail);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), fail);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_submit));
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, fail);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_discard));
	bf_label_bind(e, done);
	return 0;
}

/*
 * -j REJECT. The reply is built in the per-CPU scratch buffer
 * (BF_MAP_SCRATCH, r8) with the kernel's headers (nf_reject_ipv4.c,
 * icmp_send()), then the packet is reshaped to the reply's length and
 * overwritten with it, and sent back where the packet came from: XDP_TX
 * at XDP, bpf_redirect() to the ingress device at tc; at OUTPUT (tc egress)
 * bpf_redirect() into the device's own ingress, as the kernel's reply to a
 * local packet is delivered locally. No reply (the packet
 * is only dropped, as the kernel does) for non-first fragments, multicast
 * or broadcast destinations, frames not for this host, an ICMP error
 * answering an ICMP error, a RST answering a RST or a truncated TCP header.
 *
 * Scratch layout: 0 Ethernet, 14 IPv4, 34 ICMP or TCP header, 42 quoted
 * datagram (ICMP), 54 TCP pseudo header (RST), 600 the packet's Ethernet
 * header, 640 bpf_fib_lookup parameters.
 */
#define R9 BPF_REG_9

#define SCR_ETH		0
#define SCR_IP		14
#define SCR_L4		34
#define SCR_QUOTE	42
#define SCR_PSEUDO	54
#define SCR_OETH	600
#define SCR_FIB		640
#define ICMP_QUOTE_MAX	548	/* 576 - IPv4 header - ICMP header (icmp_send) */
#define RST_LEN		54

struct gen_rej {
	uint32_t noreply;	/* r0 = DROP; exit */
};

/* r0 = one's complement sum of r8[off, off + len) folded, inverted. */
static void gen_csum_fold(struct bf_emit *e)
{
	int i;

	for (i = 0; i < 2; i++) {
		bf_emit(e, BPF_MOV64_REG(R1, R0));
		bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R1, 16));
		bf_emit(e, BPF_ALU64_IMM(BPF_AND, R0, 0xffff));
		bf_emit(e, BPF_ALU64_REG(BPF_ADD, R0, R1));
	}
	bf_emit(e, BPF_ALU64_IMM(BPF_XOR, R0, 0xffff));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R0, 0xffff));
}

/* checksum of r8[off, off + len) (len <= 512, a multiple of 4), stored at r8 + at */
static void gen_csum_imm(struct bf_emit *e, int off, int len, int at)
{
	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, off));
	bf_emit(e, BPF_MOV64_IMM(R4, len));
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	gen_csum_fold(e);
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R0, at));
}

/*
 * r8 + oeth = the packet's Ethernet header, kept for the reply's
 * addresses; no reply when it cannot be read or, with `pkttype`, for a
 * frame not for this host (skb->pkt_type != PACKET_HOST; XDP: the group
 * bit). Both families.
 */
static void gen_rej_oeth(struct bf_gen *g, const struct gen_rej *rj, int oeth, bool pkttype)
{
	struct bf_emit *e = &g->e;

	gen_load_eth(g, oeth);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
	if (!pkttype)
		return;
	if (g->opts.hook == BF_HOOK_TC_INGRESS) {
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, offsetof(struct __sk_buff, pkt_type)));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), rj->noreply);
	} else if (g->opts.hook == BF_HOOK_XDP) {
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R8, oeth));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R1, 1, 0), rj->noreply);
	}
}

/* The conditions under which the kernel sends no reply, both kinds. */
static void gen_rej_checks(struct bf_gen *g, const struct gen_rej *rj)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), rj->noreply);
	/* multicast (224/4) or limited broadcast destination (rt_flags) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, -1, 0), rj->noreply);
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xf0));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xe0, 0), rj->noreply);
	gen_rej_oeth(g, rj, SCR_OETH, true);
}

/*
 * Reply Ethernet header at r8 + eth: back to the sender of the one at
 * r8 + oeth (addresses swapped), ethertype proto_be. Both families.
 */
static void gen_rej_eth(struct bf_emit *e, int eth, int oeth, int proto_be)
{
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, oeth + 6));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, eth));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R8, oeth + 10));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, eth + 4));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, oeth));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, eth + 6));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R8, oeth + 4));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, eth + 10));
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, eth + 12, proto_be));
}

/*
 * Reply IPv4 header without checksum: ihl 5, tos, total length in r9's
 * terms (written by the caller), id, frag, ttl 64, protocol, daddr = the
 * packet's saddr. The caller writes saddr.
 */
static void gen_rej_ip(struct bf_emit *e, uint8_t proto, uint16_t frag_be)
{
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, SCR_IP, 0x45));
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, SCR_IP + 6, frag_be));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, SCR_IP + 8, 64));	/* ip4_dst_hoplimit: ip_default_ttl */
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, SCR_IP + 9, proto));
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, SCR_IP + 10, 0));
	gen_addr_copy(e, R8, SCR_IP + 16, R7, BF_PKT_SADDR, false);
}

/*
 * Replace the packet with the r9 bytes at r8 and send it back; jumps to
 * noreply on failure (the packet is dropped either way).
 */
static void gen_rej_send(struct bf_gen *g, const struct gen_rej *rj, int grow)
{
	struct bf_emit *e = &g->e;

	if (g->opts.hook == BF_HOOK_XDP) {
		if (grow) {	/* room for `grow` new header bytes in front (XDP headroom) */
			bf_emit(e, BPF_MOV64_REG(R1, R6));
			bf_emit(e, BPF_MOV64_IMM(R2, -grow));
			bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_adjust_head));
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
		}
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_get_buff_len));
		bf_emit(e, BPF_MOV64_REG(R2, R9));
		bf_emit(e, BPF_ALU64_REG(BPF_SUB, R2, R0));
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_adjust_tail));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_IMM(R2, 0));
		bf_emit(e, BPF_MOV64_REG(R3, R8));
		bf_emit(e, BPF_MOV64_REG(R4, R9));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_xdp_store_bytes));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
	} else {
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_REG(R2, R9));
		bf_emit(e, BPF_MOV64_IMM(R3, 0));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_skb_change_tail));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
		bf_emit(e, BPF_MOV64_REG(R1, R6));
		bf_emit(e, BPF_MOV64_IMM(R2, 0));
		bf_emit(e, BPF_MOV64_REG(R3, R8));
		bf_emit(e, BPF_MOV64_REG(R4, R9));
		bf_emit(e, BPF_MOV64_IMM(R5, 0));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_skb_store_bytes));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
		/* OUTPUT: the reply is for this host: in through the device */
		bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R6, offsetof(struct __sk_buff, ifindex)));
		bf_emit(e, BPF_MOV64_IMM(R2, g->opts.hook == BF_HOOK_TC_EGRESS ? BPF_F_INGRESS : 0));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_redirect));
	}
	bf_emit(e, BPF_MOV64_IMM(R0, BF_RET_TX));
	bf_emit(e, BPF_EXIT_INSN());
}

/* No RST unless the packet is TCP with a whole header and without RST (both families). */
static void gen_rst_checks(struct bf_emit *e, const struct gen_rej *rj)
{
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 6, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 20, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 13));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R1, 0x04, 0), rj->noreply);
}

/*
 * The RST's seq, ack_seq and flags at r8 + l4 from the offending segment
 * (both families): its ACK set: seq = its ack_seq, RST alone; else
 * ack = seq + SYN + FIN + payload, RST|ACK.
 */
static void gen_rst_seqack(struct bf_emit *e, int l4)
{
	uint32_t ack = bf_label_new(e), done = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 13));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSET, R1, 0x10, 0), ack);
	/* no ACK in the packet */
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, l4 + 4, 0));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4 + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R2, 32));
	bf_emit(e, BPF_MOV64_REG(R3, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R3, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R3, 1));		/* SYN */
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R2, R3));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 1));		/* FIN */
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R2, R1));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_L4LEN));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R2, R3));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R3, R7, BF_PKT_L4 + 12));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R3, 4));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R3, 2));
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R2, R3));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R2, 32));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R2, l4 + 8));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, l4 + 13, 0x14));
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, ack);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4 + 8));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R2, l4 + 4));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, l4 + 8, 0));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, l4 + 13, 0x04));
	bf_label_bind(e, done);
}

/*
 * The RST's TCP header at r8 + l4 (both families; the checksum is the
 * caller's): ports swapped; doff 5; window, checksum, urgent 0; seq,
 * ack_seq and flags from gen_rst_seqack().
 */
static void gen_rst_tcp(struct bf_emit *e, int l4)
{
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 2));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, l4));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, l4 + 2));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, l4 + 12, 0x50));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, l4 + 16, 0));
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, l4 + 14, 0));
	gen_rst_seqack(e, l4);
}

/* nf_send_reset(): RST from the packet's destination, DF, id 0, ttl 64. */
static void gen_rst(struct bf_gen *g, const struct gen_rej *rj)
{
	struct bf_emit *e = &g->e;

	gen_rst_checks(e, rj);
	gen_rej_checks(g, rj);
	gen_rej_eth(e, SCR_ETH, SCR_OETH, 0x0008);	/* htons(ETH_P_IP) */
	gen_rej_ip(e, 6, 0x0040);		/* htons(IP_DF) */
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, SCR_IP + 1, 0));
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, SCR_IP + 2, 0x2800));	/* htons(40) */
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, SCR_IP + 4, 0));
	gen_addr_copy(e, R8, SCR_IP + 12, R7, BF_PKT_DADDR, false);
	gen_rst_tcp(e, SCR_L4);
	/* pseudo header after the TCP header: saddr, daddr, 0, 6, htons(20) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, SCR_IP + 12));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, SCR_PSEUDO));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, SCR_IP + 16));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, SCR_PSEUDO + 4));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, SCR_PSEUDO + 8, 0x14000600));	/* 00 06 00 14 */
	gen_csum_imm(e, SCR_L4, 32, SCR_L4 + 16);
	gen_csum_imm(e, SCR_IP, 20, SCR_IP + 10);
	bf_emit(e, BPF_MOV64_IMM(R9, RST_LEN));
	gen_rej_send(g, rj, 0);
}

/*
 * The ICMP error's source at r8 + src: the packet's destination, or at
 * FORWARD the address routing picks toward the sender (bpf_fib_lookup()
 * with its parameters at r8 + fib). Both families.
 */
static void gen_icmp_saddr(struct bf_gen *g, int fib, int src)
{
	struct bf_emit *e = &g->e;
	uint32_t local = bf_label_new(e), done = bf_label_new(e);
	bool v6 = g->v6;
	int i;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, NF_INET_FORWARD, 0), local);
	for (i = 0; i < 64; i += 8)
		bf_emit(e, BPF_ST_MEM(BPF_DW, R8, fib + i, 0));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, fib, v6 ? 10 : 2));	/* AF_INET6, AF_INET */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_IIF));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, fib + 8));
	/* ipv4_dst / ipv6_dst */
	gen_addr_copy(e, R8, fib + 32, R7, v6 ? BF_PKT_SADDR6 : BF_PKT_SADDR, v6);
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R2, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, fib));
	bf_emit(e, BPF_MOV64_IMM(R3, 64));
	bf_emit(e, BPF_MOV64_IMM(R4, BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_SKIP_NEIGH |
				 BPF_FIB_LOOKUP_SRC));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_fib_lookup));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, BPF_FIB_LKUP_RET_SUCCESS, 0), local);
	gen_addr_copy(e, R8, src, R8, fib + 16, v6);	/* ipv4_src / ipv6_src */
	bf_emit_jmp(e, BPF_JMP_A(0), done);
	bf_label_bind(e, local);
	gen_addr_copy(e, R8, src, R7, v6 ? BF_PKT_DADDR6 : BF_PKT_DADDR, v6);
	bf_label_bind(e, done);
}

/* ICMP types icmp_send() will not answer (errors, and unknown types) */
static void gen_icmp_inner(struct bf_gen *g, const struct gen_rej *rj)
{
	struct bf_emit *e = &g->e;
	uint32_t ok = bf_label_new(e);
	static const int errs[] = { 3, 4, 5, 11, 12 };
	unsigned int i;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 1, 0), ok);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 1, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGT, R1, 18, 0), rj->noreply);
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, errs[i], 0), rj->noreply);
	bf_label_bind(e, ok);
}

/* r8 + at = htons(r9 + add): a length field of the reply */
static void gen_len_be16(struct bf_emit *e, int add, int at)
{
	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, add));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, at));
}

/* The ICMP or ICMPv6 error header at r8 + l4: type, code, checksum 0 (the caller's), 4 bytes 0 */
static void gen_icmp_hdr(struct bf_emit *e, int l4, int type, uint8_t code)
{
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, l4, code << 8 | type));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, l4 + 4, 0));
}

/*
 * r9 = the bytes of the datagram the ICMP error quotes, min(its length,
 * max), none under min: read from the network header to r8 + quote and
 * zero padded to 4 bytes. Both families.
 */
static void gen_quote_load(struct bf_gen *g, const struct gen_rej *rj, int quote, int max,
			   int min)
{
	struct bf_emit *e = &g->e;
	uint32_t clamp = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R9, R7, BF_PKT_LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R9, max, 0), clamp);
	bf_emit(e, BPF_MOV64_IMM(R9, max));
	bf_label_bind(e, clamp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R9, min, 0), rj->noreply);
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, BF_PKT_L3OFF));	/* u16: ctstate is the upper half */
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, quote));
	bf_emit(e, BPF_MOV64_REG(R4, R9));
	bf_emit(e, BPF_EMIT_CALL(gen_load_fn(g)));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), rj->noreply);
	bf_emit(e, BPF_MOV64_REG(R1, R8));			/* zero pad to 4 bytes */
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R9));
	bf_emit(e, BPF_ST_MEM(BPF_W, R1, quote, 0));
}

/*
 * At FORWARD the kernel quotes the datagram as the forward path left it
 * before the hook: IPv4 TTL decremented and the checksum patched as
 * ip_decrease_ttl() does (ip_forward()), IPv6 hop limit decremented
 * (ip6_forward()). Both families.
 */
static void gen_quote_forward(struct bf_gen *g, int quote)
{
	struct bf_emit *e = &g->e;
	uint32_t skip = bf_label_new(e), nowrap;
	int ttl = quote + (g->v6 ? 7 : 8);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_HOOK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, NF_INET_FORWARD, 0), skip);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R8, ttl));
	bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R1, 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R8, R1, ttl));
	if (!g->v6) {
		nowrap = bf_label_new(e);
		bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R8, quote + 10));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 0x0001));	/* htons(0x0100) on little endian */
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 0xffff, 0), nowrap);
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, 1));
		bf_label_bind(e, nowrap);
		bf_emit(e, BPF_STX_MEM(BPF_H, R8, R1, quote + 10));
	}
	bf_label_bind(e, skip);
}

/* icmp_send(ICMP_DEST_UNREACH, code): quotes up to 548 bytes of the datagram. */
static void gen_unreach(struct bf_gen *g, const struct gen_rej *rj, uint8_t code)
{
	struct bf_emit *e = &g->e;
	uint32_t two = bf_label_new(e), summed = bf_label_new(e);

	gen_icmp_inner(g, rj);
	gen_rej_checks(g, rj);
	bf_gen_icmp_ratelimit(g, false, rj->noreply);
	gen_quote_load(g, rj, SCR_QUOTE, ICMP_QUOTE_MAX, 20);
	gen_quote_forward(g, SCR_QUOTE);
	gen_rej_eth(e, SCR_ETH, SCR_OETH, 0x0008);	/* htons(ETH_P_IP) */
	gen_rej_ip(e, 1, 0);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_TOS));	/* (tos & TOS_MASK) | PREC_INTERNETCONTROL */
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0x1e));
	bf_emit(e, BPF_ALU64_IMM(BPF_OR, R1, 0xc0));
	bf_emit(e, BPF_STX_MEM(BPF_B, R8, R1, SCR_IP + 1));
	gen_len_be16(e, 28, SCR_IP + 2);		/* tot_len */
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_get_prandom_u32));	/* ip_select_ident(): unpredictable too */
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R0, SCR_IP + 4));
	gen_icmp_saddr(g, SCR_FIB, SCR_IP + 12);
	gen_icmp_hdr(e, SCR_L4, 3, code);	/* ICMP_DEST_UNREACH */
	/* ICMP checksum over 8 + r9 bytes rounded up to 4, in pieces of <= 512 */
	bf_emit(e, BPF_MOV64_REG(R4, R9));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R4, 8 + 3));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R4, ~3));
	/* 8 + r9 > 512: two pieces (tested on r9, which the call keeps) */
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGT, R9, 512 - 8, 0), two);
	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, SCR_L4));
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	bf_emit_jmp(e, BPF_JMP_A(0), summed);
	bf_label_bind(e, two);
	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, SCR_L4));
	bf_emit(e, BPF_MOV64_IMM(R4, 512));
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	bf_emit(e, BPF_MOV64_REG(R5, R0));
	bf_emit(e, BPF_MOV64_REG(R4, R9));		/* 505..548 */
	bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R4, 512 - 8 - 3));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R4, ~3));
	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, SCR_L4 + 512));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	bf_label_bind(e, summed);
	gen_csum_fold(e);
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R0, SCR_L4 + 2));
	gen_csum_imm(e, SCR_IP, 20, SCR_IP + 10);
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, SCR_QUOTE));
	gen_rej_send(g, rj, SCR_QUOTE - GEN_ETH_HLEN);
}

/*
 * enum ipt_reject_with (IPv4) or ip6t_reject_with (IPv6) -> the ICMP or
 * ICMPv6 destination unreachable code, -1 for tcp-reset/none
 */
static int gen_unreach_code(const struct bf_gen *g, uint32_t with)
{
	static const int codes4[] = {
		[IPT_ICMP_NET_UNREACHABLE] = 0, [IPT_ICMP_HOST_UNREACHABLE] = 1,
		[IPT_ICMP_PROT_UNREACHABLE] = 2, [IPT_ICMP_PORT_UNREACHABLE] = 3,
		[IPT_ICMP_ECHOREPLY] = -1, [IPT_ICMP_NET_PROHIBITED] = 9,
		[IPT_ICMP_HOST_PROHIBITED] = 10, [IPT_TCP_RESET] = -1,
		[IPT_ICMP_ADMIN_PROHIBITED] = 13,
	};
	static const int codes6[] = {
		[IP6T_ICMP6_NO_ROUTE] = 0, [IP6T_ICMP6_ADM_PROHIBITED] = 1,
		[IP6T_ICMP6_NOT_NEIGHBOUR] = 2, [IP6T_ICMP6_ADDR_UNREACH] = 3,
		[IP6T_ICMP6_PORT_UNREACH] = 4, [IP6T_ICMP6_ECHOREPLY] = -1,
		[IP6T_TCP_RESET] = -1, [IP6T_ICMP6_POLICY_FAIL] = 5,
		[IP6T_ICMP6_REJECT_ROUTE] = 6,
	};

	if (g->v6)
		return with < sizeof(codes6) / sizeof(codes6[0]) ? codes6[with] : -1;
	return with < sizeof(codes4) / sizeof(codes4[0]) ? codes4[with] : -1;
}

/*
 * ip6tables -j REJECT (AF_INET6 IR; reject_with is enum ip6t_reject_with):
 * nf_send_unreach6() -> icmp6_send(ICMPV6_DEST_UNREACH, code) and
 * nf_send_reset6(). The same reshape-and-send as IPv4 (gen_rej_send),
 * and the same family-independent steps: the packet's Ethernet header and
 * the swapped one (gen_rej_oeth, gen_rej_eth), the RST's TCP header
 * (gen_rst_tcp), the quote (gen_quote_load, gen_quote_forward) and the
 * error's source (gen_icmp_saddr).
 *
 * Scratch layout: 0 Ethernet, 14 IPv6, 54 ICMPv6 or TCP header, 62 the
 * quoted datagram (up to 1232 bytes: IPV6_MIN_MTU - 40 - 8), 1296 the
 * pseudo header's length and next header, 1312 the packet's Ethernet
 * header, 1344 bpf_fib_lookup parameters. The checksum reads the quote in
 * pieces of up to 512 bytes (bpf_csum_diff's limit) from 54 on: the
 * third starts at 1078, and BF_SCRATCH_SIZE keeps 512 bytes after it.
 */
#define S6_ETH		0
#define S6_IP		14
#define S6_L4		54
#define S6_QUOTE	62
#define S6_PSEUDO	1296
#define S6_OETH		1312
#define S6_FIB		1344
#define ICMP6_QUOTE_MAX	1232
#define RST6_LEN	74

_Static_assert(S6_L4 + 1024 + 512 <= BF_SCRATCH_SIZE, "scratch too small for the ICMPv6 checksum pieces");
_Static_assert(S6_FIB + 64 <= BF_SCRATCH_SIZE, "scratch too small");

/* jump to `to` if the 16 bytes at pkt + off are :: */
static void gen6_if_any(struct bf_emit *e, int off, uint32_t to)
{
	uint32_t no = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, off));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R2, R7, off + 8));
	bf_emit(e, BPF_ALU64_REG(BPF_OR, R1, R2));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), no);
	bf_emit_jmp(e, BPF_JMP_A(0), to);
	bf_label_bind(e, no);
}

/* jump to `to` if the address at pkt + off is not unicast as ipv6_addr_type() says: ff00::/8, ::, ::ffff:0:0/96 */
static void gen6_if_not_unicast(struct bf_emit *e, int off, uint32_t to)
{
	uint32_t no = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, off));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xff, 0), to);
	gen6_if_any(e, off, to);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, off));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), no);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, off + 8));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R1, (int32_t)0xffff0000, 0), to);	/* 00 00 ff ff */
	bf_label_bind(e, no);
}

/* r8 + S6_OETH = the packet's Ethernet header; no reply for frames not to this host when `pkttype` */
static void gen6_rej_l2(struct bf_gen *g, const struct gen_rej *rj, bool pkttype)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_WALKERR));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), rj->noreply);
	gen_rej_oeth(g, rj, S6_OETH, pkttype);
}

/* Ethernet back to the sender (IPv6); IPv6 header: version 6, tclass 0, flow label `flow`, hop limit 64, daddr = the packet's saddr */
static void gen6_rej_hdrs(struct bf_emit *e, uint8_t nexthdr, bool autoflow)
{
	gen_rej_eth(e, S6_ETH, S6_OETH, 0xdd86);	/* htons(ETH_P_IPV6) */
	if (autoflow) {
		/*
		 * ip6_make_flowlabel(): the kernel hashes the flow with a
		 * secret key (auto_flowlabels); a random label is as opaque.
		 */
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_get_prandom_u32));
		bf_emit(e, BPF_ALU64_IMM(BPF_AND, R0, 0x000fffff));
		bf_emit(e, BPF_ALU64_IMM(BPF_OR, R0, 0x60000000));
		bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R0, 32));
		bf_emit(e, BPF_STX_MEM(BPF_W, R8, R0, S6_IP));
	} else {
		bf_emit(e, BPF_ST_MEM(BPF_W, R8, S6_IP, 0x60));	/* 60 00 00 00 */
	}
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, S6_IP + 6, nexthdr));
	bf_emit(e, BPF_ST_MEM(BPF_B, R8, S6_IP + 7, 64));	/* ip6_dst_hoplimit(): devconf hop_limit */
	gen_addr_copy(e, R8, S6_IP + 24, R7, BF_PKT_SADDR6, true);
}

/* r0 = running sum + csum_diff(r8 + off, r4 bytes), seed r5 */
static void gen6_csum_piece(struct bf_emit *e, int off)
{
	bf_emit(e, BPF_MOV64_IMM(R1, 0));
	bf_emit(e, BPF_MOV64_IMM(R2, 0));
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, off));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_csum_diff));
	bf_emit(e, BPF_MOV64_REG(R5, R0));
}

/*
 * The L4 checksum at r8 + S6_L4 + at, over r9 L4 bytes (r9 <= 1240) plus
 * the pseudo header: both addresses of the reply's IPv6 header and
 * S6_PSEUDO (length, next header).
 */
static void gen6_l4_csum(struct bf_emit *e, uint8_t nexthdr, int at)
{
	uint32_t done = bf_label_new(e);
	int k;

	bf_emit(e, BPF_MOV64_REG(R1, R9));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 32));
	bf_emit(e, BPF_STX_MEM(BPF_W, R8, R1, S6_PSEUDO));
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, S6_PSEUDO + 4, nexthdr << 24));
	bf_emit(e, BPF_MOV64_IMM(R5, 0));
	bf_emit(e, BPF_MOV64_IMM(R4, 32));
	gen6_csum_piece(e, S6_IP + 8);
	bf_emit(e, BPF_MOV64_IMM(R4, 8));
	gen6_csum_piece(e, S6_PSEUDO);
	for (k = 0; k < 3; k++) {
		uint32_t fits = bf_label_new(e);

		/* r4 = min(roundup(r9, 4) - 512k, 512), none when <= 0 */
		bf_emit(e, BPF_MOV64_REG(R4, R9));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R4, 3));
		bf_emit(e, BPF_ALU64_IMM(BPF_AND, R4, ~3));
		if (k) {
			bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R4, 512 * k, 0), done);
			bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R4, 512 * k));
		}
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLE, R4, 512, 0), fits);
		bf_emit(e, BPF_MOV64_IMM(R4, 512));
		bf_label_bind(e, fits);
		gen6_csum_piece(e, S6_L4 + 512 * k);
	}
	bf_label_bind(e, done);
	bf_emit(e, BPF_MOV64_REG(R0, R5));
	gen_csum_fold(e);
	bf_emit(e, BPF_STX_MEM(BPF_H, R8, R0, S6_L4 + at));
}

/* nf_send_reset6(): RST from the packet's destination, flow label 0, hop limit 64. */
static void gen6_rst(struct bf_gen *g, const struct gen_rej *rj)
{
	struct bf_emit *e = &g->e;

	gen6_if_not_unicast(e, BF_PKT_SADDR6, rj->noreply);
	gen6_if_not_unicast(e, BF_PKT_DADDR6, rj->noreply);
	gen_rst_checks(e, rj);
	gen6_rej_l2(g, rj, false);
	gen6_rej_hdrs(e, 6, false);
	bf_emit(e, BPF_ST_MEM(BPF_H, R8, S6_IP + 4, 0x1400));	/* htons(20) */
	gen_addr_copy(e, R8, S6_IP + 8, R7, BF_PKT_DADDR6, true);
	gen_rst_tcp(e, S6_L4);
	bf_emit(e, BPF_MOV64_IMM(R9, 20));
	gen6_l4_csum(e, 6, 16);
	bf_emit(e, BPF_MOV64_IMM(R9, RST6_LEN));
	gen_rej_send(g, rj, false);
}

/*
 * icmp6_send()'s refusals: a multicast destination, a frame not for this
 * host, an unspecified or multicast source, an ICMPv6 error (or no type
 * to read: is_ineligible()); reject6_csum_ok(): a walk error, a non-first
 * fragment, a transport offset at the end of the packet.
 */
static void gen6_unreach_checks(struct bf_gen *g, const struct gen_rej *rj)
{
	struct bf_emit *e = &g->e;
	uint32_t ok = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_DADDR6));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xff, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_SADDR6));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0xff, 0), rj->noreply);
	gen6_if_any(e, BF_PKT_SADDR6, rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), rj->noreply);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 58, 0), ok);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 128, 0), rj->noreply);	/* !(type & ICMPV6_INFOMSG_MASK) */
	bf_label_bind(e, ok);
	gen6_rej_l2(g, rj, true);
}

/* icmp6_send(ICMPV6_DEST_UNREACH, code): quotes up to 1232 bytes of the datagram. */
static void gen6_unreach(struct bf_gen *g, const struct gen_rej *rj, uint8_t code)
{
	struct bf_emit *e = &g->e;

	gen6_unreach_checks(g, rj);
	bf_gen_icmp_ratelimit(g, true, rj->noreply);
	gen_quote_load(g, rj, S6_QUOTE, ICMP6_QUOTE_MAX, 40);
	gen_quote_forward(g, S6_QUOTE);
	gen6_rej_hdrs(e, 58, true);
	gen_len_be16(e, 8, S6_IP + 4);		/* payload_len */
	gen_icmp_saddr(g, S6_FIB, S6_IP + 8);
	gen_icmp_hdr(e, S6_L4, 1, code);	/* ICMPV6_DEST_UNREACH */
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, 8));
	gen6_l4_csum(e, 58, 2);
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R9, S6_L4));
	gen_rej_send(g, rj, S6_QUOTE - GEN_ETH_HLEN);
}

/* The scratch buffer, the reply (a RST or the ICMP error `code`) and the drop; both families. */
static int gen_reject_emit(struct bf_gen *g, bool rst, int code)
{
	struct bf_emit *e = &g->e;
	struct gen_rej rj = { .noreply = bf_label_new(e) };

	gen_scratch(e, R8, rj.noreply);
	if (rst && g->v6)
		gen6_rst(g, &rj);
	else if (rst)
		gen_rst(g, &rj);
	else if (g->v6)
		gen6_unreach(g, &rj, (uint8_t)code);
	else
		gen_unreach(g, &rj, (uint8_t)code);
	bf_label_bind(e, rj.noreply);
	bf_emit(e, BPF_MOV64_IMM(R0, BF_RET_DROP));
	bf_emit(e, BPF_EXIT_INSN());
	return 0;
}

static int gen6_reject(struct bf_gen *g, const struct bf_rule *r, const char *chain)
{
	int code = gen_unreach_code(g, r->reject_with);

	if (g->opts.hook == BF_HOOK_TC_EGRESS && r->reject_with != IP6T_TCP_RESET)
		return bf_err_set(g->err, -EOPNOTSUPP,
				  "chain %s rule %u: REJECT with an ICMPv6 error at OUTPUT (tc egress) is not supported; tcp-reset is",
				  chain, r->num);
	if (r->reject_with != IP6T_TCP_RESET && code < 0)
		return bf_err_set(g->err, -EOPNOTSUPP,
				  "chain %s rule %u: REJECT --reject-with %u is not supported for IPv6",
				  chain, r->num, r->reject_with);
	return gen_reject_emit(g, r->reject_with == IP6T_TCP_RESET, code);
}

int bf_gen_reject(struct bf_gen *g, const struct bf_rule *r, const char *chain)
{
	int code = gen_unreach_code(g, r->reject_with);

	if (g->v6)
		return gen6_reject(g, r, chain);
	/*
	 * At OUTPUT the kernel's ICMP error goes from the local address to the
	 * local sender over lo (with the output route attached). Injected
	 * without a route, at lo's or the device's ingress, an error from a
	 * local source is a martian (fib_validate_source()); from the
	 * packet's destination it is delivered and the socket sees the same
	 * error (ECONNREFUSED for port unreachable). So at tc egress the
	 * error comes from the packet's destination (gen_icmp_saddr) into
	 * the device's own ingress, as tcp-reset does.
	 */
	if (r->reject_with != IPT_TCP_RESET && code < 0)
		return bf_err_set(g->err, -EOPNOTSUPP,
				  "chain %s rule %u: REJECT --reject-with %u is not supported",
				  chain, r->num, r->reject_with);
	return gen_reject_emit(g, r->reject_with == IPT_TCP_RESET, code);
}
