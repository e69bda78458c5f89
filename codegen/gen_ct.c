// SPDX-License-Identifier: GPL-2.0
/*
 * The connection tracking state of a packet, for -m conntrack --ctstate
 * and -m state: pkt->ctstate = one BF_CT_* bit, computed once in
 * bpfilter_main after the L4 copy. The kernel's own conntrack table is
 * the state (docs/design-notes.md, "Connection tracking"): the entry is
 * looked up with the BPF conntrack kfuncs (bpf_xdp_ct_lookup /
 * bpf_skb_ct_lookup, then bpf_ct_release) and turned into the ctinfo the
 * kernel's conntrack would give this packet when it processes it after
 * XDP / tc ingress:
 *
 *   entry found:   reply direction: ESTABLISHED; original direction:
 *                  ESTABLISHED once a reply was seen (IPS_SEEN_REPLY),
 *                  RELATED for an expected connection (IPS_EXPECTED),
 *                  else NEW (resolve_normal_ct()). TCP: the packet's
 *                  flags against the entry's TCP state, as the kernel's
 *                  transition table says (tcp_conntracks[]): an invalid
 *                  transition is INVALID, a SYN that reopens a
 *                  TIME_WAIT / CLOSE entry is NEW, ignored packets keep
 *                  the entry's state.
 *   no entry:      TCP: a SYN, or an ACK (nf_conntrack_tcp_loose)
 *                  starts a connection: NEW; anything else INVALID.
 *                  UDP: NEW.
 *   malformed:     TCP header shorter than 20 bytes or than its doff,
 *                  flag combinations tcp_error() refuses, UDP length
 *                  out of bounds, ICMP shorter than 8 bytes or of a type
 *                  above 18: INVALID.
 *   ICMP errors:   (3, 4, 5, 11, 12) the quoted TCP/UDP header's flow,
 *                  looked up inverted as nf_conntrack_inet_error() does
 *                  (a quoted ICMP query: in the ICMP query tracker):
 *                  found and addressed to the flow's end: RELATED, else
 *                  INVALID.
 *   ICMP queries:  the kfuncs cannot look ICMP up: bpfilter's own
 *                  tracker (BF_MAP_ICMPCT, below) has the entries. A
 *                  request (8, 13, 15, 17) is ESTABLISHED when its entry
 *                  saw a reply, else NEW; a reply (0, 14, 16, 18)
 *                  ESTABLISHED when the request's entry is there, else
 *                  INVALID; other types INVALID.
 *   other:         non-first fragments ESTABLISHED (their first
 *                  fragment decided); other protocols NEW.
 *
 * TCP packets of an entry also go through tcp_in_window()'s INVALID
 * checks. At tc egress (OUTPUT, after the kernel's conntrack) the skb's
 * own _nfct is read instead where the kernel allows it (ct_from_skb()).
 * What the kernel decides and this does not (checksums, ICMP query ids,
 * SACK, ...) is listed in docs/design-notes.md.
 *
 * The ICMP query tracker mirrors the kernel's ICMP entries: the key is
 * the kernel's tuple in the original direction (addresses, id, request
 * type, code), the value its timeout and IPS_SEEN_REPLY. It is fed by
 * the packets the kernel's conntrack gets to see: at XDP / tc ingress
 * those bpfilter accepts (a request creates or refreshes its entry, a
 * reply marks it replied and refreshes it), at tc egress every ICMP query
 * (the kernel's conntrack ran before tc egress) - the OUTPUT program's,
 * or at XDP the observer program (opts.observe) attached at tc egress.
 * Timeout: nf_conntrack_icmp_timeout of the namespace, read when the
 * program is generated. BPF_PROG_TEST_RUN programs (force_hook) only
 * read it.
 *
 * The kfuncs and struct nf_conn offsets come from the running kernel's
 * BTF (/sys/kernel/btf/vmlinux), read once per process.
 *
 * Registers: r6 = ctx, r7 = pkt as in bpfilter_main; r8 holds the
 * acquired struct nf_conn * until bpf_ct_release(), r9 the state being
 * computed. Stack (BF_CT_AREA bytes below pkt): tuple at pkt - 48
 * (struct bpf_sock_tuple's ipv4 part, 12 bytes), options at pkt - 32
 * (struct bpf_ct_opts, the 12 bytes Linux 6.1 knows), then what the TCP
 * checks copy out of the entry before it is released (CT_SCRATCH ...).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/btf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

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

#define CT_SEENBUF	(-96)		/* relative to pkt (r7): 40 bytes, seen[2] */
#define CT_TUPLE	(-48)
#define CT_OPTS		(-32)
#define CT_OPTS_DIR	(CT_OPTS + 9)	/* u8 dir, set by the lookup */
#define CT_SCRATCH	(-20)		/* u8 TCP state */
#define CT_SFLAGS	(-19)		/* u8 sender's ip_ct_tcp_state.flags */
#define CT_S_MAXEND	(-16)		/* u32 sender's td_maxend */
#define CT_S_MAXWIN	(-12)		/* u32 sender's td_maxwin */
#define CT_R_END	(-8)		/* u32 receiver's td_end */
#define CT_TUPLE_SZ	12
/*
 * IPv6 programs: struct bpf_sock_tuple's ipv6 part (36 bytes) at
 * pkt - 96, sharing the seen[] buffer: the lookup reads the tuple, and
 * seen[] is copied there only after it (Linux 6.1 only).
 */
#define CT_TUPLE6	(-96)
#define CT_TUPLE6_SZ	36
/*
 * ICMP queries (BF_MAP_ICMPCT): the key is built over CT_SEENBUF (TCP
 * only) and stays there until the packet is accepted; the op byte says
 * what accepting it does to the tracker; a new entry's value is built
 * over CT_TUPLE (TCP/UDP only).
 */
#define CT_ICMPQ_KEY	CT_SEENBUF	/* struct bf_icmpct_key, 40 bytes */
#define CT_ICMPQ_OP	(-52)		/* u8 CT_OP_* */
#define CT_NATBITS	(-56)		/* u16 BF_CT_SNAT | BF_CT_DNAT of the entry found */
#define CT_ICMPQ_VAL	CT_TUPLE	/* struct bf_icmpct_val, 16 bytes */
enum { CT_OP_NONE, CT_OP_REQUEST, CT_OP_REPLY };
#define CT_OPTS_SZ	12		/* NF_BPF_CT_OPTS_SZ of Linux 6.1 */

#define IP_CT_TCP_FLAG_BE_LIBERAL_	0x08

#define IPS_EXPECTED_	0x1
#define IPS_SEEN_REPLY_	0x2

/* tcp_conntrack states and get_conntrack_index() values */
enum { CT_SNO, CT_SSS, CT_SSR, CT_SES, CT_SFW, CT_SCW, CT_SLA, CT_STW,
       CT_SCL, CT_SS2, CT_NSTATES };
enum { CT_I_SYN, CT_I_SYNACK, CT_I_FIN, CT_I_ACK, CT_I_RST, CT_I_NONE,
       CT_NINDEX };

