// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for a generated program, built with libbpf's btf__add_* API: the
 * verifier needs a FUNC per subprogram to verify global functions one at a
 * time. Chain functions are int f(struct xdp_md | struct __sk_buff *ctx,
 * struct bf_pkt *pkt): the ctx struct's name is what makes the verifier
 * treat the first argument as PTR_TO_CTX; the second is a nullable memory
 * pointer of sizeof(struct bf_pkt) (scalar members only).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/btf.h>
#include <bpf/btf.h>

#include "gen.h"

struct btf_ids {
	int u8, u16, u32, s32;
	int ctx_ptr, pkt_ptr;
	int proto_main, proto_chain;
	int proto_chain6;	/* two-family programs: IPv6 chain functions */
};

static int btf_add_pkt(struct btf *btf, const struct btf_ids *t, bool v6)
{
	static const struct {
		const char *name;
		int off;
		int kind;	/* 8, 16, 32: int; else array of u8 of that size */
	} m[] = {
		{ "saddr", BF_PKT_SADDR, 32 }, { "daddr", BF_PKT_DADDR, 32 },
		{ "iif", BF_PKT_IIF, 32 }, { "oif", BF_PKT_OIF, 32 },
		{ "len", BF_PKT_LEN, 32 }, { "l3_off", BF_PKT_L3OFF, 32 },
		{ "l4_off", BF_PKT_L4OFF, 32 }, { "l4_len", BF_PKT_L4LEN, 32 },
		{ "fragoff", BF_PKT_FRAGOFF, 16 }, { "proto", BF_PKT_PROTO, 8 },
		{ "optdrop", BF_PKT_OPTDROP, 8 }, { "key", BF_PKT_KEY, 32 },
		{ "tos", BF_PKT_TOS, 8 }, { "hook", BF_PKT_HOOK, 8 },
		{ "ttl", BF_PKT_TTL, 8 }, { "pkttype", BF_PKT_PKTTYPE, 8 },
		{ "pad", BF_PKT_PKTTYPE + 1, -(BF_PKT_TCPOPTS - BF_PKT_PKTTYPE - 1) },
		{ "tcpopts", BF_PKT_TCPOPTS, -32 },
		{ "ifb_in", BF_PKT_IFB_IN, -32 },
		{ "ifb_out", BF_PKT_IFB_OUT, -32 },
		{ "l4", BF_PKT_L4, -BF_PKT_L4_MAX },
		{ "smac", BF_PKT_SMAC, -(BF_PKT_SIZE - BF_PKT_SMAC) },
		/* IPv6 programs only (BF_PKT6_SIZE) */
		{ "saddr6", BF_PKT_SADDR6, -16 },
		{ "daddr6", BF_PKT_DADDR6, -16 },
	};
	int n = sizeof(m) / sizeof(m[0]) - (v6 ? 0 : 2);
	int types[sizeof(m) / sizeof(m[0])];
	int id, i, ret;

	/* member types first: a struct's fields must follow it directly */
	for (i = 0; i < n; i++) {
		if (m[i].kind == 8)
			types[i] = t->u8;
		else if (m[i].kind == 16)
			types[i] = t->u16;
		else if (m[i].kind == 32)
			types[i] = t->u32;
		else
			types[i] = btf__add_array(btf, t->u32, t->u8, -m[i].kind);
		if (types[i] < 0)
			return types[i];
	}
	id = btf__add_struct(btf, v6 && t->proto_chain ? "bf_pkt6" : "bf_pkt",
			     v6 ? BF_PKT6_SIZE : BF_PKT_SIZE);
	if (id < 0)
		return id;
	for (i = 0; i < n; i++) {
		ret = btf__add_field(btf, m[i].name, types[i], m[i].off * 8, 0);
		if (ret)
			return ret;
	}
	return id;
}

static int btf_add_types(struct btf *btf, enum bf_hook hook, bool v6,
			 struct btf_ids *t)
{
	bool xdp = hook == BF_HOOK_XDP;
	int ctx, pkt, ret;