/*
 * The kernel's TCP transition table (tcp_conntracks[dir][index][state]),
 * reduced to what decides the state match: 'v' valid transition, 'I'
 * invalid (sIV: the packet is INVALID), 'g' ignored (sIG: the packet
 * keeps the entry), 'R' reopening (the entry is killed and the packet
 * starts a new connection: NEW). Columns: sNO sSS sSR sES sFW sCW sLA
 * sTW sCL sS2.
 */
static const char ct_tcp_table[2][CT_NINDEX][CT_NSTATES + 1] = {
	{	/* original direction */
		"vvgggggRRv",	/* syn */
		"IIvIIIIIIv",	/* synack */
		"IIvvvvvvvI",	/* fin */
		"vIvvvvvvvI",	/* ack */
		"Ivvvvvvvvv",	/* rst */
		"IIIIIIIIII",	/* none */
	},
	{	/* reply direction */
		"IvIIIIIRIv",	/* syn */
		"Ivgggggggv",	/* synack */
		"IIvvvvvvvI",	/* fin */
		"Igvvvvvvvg",	/* ack */
		"Ivvvvvvvvv",	/* rst */
		"IIIIIIIIII",	/* none */
	},
};

/* tcp_valid_flags[]: flag combinations (FIN SYN RST ACK URG) tcp_error() takes */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define CT_TCP_FLAGS_MASK (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_ACK | TCPF_URG)

static uint64_t ct_valid_flags(void)
{
	static const uint8_t ok[] = {
		TCPF_SYN, TCPF_SYN | TCPF_URG, TCPF_SYN | TCPF_ACK, TCPF_RST,
		TCPF_RST | TCPF_ACK, TCPF_FIN | TCPF_ACK,
		TCPF_FIN | TCPF_ACK | TCPF_URG, TCPF_ACK, TCPF_ACK | TCPF_URG,
	};
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < sizeof(ok); i++)
		m |= 1ULL << ok[i];
	return m;
}

/* Bit (dir * 6 + index) * 10 + state of the table set where it says `c`. */
static void ct_table_bits(char c, uint64_t bits[2])
{
	int d, i, s;

	bits[0] = bits[1] = 0;
	for (d = 0; d < 2; d++)
		for (i = 0; i < CT_NINDEX; i++)
			for (s = 0; s < CT_NSTATES; s++) {
				int k = (d * CT_NINDEX + i) * CT_NSTATES + s;

				if (ct_tcp_table[d][i][s] == c)
					bits[k / 64] |= 1ULL << (k % 64);
			}
}

/* ---- the running kernel's BTF -------------------------------------------- */

struct ct_btf {
	int err;			/* 0 once loaded */
	int32_t lookup_xdp, lookup_skb, release;
	int16_t kfunc_off;		/* 0: vmlinux; 1: module BTF at fd_array[1] */
	uint32_t status_off;		/* nf_conn.status */
	uint32_t ips_snat, ips_dnat;	/* IPS_SRC_NAT, IPS_DST_NAT (enum ip_conntrack_status) */
	uint32_t tcp_state_off;		/* nf_conn.proto.tcp.state */
	uint32_t seen_off[2];		/* nf_conn.proto.tcp.seen[dir] */
	uint32_t td_end, td_maxend, td_maxwin, td_flags;	/* in seen[] */
	int32_t cast_ctx;		/* bpf_cast_to_kern_ctx, < 0 if absent (6.1) */
	/*
	 * How proto.tcp.seen[] is read for the window check. Linux 6.1's
	 * verifier walks union nf_conntrack_proto through its first member
	 * (dccp) for offsets below 16 and refuses seen[0]'s fields, where
	 * 6.18 finds the tcp member: there bpf_probe_read_kernel() copies
	 * seen[] to the stack instead. Kernels with bpf_cast_to_kern_ctx
	 * (6.3+) are taken to walk unions (measured: 6.18 yes, 6.1 no).
	 * BPFILTER_CT_PROBE_READ=1 forces the copy (tests).
	 */
	bool window_direct;
	uint32_t nfct_off;		/* sk_buff._nfct */
};

static int ct_member_off(const struct btf *btf, const char *sname,
			 const char *mname, uint32_t *off)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id, i;

	id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	if (id < 0)
		id = btf__find_by_name_kind(btf, sname, BTF_KIND_UNION);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), mname))
			continue;
		*off = btf_member_bit_offset(t, i) / 8;
		return 0;
	}
	return -ENOENT;
}

/* The value of enumerator `name` in `btf`, or `dflt`. */
static uint32_t ct_enum_val(const struct btf *btf, const char *name,
			    uint32_t dflt)
{
	uint32_t id, n = btf__type_cnt(btf);
	int i;

	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *v;

		if (!btf_is_enum(t))
			continue;
		v = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++, v++)
			if (!strcmp(btf__name_by_offset(btf, v->name_off), name))
				return (uint32_t)v->val;
	}
	return dflt;
}

static int ct_find_kfuncs(const struct btf *btf, struct ct_btf *c)
{
	c->lookup_xdp = btf__find_by_name_kind(btf, "bpf_xdp_ct_lookup", BTF_KIND_FUNC);
	c->lookup_skb = btf__find_by_name_kind(btf, "bpf_skb_ct_lookup", BTF_KIND_FUNC);
	c->release = btf__find_by_name_kind(btf, "bpf_ct_release", BTF_KIND_FUNC);
	if (c->lookup_xdp < 0 || c->lookup_skb < 0 || c->release < 0)
		return -ENOENT;
	return 0;
}

static int ct_offsets(const struct btf *btf, struct ct_btf *c)
{
	uint32_t proto = 0, tcp = 0, state = 0, seen = 0;
	const struct btf_type *t;
	int ret, id;

	ret = ct_member_off(btf, "nf_conn", "status", &c->status_off);
	if (!ret)
		ret = ct_member_off(btf, "nf_conn", "proto", &proto);
	if (!ret)
		ret = ct_member_off(btf, "nf_conntrack_proto", "tcp", &tcp);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp", "state", &state);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp", "seen", &seen);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp_state", "td_end", &c->td_end);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp_state", "td_maxend", &c->td_maxend);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp_state", "td_maxwin", &c->td_maxwin);
	if (!ret)
		ret = ct_member_off(btf, "ip_ct_tcp_state", "flags", &c->td_flags);
	if (ret)
		return ret;
	id = btf__find_by_name_kind(btf, "ip_ct_tcp_state", BTF_KIND_STRUCT);
	t = id < 0 ? NULL : btf__type_by_id(btf, id);
	if (!t)
		return -ENOENT;
	c->seen_off[0] = proto + tcp + seen;
	c->seen_off[1] = proto + tcp + seen + t->size;
	c->tcp_state_off = proto + tcp + state;
	return 0;
}

/*
 * The kfuncs are in vmlinux when nf_conntrack is built in (this
 * machine), else in the nf_conntrack module's BTF (Debian's 6.1), which
 * exists only while the module is loaded: switching tracking on loads it.
 */
static int ct_btf_load(struct ct_btf *c)
{
	struct btf *vm, *mod = NULL;
	const struct btf *types;
	int ret;

	vm = btf__load_vmlinux_btf();
	if (!vm)
		return -errno ? -errno : -ENOENT;
	types = vm;
	c->kfunc_off = 0;
	if (ct_find_kfuncs(vm, c)) {
		mod = btf__load_module_btf(BF_CT_MODULE, vm);
		if (!mod && !bf_ct_enable(NULL))
			mod = btf__load_module_btf(BF_CT_MODULE, vm);
		if (!mod || ct_find_kfuncs(mod, c)) {
			ret = -ENOENT;
			goto out;
		}
		c->kfunc_off = 1;
		types = mod;
	}
	ret = ct_offsets(types, c);
	if (ret)
		goto out;
	/* the bits conntrack_mt() tests for --ctstate SNAT / DNAT */
	c->ips_snat = ct_enum_val(vm, "IPS_SRC_NAT", 0x10);
	c->ips_dnat = ct_enum_val(vm, "IPS_DST_NAT", 0x20);
	/* core, always in vmlinux */
	c->cast_ctx = btf__find_by_name_kind(vm, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC);
	c->window_direct = c->cast_ctx >= 0 && !getenv("BPFILTER_CT_PROBE_READ");
	if (c->cast_ctx >= 0 &&
	    ct_member_off(vm, "sk_buff", "_nfct", &c->nfct_off))
		c->cast_ctx = -1;
out:
	btf__free(mod);
	btf__free(vm);
	return ret;
}

/* Loaded once per process; a failure is tried again next time. */
static const struct ct_btf *ct_btf_get(void)
{
	static struct ct_btf c;
	static bool loaded;

	if (!loaded) {
		c.err = ct_btf_load(&c);
		loaded = !c.err;
	}
	return &c;
}

/* ---- code ----------------------------------------------------------------- */

struct ct_labels {
	uint32_t done, invalid, est, new_, related, untracked;
};

/* A kfunc call; off 1 names the module BTF at fd_array[1] (loader.c). */
static void ct_kfunc(struct bf_emit *e, int32_t btf_id, int16_t off)
{
	bf_emit(e, BF_INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, off,
			   btf_id));
}

/*
 * Look up the tuple at pkt + CT_TUPLE (IPv6: CT_TUPLE6) for protocol
 * `proto_reg` (a register) in the kernel's table: r0 = struct nf_conn *
 * or NULL.
 */
static void ct_lookup(struct bf_gen *g, const struct ct_btf *c, int proto_reg)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_ST_MEM(BPF_DW, R7, CT_OPTS, 0));
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, CT_OPTS + 8, 0));
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, CT_OPTS, -1));	/* BPF_F_CURRENT_NETNS */
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, proto_reg, CT_OPTS + 8));
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, g->v6 ? CT_TUPLE6 : CT_TUPLE));
	bf_emit(e, BPF_MOV64_IMM(R3, g->v6 ? CT_TUPLE6_SZ : CT_TUPLE_SZ));
	bf_emit(e, BPF_MOV64_REG(R4, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R4, CT_OPTS));
	bf_emit(e, BPF_MOV64_IMM(R5, CT_OPTS_SZ));
	ct_kfunc(e, g->opts.hook == BF_HOOK_XDP ? c->lookup_xdp : c->lookup_skb,
		 c->kfunc_off);
}

/*
 * --ctstate SNAT / DNAT (conntrack_mt()): r1 = the entry's status; store
 * its NAT bits at CT_NATBITS. They join the state in bf_gen_ct_state()'s
 * tail unless the packet is INVALID. Clobbers r1, r2.
 */
static void ct_natbits_from(struct bf_emit *e, const struct ct_btf *c)
{
	uint32_t no_s = bf_label_new(e), no_d = bf_label_new(e);

	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, (int32_t)c->ips_snat));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R2, 0, 0), no_s);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, CT_NATBITS, BF_CT_SNAT));
	bf_label_bind(e, no_s);
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, (int32_t)c->ips_dnat));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), no_d);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, CT_NATBITS));
	bf_emit(e, BPF_ALU64_IMM(BPF_OR, R1, BF_CT_DNAT));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, CT_NATBITS));
	bf_label_bind(e, no_d);
}

/* The same from the entry at `reg` (acquired). */
static void ct_natbits(struct bf_emit *e, const struct ct_btf *c, int reg)
{
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, reg, c->status_off));
	ct_natbits_from(e, c);
}

/* r9 = the ctinfo's state bit for the entry in r8 (resolve_normal_ct()). */
static void ct_base_state(struct bf_emit *e, const struct ct_btf *c)
{
	uint32_t out = bf_label_new(e);

	ct_natbits(e, c, R8);
	bf_emit(e, BPF_MOV64_IMM(R9, BF_CT_ESTABLISHED));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_OPTS_DIR));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R8, c->status_off));
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, IPS_SEEN_REPLY_));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 0, 0), out);
	bf_emit(e, BPF_MOV64_IMM(R9, BF_CT_RELATED));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, IPS_EXPECTED_));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), out);
	bf_emit(e, BPF_MOV64_IMM(R9, BF_CT_NEW));
	bf_label_bind(e, out);
}

static void ct_release(struct bf_emit *e, const struct ct_btf *c)
{
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	ct_kfunc(e, c->release, c->kfunc_off);
}

/* IPv6 tuple from the packet: saddr6, daddr6, then the ports. */
static void ct_tuple_pkt6(struct bf_emit *e)
{
	int i;

	for (i = 0; i < 32; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_SADDR6 + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, CT_TUPLE6 + i));
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE6 + 32));
}

/* Tuple from the packet: saddr, daddr, then L4 bytes 0-3 (the ports). */
static void ct_tuple_pkt(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	if (g->v6) {
		ct_tuple_pkt6(e);
		return;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_SADDR));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE + 4));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE + 8));
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, CT_TUPLE + 12, 0));
}

/* pkt->key = get_conntrack_index(th), from the flags byte in r1 */
static void ct_tcp_index(struct bf_emit *e)
{
	uint32_t out = bf_label_new(e), syn = bf_label_new(e);

	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_RST));
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, TCPF_RST));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 0, 0), out);
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, TCPF_SYN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 0, 0), syn);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_FIN));
	bf_emit(e, BPF_MOV64_REG(R2, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R2, TCPF_FIN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 0, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_ACK));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, TCPF_ACK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_NONE));
	bf_emit_jmp(e, BPF_JMP_A(0), out);
	bf_label_bind(e, syn);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_SYN));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, TCPF_ACK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, BF_PKT_KEY, CT_I_SYNACK));
	bf_label_bind(e, out);
}

/* Jump to `yes` when bit r1 (< 128) of bits[] is set; clobbers r1-r3. */
static void ct_test_bit(struct bf_emit *e, const uint64_t bits[2], uint32_t yes)
{
	uint32_t hi = bf_label_new(e), test = bf_label_new(e);

	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGE, R1, 64, 0), hi);
	bf_emit_ld_imm64(e, R3, bits[0]);
	bf_emit_jmp(e, BPF_JMP_A(0), test);
	bf_label_bind(e, hi);
	bf_emit(e, BPF_ALU64_IMM(BPF_SUB, R1, 64));
	bf_emit_ld_imm64(e, R3, bits[1]);
	bf_label_bind(e, test);
	bf_emit(e, BPF_MOV64_IMM(R2, 1));
	bf_emit(e, BPF_ALU64_REG(BPF_LSH, R2, R1));
	bf_emit(e, BPF_ALU64_REG(BPF_AND, R2, R3));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R2, 0, 0), yes);
}