	t->u8 = btf__add_int(btf, "unsigned char", 1, 0);
	t->u16 = btf__add_int(btf, "unsigned short", 2, 0);
	t->u32 = btf__add_int(btf, "unsigned int", 4, 0);
	t->s32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	if (t->u8 < 0 || t->u16 < 0 || t->u32 < 0 || t->s32 < 0)
		return -ENOMEM;
	/* only the name matters to the verifier; one member for sanity */
	ctx = btf__add_struct(btf, xdp ? "xdp_md" : "__sk_buff",
			      xdp ? 24 : 192);
	if (ctx < 0)
		return ctx;
	ret = btf__add_field(btf, xdp ? "data" : "len", t->u32, 0, 0);
	if (ret)
		return ret;
	pkt = btf_add_pkt(btf, t, v6);
	if (pkt < 0)
		return pkt;
	t->ctx_ptr = btf__add_ptr(btf, ctx);
	t->pkt_ptr = btf__add_ptr(btf, pkt);
	if (t->ctx_ptr < 0 || t->pkt_ptr < 0)
		return -ENOMEM;
	t->proto_main = btf__add_func_proto(btf, t->s32);
	if (t->proto_main < 0 ||
	    btf__add_func_param(btf, "ctx", t->ctx_ptr))
		return -ENOMEM;
	t->proto_chain = btf__add_func_proto(btf, t->s32);
	if (t->proto_chain < 0 ||
	    btf__add_func_param(btf, "ctx", t->ctx_ptr) ||
	    btf__add_func_param(btf, "pkt", t->pkt_ptr))
		return -ENOMEM;
	return 0;
}

/* The IPv6 chain prototype of a program that also has IPv4 chains. */
static int btf_add_chain6(struct btf *btf, struct btf_ids *t)
{
	int pkt, ptr;

	pkt = btf_add_pkt(btf, t, true);
	if (pkt < 0)
		return pkt;
	ptr = btf__add_ptr(btf, pkt);
	if (ptr < 0)
		return ptr;
	t->proto_chain6 = btf__add_func_proto(btf, t->s32);
	if (t->proto_chain6 < 0 ||
	    btf__add_func_param(btf, "ctx", t->ctx_ptr) ||
	    btf__add_func_param(btf, "pkt", ptr))
		return -ENOMEM;
	return 0;
}

/* The prototype of function i: main, or a chain of its family. */
static int btf_proto(const struct bf_prog *prog, const struct btf_ids *t,
		     uint32_t i)
{
	if (i == 0)
		return t->proto_main;
	if (prog->funcs[i].family == AF_INET6 && prog->family != AF_INET6)
		return t->proto_chain6;
	return t->proto_chain;
}

int bf_btf_build(const struct bf_prog *prog, struct btf **btfp,
		 uint32_t *type_ids)
{
	struct btf_ids t;
	struct btf *btf;
	uint32_t i;
	int ret, id;

	btf = btf__new_empty();
	if (!btf)
		return -ENOMEM;
	memset(&t, 0, sizeof(t));
	ret = btf_add_types(btf, prog->hook, prog->family == AF_INET6, &t);
	if (ret)
		goto err;
	for (i = 1; i < prog->n_funcs && prog->family != AF_INET6; i++) {
		if (prog->funcs[i].family == AF_INET6) {
			ret = btf_add_chain6(btf, &t);
			if (ret)
				goto err;
			break;
		}
	}
	for (i = 0; i < prog->n_funcs; i++) {
		id = btf__add_func(btf, prog->funcs[i].name, BTF_FUNC_GLOBAL,
				   btf_proto(prog, &t, i));
		if (id < 0) {
			ret = id;
			goto err;
		}
		type_ids[i] = id;
	}
	*btfp = btf;
	return 0;
err:
	btf__free(btf);
	return ret < 0 ? ret : -EINVAL;
}