/*
 * Copy what the window check needs for direction `dir`, from the entry
 * (r8, `base` 0) or from its seen[] copied to the stack (r7, CT_SEENBUF).
 */
static void ct_read_seen(struct bf_emit *e, const struct ct_btf *c, int dir,
			 int src, int32_t base)
{
	int32_t s = base + (int32_t)(c->seen_off[dir] - (base ? c->seen_off[0] : 0));
	int32_t r = base + (int32_t)(c->seen_off[!dir] - (base ? c->seen_off[0] : 0));

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, src, s + c->td_flags));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, CT_SFLAGS));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, src, s + c->td_maxend));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_S_MAXEND));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, src, s + c->td_maxwin));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_S_MAXWIN));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, src, r + c->td_end));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_R_END));
}

static void ct_read_window(struct bf_emit *e, const struct ct_btf *c)
{
	uint32_t reply = bf_label_new(e), out = bf_label_new(e);
	int32_t size = (int32_t)(c->seen_off[1] - c->seen_off[0]) * 2;
	int src = R8, base = 0;

	if (!c->window_direct) {
		/* zeroed on failure: td_maxwin 0 skips the check */
		bf_emit(e, BPF_MOV64_REG(R1, R7));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, CT_SEENBUF));
		bf_emit(e, BPF_MOV64_IMM(R2, size));
		bf_emit(e, BPF_MOV64_REG(R3, R8));
		bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, (int32_t)c->seen_off[0]));
		bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
		src = R7;
		base = CT_SEENBUF;
	}
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_OPTS_DIR));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), reply);
	ct_read_seen(e, c, 0, src, base);
	bf_emit_jmp(e, BPF_JMP_A(0), out);
	bf_label_bind(e, reply);
	ct_read_seen(e, c, 1, src, base);
	bf_label_bind(e, out);
}

/*
 * tcp_in_window()'s two checks that make a packet INVALID (the others
 * make it "ignored", which keeps its state): the sequence number beyond
 * what the receiver's window allows (seq > sender.td_maxend), and an ACK
 * of data never sent (ack > receiver.td_end). Skipped where the kernel
 * (re)initialises the sender from this very packet (td_maxwin == 0, a
 * new SYN in SYN_SENT / SYN-ACK in SYN_RECV), for "be liberal"
 * connections, for no ACK or a zero ACK on a RST (the kernel substitutes
 * receiver.td_end), and for the RST answering a SYN (seq 0 in SYN_SENT).
 * r2 = the entry's TCP state; jumps to `invalid`.
 */
static void ct_tcp_window(struct bf_emit *e, uint32_t invalid)
{
	uint32_t out = bf_label_new(e), ack = bf_label_new(e);
	uint32_t orig = bf_label_new(e), check = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, CT_S_MAXWIN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_SFLAGS));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, IP_CT_TCP_FLAG_BE_LIBERAL_));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_OPTS_DIR));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), orig);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R2, CT_SSR, 0), out);
	bf_emit_jmp(e, BPF_JMP_A(0), check);
	bf_label_bind(e, orig);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R2, CT_SSS, 0), out);
	bf_label_bind(e, check);
	/* I: seq <= sender.td_maxend (RST seq 0 in SYN_SENT cannot get here) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_L4 + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R3, 32));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R4, R7, CT_S_MAXEND));
	bf_emit(e, BPF_ALU32_REG(BPF_SUB, R3, R4));
	bf_emit(e, BPF_ALU32_IMM(BPF_SUB, R3, 1));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JSGE, R3, 0, 0), invalid);
	/* III: ack <= receiver.td_end, when the ACK counts */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 13));
	bf_emit(e, BPF_MOV64_REG(R5, R1));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R5, TCPF_ACK));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R5, 0, 0), out);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_L4 + 8));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R3, 32));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, TCPF_RST));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), ack);
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JEQ, R3, 0, 0), out);
	bf_label_bind(e, ack);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R4, R7, CT_R_END));
	bf_emit(e, BPF_ALU32_REG(BPF_SUB, R3, R4));
	bf_emit(e, BPF_ALU32_IMM(BPF_SUB, R3, 1));
	bf_emit_jmp(e, BPF_JMP32_IMM(BPF_JSGE, R3, 0, 0), invalid);
	bf_label_bind(e, out);
}

static void ct_tcp(struct bf_gen *g, const struct ct_btf *c,
		   const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;
	uint32_t found = bf_label_new(e), store = bf_label_new(e);
	uint64_t iv[2], reopen[2], ign[2];

	ct_table_bits('I', iv);
	ct_table_bits('R', reopen);
	ct_table_bits('g', ign);
	/* tcp_error(): whole header, sane doff, a valid flag combination */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 20, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 12));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R1, 4));
	bf_emit(e, BPF_ALU64_IMM(BPF_LSH, R1, 2));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 20, 0), l->invalid);
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R1, R2, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + 13));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, CT_TCP_FLAGS_MASK));
	bf_emit(e, BPF_MOV64_IMM(R2, 1));
	bf_emit(e, BPF_ALU64_REG(BPF_LSH, R2, R1));
	bf_emit_ld_imm64(e, R3, ct_valid_flags());
	bf_emit(e, BPF_ALU64_REG(BPF_AND, R2, R3));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R2, 0, 0), l->invalid);
	ct_tcp_index(e);
	ct_tuple_pkt(g);
	bf_emit(e, BPF_MOV64_IMM(R1, 6));
	ct_lookup(g, c, R1);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R0, 0, 0), found);
	/* no entry: tcp_new() takes a SYN, or an ACK (tcp_loose) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_KEY));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, CT_I_SYN, 0), l->new_);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, CT_I_ACK, 0), l->new_);
	bf_emit_jmp(e, BPF_JMP_A(0), l->invalid);

	bf_label_bind(e, found);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	ct_base_state(e, c);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R8, c->tcp_state_off));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R1, CT_SCRATCH));
	ct_read_window(e, c);
	ct_release(e, c);
	/* k = (dir * 6 + index) * 10 + state */
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, CT_SCRATCH));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGE, R2, CT_NSTATES, 0), store);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_OPTS_DIR));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 1));
	bf_emit(e, BPF_ALU64_IMM(BPF_MUL, R1, CT_NINDEX));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R3, R7, BF_PKT_KEY));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JGE, R3, CT_NINDEX, 0), store);
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R3));
	bf_emit(e, BPF_ALU64_IMM(BPF_MUL, R1, CT_NSTATES));
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R2));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, BF_PKT_KEY));
	ct_test_bit(e, reopen, l->new_);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_KEY));
	ct_test_bit(e, iv, l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_KEY));
	ct_test_bit(e, ign, store);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R2, R7, CT_SCRATCH));
	ct_tcp_window(e, l->invalid);
	bf_label_bind(e, store);
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R9, BF_PKT_CTSTATE));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
}

static void ct_udp(struct bf_gen *g, const struct ct_btf *c,
		   const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;

	/* udp_error(): whole header, 8 <= length <= what the datagram has */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 8, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + 4));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 8, 0), l->invalid);
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JGT, R1, R2, 0), l->invalid);
	ct_tuple_pkt(g);
	bf_emit(e, BPF_MOV64_IMM(R1, 17));
	ct_lookup(g, c, R1);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), l->new_);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	ct_base_state(e, c);
	ct_release(e, c);
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R9, BF_PKT_CTSTATE));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
}

static void ct_icmpq_error(struct bf_gen *g, const struct ct_labels *l);

/*
 * An ICMP error: the quoted IPv4 header (20 bytes, no options) and the
 * first 8 bytes of its TCP/UDP header, looked up inverted.
 */
static void ct_icmp_error(struct bf_gen *g, const struct ct_btf *c,
			  const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;
	const int in = BF_PKT_L4 + 8, in4 = BF_PKT_L4 + 28;
	uint32_t tcpudp = bf_label_new(e), icmpq = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 36, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, in));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0x45, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R9, R7, in + 9));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 6, 0), tcpudp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 1, 0), icmpq);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R9, 17, 0), l->invalid);
	bf_label_bind(e, tcpudp);
	/* the flow the quoted packet belongs to, seen from the other end */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, in + 16));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, in + 12));
	bf_emit(e, BPF_STX_MEM(BPF_W, R7, R1, CT_TUPLE + 4));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, in4 + 2));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, CT_TUPLE + 8));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, in4));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, CT_TUPLE + 10));
	bf_emit(e, BPF_ST_MEM(BPF_W, R7, CT_TUPLE + 12, 0));
	ct_lookup(g, c, R9);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), l->invalid);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	ct_natbits(e, c, R8);
	ct_release(e, c);
	/* the error goes to the quoted packet's sender (outer daddr check) */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, in + 12));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), l->invalid);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_RELATED));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
	/* a quoted ICMP query: the ICMP query tracker's entry */
	bf_label_bind(e, icmpq);
	ct_icmpq_error(g, l);
}

/* ---- ICMP queries: bpfilter's tracker (BF_MAP_ICMPCT) ------------------- */

uint32_t bf_icmpct_timeout(void)
{
	unsigned int v = 30;	/* the kernel's default */
	FILE *f;

	f = fopen("/proc/sys/net/netfilter/nf_conntrack_icmp_timeout", "re");
	if (!f)
		return v;
	if (fscanf(f, "%u", &v) != 1)
		v = 30;
	fclose(f);
	return v;
}

/* nf_conntrack_icmpv6_timeout, as bf_icmpct_timeout() reads ICMP's */
static uint32_t ct_icmpq_timeout(const struct bf_gen *g)
{
	unsigned int v = 30;	/* the kernel's default */
	FILE *f;

	if (!g->v6)
		return bf_icmpct_timeout();
	f = fopen("/proc/sys/net/netfilter/nf_conntrack_icmpv6_timeout", "re");
	if (!f)
		return v;
	if (fscanf(f, "%u", &v) != 1)
		v = 30;
	fclose(f);
	return v;
}

/* Does this program feed the tracker (not BPF_PROG_TEST_RUN's)? */
static bool ct_icmpq_feeds(const struct bf_gen *g)
{
	return g->opts.force_hook < 0;
}

/*
 * The query's addresses (at pkt + s, pkt + d; 16 bytes, 8-aligned, for
 * IPv6) into the key, the request's first: r3 = CT_OP_*; clobbers r4.
 */
static void ct_icmpq_addrs(struct bf_gen *g, int s, int d)
{
	struct bf_emit *e = &g->e;
	uint32_t rep_addrs = bf_label_new(e), out = bf_label_new(e);
	int i, n = g->v6 ? 16 : 4, sz = g->v6 ? BPF_DW : BPF_W;

	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R3, CT_OP_REPLY, 0), rep_addrs);
	for (i = 0; i < n; i += g->v6 ? 8 : 4) {
		bf_emit(e, BPF_LDX_MEM(sz, R4, R7, s + i));
		bf_emit(e, BPF_STX_MEM(sz, R7, R4, CT_ICMPQ_KEY + i));
		bf_emit(e, BPF_LDX_MEM(sz, R4, R7, d + i));
		bf_emit(e, BPF_STX_MEM(sz, R7, R4, CT_ICMPQ_KEY + 16 + i));
	}
	bf_emit_jmp(e, BPF_JMP_A(0), out);
	bf_label_bind(e, rep_addrs);
	for (i = 0; i < n; i += g->v6 ? 8 : 4) {
		bf_emit(e, BPF_LDX_MEM(sz, R4, R7, d + i));
		bf_emit(e, BPF_STX_MEM(sz, R7, R4, CT_ICMPQ_KEY + i));
		bf_emit(e, BPF_LDX_MEM(sz, R4, R7, s + i));
		bf_emit(e, BPF_STX_MEM(sz, R7, R4, CT_ICMPQ_KEY + 16 + i));
	}
	bf_label_bind(e, out);
}

/*
 * r1 = the ICMP type of a query (l4len >= 8 checked): build the key of
 * its entry at pkt + CT_ICMPQ_KEY and CT_ICMPQ_OP; other types jump to
 * `other`. The query's addresses are at pkt + sa / da, its ICMP header
 * at pkt + l4: the packet's own (ct_icmpq_key_pkt()), or one an ICMP
 * error quotes. ICMPv6: echo (128, 129) and node information (139, 140),
 * as icmpv6_invert_tuple() pairs them; 16-byte addresses.
 */
static void ct_icmpq_key(struct bf_gen *g, uint32_t other, int sa, int da,
			 int l4)
{
	static const uint8_t req4[] = { 8, 13, 15, 17 }, rep4[] = { 0, 14, 16, 18 };
	static const uint8_t req6[] = { 128, 139 }, rep6[] = { 129, 140 };
	const uint8_t *req = g->v6 ? req6 : req4, *rep = g->v6 ? rep6 : rep4;
	size_t i, n = g->v6 ? sizeof(req6) : sizeof(req4);
	struct bf_emit *e = &g->e;
	uint32_t is_req = bf_label_new(e), is_rep = bf_label_new(e);
	uint32_t common = bf_label_new(e);

	for (i = 0; i < n; i++) {
		uint32_t next = bf_label_new(e);

		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, req[i], 0), next);
		bf_emit(e, BPF_MOV64_IMM(R2, req[i]));
		bf_emit_jmp(e, BPF_JMP_A(0), is_req);
		bf_label_bind(e, next);
		next = bf_label_new(e);
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, rep[i], 0), next);
		bf_emit(e, BPF_MOV64_IMM(R2, req[i]));
		bf_emit_jmp(e, BPF_JMP_A(0), is_rep);
		bf_label_bind(e, next);
	}
	bf_emit_jmp(e, BPF_JMP_A(0), other);
	bf_label_bind(e, is_req);
	bf_emit(e, BPF_MOV64_IMM(R3, CT_OP_REQUEST));
	bf_emit_jmp(e, BPF_JMP_A(0), common);
	bf_label_bind(e, is_rep);
	bf_emit(e, BPF_MOV64_IMM(R3, CT_OP_REPLY));
	bf_label_bind(e, common);
	for (i = 0; i < sizeof(struct bf_icmpct_key); i += 8)
		bf_emit(e, BPF_ST_MEM(BPF_DW, R7, CT_ICMPQ_KEY + (int32_t)i, 0));
	ct_icmpq_addrs(g, sa, da);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R4, R7, l4 + 4));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R4, CT_ICMPQ_KEY +
			       (int32_t)offsetof(struct bf_icmpct_key, id)));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R2, CT_ICMPQ_KEY +
			       (int32_t)offsetof(struct bf_icmpct_key, type)));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R4, R7, l4 + 1));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R4, CT_ICMPQ_KEY +
			       (int32_t)offsetof(struct bf_icmpct_key, code)));
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_KEY +
			      (int32_t)offsetof(struct bf_icmpct_key, family),
			      g->v6 ? AF_INET6 : AF_INET));
	bf_emit(e, BPF_STX_MEM(BPF_B, R7, R3, CT_ICMPQ_OP));
}

/* The key of the packet's own query (r1 = its type). */
static void ct_icmpq_key_pkt(struct bf_gen *g, uint32_t other)
{
	ct_icmpq_key(g, other, g->v6 ? BF_PKT_SADDR6 : BF_PKT_SADDR,
		     g->v6 ? BF_PKT_DADDR6 : BF_PKT_DADDR, BF_PKT_L4);
}

/*
 * r8 = the key's entry or NULL, r9 = now; jumps to `miss` when there is
 * none or it timed out (nf_ct_is_expired()).
 */
static void ct_icmpq_find(struct bf_emit *e, uint32_t miss)
{
	bf_emit_ld_map(e, R1, BF_MAP_ICMPCT);
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, CT_ICMPQ_KEY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bf_emit(e, BPF_MOV64_REG(R9, R0));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, 0, 0), miss);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R8, offsetof(struct bf_icmpct_val, expires)));
	bf_emit(e, BPF_ALU64_REG(BPF_SUB, R1, R9));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JSLE, R1, 0, 0), miss);
}

/*
 * The state of an ICMP query (r1 = its type) from the tracker: a request
 * ESTABLISHED once its entry saw a reply, else NEW; a reply ESTABLISHED
 * with its request's entry, else INVALID (and nothing to record).
 */
static void ct_icmpq_state(struct bf_gen *g, const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;
	uint32_t miss = bf_label_new(e);

	ct_icmpq_key_pkt(g, l->invalid);
	ct_icmpq_find(e, miss);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_ICMPQ_OP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, CT_OP_REPLY, 0), l->est);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R8, offsetof(struct bf_icmpct_val, status)));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, BF_ICMPCT_SEEN_REPLY));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), l->est);
	bf_emit_jmp(e, BPF_JMP_A(0), l->new_);
	bf_label_bind(e, miss);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_ICMPQ_OP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, CT_OP_REQUEST, 0), l->new_);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_OP, CT_OP_NONE));
	bf_emit_jmp(e, BPF_JMP_A(0), l->invalid);
}

/*
 * An ICMP error quoting an ICMP query (nf_conntrack_inet_error() with
 * the quoted echo, timestamp, ... tuple inverted): RELATED when the
 * tracker has the query's entry and the error goes to the quoted
 * packet's sender, else INVALID. The error changes nothing in the entry.
 */
static void ct_icmpq_error(struct bf_gen *g, const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;
	const int in = BF_PKT_L4 + 8, in4 = BF_PKT_L4 + 28;

	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, in4));
	ct_icmpq_key(g, l->invalid, in + 12, in + 16, in4);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_OP, CT_OP_NONE));
	ct_icmpq_find(e, l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_DADDR));
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, in + 12));
	bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), l->invalid);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_RELATED));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
}

/*
 * The same for ICMPv6: an error quoting an ICMPv6 query whose header is
 * at pkt->l4 + `off` (behind the quoted IPv6 header and its extension
 * headers, ct6_quoted_l4()).
 */
static void ct6_icmpq_error(struct bf_gen *g, const struct ct_labels *l,
			    int off)
{
	struct bf_emit *e = &g->e;
	const int in = BF_PKT_L4 + 8;
	int i;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, off + 8, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4 + off));
	ct_icmpq_key(g, l->invalid, in + 8, in + 24, BF_PKT_L4 + off);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_OP, CT_OP_NONE));
	ct_icmpq_find(e, l->invalid);
	for (i = 0; i < 16; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_DADDR6 + i));
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R2, R7, in + 8 + i));
		bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), l->invalid);
	}
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_RELATED));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
}

/*
 * What the kernel's conntrack does with the query at pkt + CT_ICMPQ_KEY
 * (CT_ICMPQ_OP): an entry in force is refreshed (nf_ct_refresh_acct) and
 * a reply marks it replied; a request without one creates it. Clobbers
 * r0-r5, r8, r9.
 */
static void ct_icmpq_update(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t out = bf_label_new(e), miss = bf_label_new(e);
	uint64_t tmo = (uint64_t)ct_icmpq_timeout(g) * 1000000000ULL;

	bf_emit_mark(e, "conntrack: the ICMP query tracker sees the packet the kernel's conntrack gets");
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_ICMPQ_OP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, CT_OP_NONE, 0), out);
	ct_icmpq_find(e, miss);
	bf_emit_ld_imm64(e, R1, tmo);
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R9));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R8, R1, offsetof(struct bf_icmpct_val, expires)));
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_ICMPQ_OP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, CT_OP_REPLY, 0), out);
	bf_emit(e, BPF_ST_MEM(BPF_W, R8, offsetof(struct bf_icmpct_val, status),
			      BF_ICMPCT_SEEN_REPLY));
	bf_emit_jmp(e, BPF_JMP_A(0), out);
	bf_label_bind(e, miss);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, CT_ICMPQ_OP));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, CT_OP_REQUEST, 0), out);
	bf_emit_ld_imm64(e, R1, tmo);
	bf_emit(e, BPF_ALU64_REG(BPF_ADD, R1, R9));
	bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, CT_ICMPQ_VAL));
	bf_emit(e, BPF_ST_MEM(BPF_DW, R7, CT_ICMPQ_VAL + 8, 0));
	bf_emit_ld_map(e, R1, BF_MAP_ICMPCT);
	bf_emit(e, BPF_MOV64_REG(R2, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R2, CT_ICMPQ_KEY));
	bf_emit(e, BPF_MOV64_REG(R3, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, CT_ICMPQ_VAL));
	bf_emit(e, BPF_MOV64_IMM(R4, BPF_ANY));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));
	bf_label_bind(e, out);
}

/*
 * Record an ICMP query the kernel's conntrack has already seen (tc
 * egress): the key, then the update, whatever the verdict.
 */
static void ct_icmpq_egress(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;
	uint32_t skip = bf_label_new(e);

	bf_emit_mark(e, "conntrack: a locally sent ICMP query, for the tracker");
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), skip);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, g->v6 ? 58 : 1, 0), skip);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R1, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 8, 0), skip);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	ct_icmpq_key_pkt(g, skip);
	ct_icmpq_update(g);
	bf_label_bind(e, skip);
}

void bf_gen_ct_accept(struct bf_gen *g)
{
	if (!g->uses_ct || !ct_icmpq_feeds(g) ||
	    g->opts.hook == BF_HOOK_TC_EGRESS)
		return;
	ct_icmpq_update(g);
}

void bf_gen_ct_observe(struct bf_gen *g)
{
	struct bf_emit *e = &g->e;

	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_OP, CT_OP_NONE));
	ct_icmpq_egress(g);
}

static void ct_icmp(struct bf_gen *g, const struct ct_btf *c,
		    const struct ct_labels *l)
{
	static const uint8_t errors[] = { 3, 4, 5, 11, 12 };
	struct bf_emit *e = &g->e;
	uint32_t err = bf_label_new(e);
	size_t i;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 8, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	for (i = 0; i < sizeof(errors); i++)
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, errors[i], 0), err);
	ct_icmpq_state(g, l);
	bf_label_bind(e, err);
	ct_icmp_error(g, c, l);
}

/* pkt->ctstate |= the NAT bits, unless the packet is INVALID (no entry then). */
static void ct_natbits_join(struct bf_emit *e)
{
	uint32_t skip = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_CTSTATE));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, BF_CT_INVALID, 0), skip);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R2, R7, CT_NATBITS));
	bf_emit(e, BPF_ALU64_REG(BPF_OR, R1, R2));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, BF_PKT_CTSTATE));
	bf_label_bind(e, skip);
}

static void ct6_icmpq_error(struct bf_gen *g, const struct ct_labels *l,
			    int off);

/*
 * The quoted ports at pkt->l4 + `off` into the inverted IPv6 tuple, when
 * the datagram has them (nf_ct_get_tuple() reads 4 bytes); r9 = the
 * quoted protocol: TCP or UDP, or an ICMPv6 query whose 8-byte header
 * fits the copy (the ICMP query tracker's entry).
 */
static void ct6_quoted_ports(struct bf_gen *g, const struct ct_labels *l,
			     int off, uint32_t lookup)
{
	struct bf_emit *e = &g->e;
	uint32_t tcpudp = bf_label_new(e), invalid = l->invalid;

	if (off + 8 <= BF_PKT_L4_MAX) {
		uint32_t notq = bf_label_new(e);

		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R9, 58, 0), notq);
		ct6_icmpq_error(g, l, off);
		bf_label_bind(e, notq);
	}
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 6, 0), tcpudp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R9, 17, 0), invalid);
	bf_label_bind(e, tcpudp);
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, off + 4, 0), invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + off + 2));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, CT_TUPLE6 + 32));
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_L4 + off));
	bf_emit(e, BPF_STX_MEM(BPF_H, R7, R1, CT_TUPLE6 + 34));
	bf_emit_jmp(e, BPF_JMP_A(0), lookup);
}

/*
 * The quoted packet's transport header, as ipv6_skip_exthdr() finds it
 * (ipv6_get_l4proto() on the quoted packet), inside the BF_PKT_L4_MAX
 * bytes bpfilter_main copied: right after the quoted IPv6 header (l4 +
 * 48), or behind one extension header of 8 bytes (hop-by-hop, routing,
 * destination options, a first fragment, AH with hdrlen 0) or AH of 12.
 * Longer chains do not fit the copy: INVALID (docs/design-notes.md).
 * Ports into the tuple, r9 = the protocol, then `lookup`.
 */
static void ct6_quoted_l4(struct bf_gen *g, const struct ct_labels *l,
			  uint32_t lookup)
{
	struct bf_emit *e = &g->e;
	uint32_t invalid = l->invalid;
	const int ext = BF_PKT_L4 + 48;
	uint32_t opt = bf_label_new(e), frag = bf_label_new(e);
	uint32_t auth = bf_label_new(e), next8 = bf_label_new(e);
	uint32_t auth12 = bf_label_new(e), direct = bf_label_new(e);

	bf_emit(e, BPF_LDX_MEM(BPF_B, R9, R7, BF_PKT_L4 + 8 + 6));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 0, 0), opt);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 43, 0), opt);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 60, 0), opt);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 44, 0), frag);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R9, 51, 0), auth);
	bf_emit_jmp(e, BPF_JMP_A(0), direct);
	/* (hdrlen + 1) * 8 bytes: 8 fit */
	bf_label_bind(e, opt);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, ext + 1));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), invalid);
	bf_emit_jmp(e, BPF_JMP_A(0), next8);
	/* a non-first fragment has no ports: ipv6_skip_exthdr() stops */
	bf_label_bind(e, frag);
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, ext + 2));
	bf_emit(e, BPF_ENDIAN(BPF_TO_BE, R1, 16));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 0xfff8));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), invalid);
	bf_emit_jmp(e, BPF_JMP_A(0), next8);
	/* (hdrlen + 2) * 4 bytes: 8 or 12 fit */
	bf_label_bind(e, auth);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, ext + 1));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), next8);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 1, 0), invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R9, R7, ext));
	bf_emit_jmp(e, BPF_JMP_A(0), auth12);
	bf_label_bind(e, next8);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R9, R7, ext));
	ct6_quoted_ports(g, l, 56, lookup);
	bf_label_bind(e, auth12);
	ct6_quoted_ports(g, l, 60, lookup);
	bf_label_bind(e, direct);
	ct6_quoted_ports(g, l, 48, lookup);
}

/*
 * An ICMPv6 error (type < 128: nf_conntrack_icmpv6_error() hands every
 * one to nf_conntrack_inet_error()): the quoted IPv6 header (40 bytes),
 * its TCP or UDP header (ct6_quoted_l4) and ports, looked up inverted.
 * RELATED when found and the error goes to the quoted packet's sender
 * (outer daddr == quoted saddr), else INVALID.
 */
static void ct_icmp6_error(struct bf_gen *g, const struct ct_btf *c,
			   const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;
	const int in = BF_PKT_L4 + 8;
	uint32_t lookup = bf_label_new(e);
	int i;

	/* the quoted header and at least the ports behind it */
	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 8 + 40 + 4, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, in));
	bf_emit(e, BPF_ALU64_IMM(BPF_RSH, R1, 4));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 6, 0), l->invalid);
	ct6_quoted_l4(g, l, lookup);
	bf_label_bind(e, lookup);
	/* the flow the quoted packet belongs to, seen from the other end */
	for (i = 0; i < 16; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, in + 24 + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, CT_TUPLE6 + i));
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, in + 8 + i));
		bf_emit(e, BPF_STX_MEM(BPF_DW, R7, R1, CT_TUPLE6 + 16 + i));
	}
	ct_lookup(g, c, R9);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R0, 0, 0), l->invalid);
	bf_emit(e, BPF_MOV64_REG(R8, R0));
	ct_natbits(e, c, R8);
	ct_release(e, c);
	/* the error goes to the quoted packet's sender (outer daddr check) */
	for (i = 0; i < 16; i += 8) {
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, BF_PKT_DADDR6 + i));
		bf_emit(e, BPF_LDX_MEM(BPF_DW, R2, R7, in + 8 + i));
		bf_emit_jmp(e, BPF_JMP_REG(BPF_JNE, R1, R2, 0), l->invalid);
	}
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_RELATED));
	bf_emit_jmp(e, BPF_JMP_A(0), l->done);
}

/*
 * ICMPv6 (nf_conntrack_icmpv6_error(), then the ICMPv6 tracker): shorter
 * than 8 bytes INVALID; MLD, neighbour discovery and multicast router
 * discovery (130-136, 143, 151, 152) UNTRACKED, as the kernel leaves
 * them; errors (< 128) RELATED to the quoted flow or INVALID; echo and
 * node information queries (128/129, 139/140) from the ICMP query
 * tracker as for IPv4; every other type INVALID (no tuple inverts).
 */
static void ct_icmp6(struct bf_gen *g, const struct ct_btf *c,
		     const struct ct_labels *l)
{
	static const uint8_t untracked[] = { 130, 131, 132, 133, 134, 135, 136,
					     143, 151, 152 };
	struct bf_emit *e = &g->e;
	uint32_t err = bf_label_new(e);
	size_t i;

	bf_emit(e, BPF_LDX_MEM(BPF_W, R2, R7, BF_PKT_L4LEN));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R2, 8, 0), l->invalid);
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_L4));
	for (i = 0; i < sizeof(untracked); i++)
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, untracked[i], 0),
			    l->untracked);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JLT, R1, 128, 0), err);
	ct_icmpq_state(g, l);	/* 128, 129, 139, 140; the rest INVALID */
	bf_label_bind(e, err);
	ct_icmp6_error(g, c, l);
}

int bf_gen_ct_check(struct bf_gen *g)
{
	const struct ct_btf *c = ct_btf_get();

	if (!c->err)
		return 0;
	return bf_err_set(g->err, c->err,
			  "table %s: conntrack matches need the kernel's BTF with the conntrack kfuncs (bpf_xdp_ct_lookup, bpf_skb_ct_lookup, bpf_ct_release; /sys/kernel/btf/vmlinux): %s",
			  g->ir->table, strerror(-c->err));
}

/*
 * tc egress (OUTPUT) runs after the kernel's conntrack saw the packet:
 * where the kernel lets a program see the skb (bpf_cast_to_kern_ctx,
 * Linux 6.3+), its _nfct is exactly what the filter table sees: no
 * conntrack INVALID, IP_CT_UNTRACKED (7), else the ctinfo in the low 3
 * bits (ESTABLISHED 0/3, RELATED 1/4, NEW 2).
 */
static void ct_from_skb(struct bf_gen *g, const struct ct_btf *c,
			const struct ct_labels *l)
{
	struct bf_emit *e = &g->e;

	bf_emit_mark(e, "conntrack state: skb->_nfct, as the kernel's OUTPUT hook saw it");
	bf_emit(e, BPF_MOV64_REG(R1, R6));
	ct_kfunc(e, c->cast_ctx, 0);
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R8, R0, c->nfct_off));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R8, 0, 0), l->invalid);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 7));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 7, 0), l->untracked);
	/* the entry's status (_nfct is a plain word to the verifier): NAT bits */
	bf_emit(e, BPF_MOV64_REG(R3, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R3, -8));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R3, (int32_t)c->status_off));
	bf_emit(e, BPF_MOV64_REG(R1, R7));
	bf_emit(e, BPF_ALU64_IMM(BPF_ADD, R1, CT_TUPLE));
	bf_emit(e, BPF_MOV64_IMM(R2, 8));
	bf_emit(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bf_emit(e, BPF_LDX_MEM(BPF_DW, R1, R7, CT_TUPLE));
	ct_natbits_from(e, c);
	bf_emit(e, BPF_MOV64_REG(R1, R8));
	bf_emit(e, BPF_ALU64_IMM(BPF_AND, R1, 7));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 0, 0), l->est);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 3, 0), l->est);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 1, 0), l->related);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 4, 0), l->related);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 2, 0), l->new_);
	bf_emit_jmp(e, BPF_JMP_A(0), l->invalid);
}

void bf_gen_ct_state(struct bf_gen *g)
{
	const struct ct_btf *c = ct_btf_get();
	struct bf_emit *e = &g->e;
	struct ct_labels l;
	uint32_t tcp, udp, icmp;

	l.done = bf_label_new(e);
	l.invalid = bf_label_new(e);
	l.est = bf_label_new(e);
	l.new_ = bf_label_new(e);
	l.related = bf_label_new(e);
	l.untracked = bf_label_new(e);
	tcp = bf_label_new(e);
	udp = bf_label_new(e);
	icmp = bf_label_new(e);
	bf_emit(e, BPF_ST_MEM(BPF_B, R7, CT_ICMPQ_OP, CT_OP_NONE));
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, CT_NATBITS, 0));
	if (g->opts.hook == BF_HOOK_TC_EGRESS && g->opts.force_hook < 0 &&
	    c->cast_ctx >= 0) {
		if (ct_icmpq_feeds(g))
			ct_icmpq_egress(g);
		ct_from_skb(g, c, &l);
		goto states;
	}
	bf_emit_mark(e, "conntrack state: the kernel's entry (kfunc lookup) as its conntrack would see this packet");
	bf_emit(e, BPF_LDX_MEM(BPF_H, R1, R7, BF_PKT_FRAGOFF));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), l.est);
	if (g->v6) {
		/*
		 * ipv6_get_l4proto(): ipv6_skip_exthdr() failing (a header
		 * not inside the packet) or ending at NEXTHDR_NONE: no
		 * conntrack, INVALID.
		 */
		bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_WALKERR));
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JNE, R1, 0, 0), l.invalid);
	}
	bf_emit(e, BPF_LDX_MEM(BPF_B, R1, R7, BF_PKT_PROTO));
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 6, 0), tcp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 17, 0), udp);
	bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, g->v6 ? 58 : 1, 0), icmp);
	if (g->v6)
		bf_emit_jmp(e, BPF_JMP_IMM(BPF_JEQ, R1, 59, 0), l.invalid);
	bf_emit_jmp(e, BPF_JMP_A(0), l.new_);
	bf_label_bind(e, tcp);
	ct_tcp(g, c, &l);
	bf_label_bind(e, udp);
	ct_udp(g, c, &l);
	bf_label_bind(e, icmp);
	if (g->v6)
		ct_icmp6(g, c, &l);
	else
		ct_icmp(g, c, &l);
states:
	bf_label_bind(e, l.related);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_RELATED));
	bf_emit_jmp(e, BPF_JMP_A(0), l.done);
	bf_label_bind(e, l.untracked);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_UNTRACKED));
	bf_emit_jmp(e, BPF_JMP_A(0), l.done);
	bf_label_bind(e, l.new_);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_NEW));
	bf_emit_jmp(e, BPF_JMP_A(0), l.done);
	bf_label_bind(e, l.est);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_ESTABLISHED));
	bf_emit_jmp(e, BPF_JMP_A(0), l.done);
	bf_label_bind(e, l.invalid);
	bf_emit(e, BPF_ST_MEM(BPF_H, R7, BF_PKT_CTSTATE, BF_CT_INVALID));
	bf_label_bind(e, l.done);
	ct_natbits_join(e);
	/* tc egress without _nfct (Linux 6.1): conntrack ran, whatever the verdict */
	if (g->opts.hook == BF_HOOK_TC_EGRESS && ct_icmpq_feeds(g) &&
	    c->cast_ctx < 0)
		ct_icmpq_update(g);
}
