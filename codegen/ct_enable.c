// SPDX-License-Identifier: GPL-2.0
/*
 * Switch the kernel's connection tracking on in the current network
 * namespace. The kernel tracks a namespace only while something holds a
 * conntrack reference there (nf_ct_netns_get(): xt_conntrack's checkentry,
 * nft's ct expression, ...). Under bpfilter, ip_tables never sees the
 * conntrack match, so bpfilter takes the reference itself, through
 * nf_tables (netlink, no nft binary needed): the table
 *
 *   table ip bpfilter_ct { chain track { ct state } }
 *
 * (`table ip6 bpfilter_ct` for IPv6 programs: the reference is per
 * family, as xt_conntrack's in an ip6tables table is), whose one rule loads the ct state into a register in a chain no hook
 * runs. Creating the ct expression is what takes the reference; the rule
 * costs nothing per packet. The table is replaced in one transaction
 * (add, delete, add), so enabling twice leaves one rule and the reference
 * never drops in between. It stays while the namespace lives (or until
 * someone deletes it, e.g. `nft flush ruleset`: docs/design-notes.md).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "bpfilter/codegen.h"
#include "gen.h"

#define CT_TABLE	"bpfilter_ct"
#define CT_CHAIN	"track"

/* `fam`: the nf_tables family of the table (NFPROTO_IPV4 / NFPROTO_IPV6) */
static struct nlmsghdr *cte_msg(struct mnl_nlmsg_batch *b, uint16_t type,
				uint16_t flags, uint32_t seq, uint16_t res_id,
				uint8_t fam)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = res_id == NFNL_SUBSYS_NFTABLES ? AF_UNSPEC : fam;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

static uint16_t cte_type(int msg)
{
	return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

static void cte_table(struct mnl_nlmsg_batch *b, int msg, uint32_t seq,
		      uint8_t fam)
{
	struct nlmsghdr *nlh;

	nlh = cte_msg(b, cte_type(msg), NLM_F_ACK |
		      (msg == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0), seq, 0, fam);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, CT_TABLE);
	mnl_nlmsg_batch_next(b);
}

static void cte_chain_rule(struct mnl_nlmsg_batch *b, uint32_t seq,
			   uint8_t fam)
{
	struct nlattr *list, *elem, *data;
	struct nlmsghdr *nlh;

	nlh = cte_msg(b, cte_type(NFT_MSG_NEWCHAIN),
		      NLM_F_ACK | NLM_F_CREATE, seq, 0, fam);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, CT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, CT_CHAIN);
	mnl_nlmsg_batch_next(b);

	nlh = cte_msg(b, cte_type(NFT_MSG_NEWRULE),
		      NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, seq + 1, 0, fam);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, CT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, CT_CHAIN);
	list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "ct");
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u32(nlh, NFTA_CT_KEY, htonl(NFT_CT_STATE));
	mnl_attr_put_u32(nlh, NFTA_CT_DREG, htonl(NFT_REG_1));
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	mnl_nlmsg_batch_next(b);
}

/* Read acks until every message from seq0 to seq_last answered. */
static int cte_acks(struct mnl_socket *nl, uint32_t seq0, uint32_t seq_last)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t left = seq_last - seq0 + 1;
	int i;

	for (i = 0; i < 64 && left; i++) {
		int n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error)
				return e->error;
			if (nlh->nlmsg_seq >= seq0 && nlh->nlmsg_seq <= seq_last)
				left--;
		}
	}
	return left ? -ETIMEDOUT : 0;
}

int bf_ct_enable_family(int family, struct bf_err *err)
{
	uint8_t fam = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval tv = { .tv_sec = 2 };
	struct mnl_nlmsg_batch *b;
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL) << 8, seq0;
	int ret;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return bf_err_set(err, -errno, "conntrack: cannot open a netfilter netlink socket: %s",
				  strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0) {
		ret = -errno;
		goto out;
	}
	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	cte_msg(b, NFNL_MSG_BATCH_BEGIN, 0, seq++, NFNL_SUBSYS_NFTABLES, fam);
	mnl_nlmsg_batch_next(b);
	seq0 = seq;
	cte_table(b, NFT_MSG_NEWTABLE, seq++, fam);
	cte_table(b, NFT_MSG_DELTABLE, seq++, fam);
	cte_table(b, NFT_MSG_NEWTABLE, seq++, fam);
	cte_chain_rule(b, seq, fam);
	seq += 2;
	cte_msg(b, NFNL_MSG_BATCH_END, 0, seq, NFNL_SUBSYS_NFTABLES, fam);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
			      mnl_nlmsg_batch_size(b)) < 0)
		ret = -errno;
	else
		ret = cte_acks(nl, seq0, seq - 1);
	mnl_nlmsg_batch_stop(b);
out:
	mnl_socket_close(nl);
	if (ret)
		return bf_err_set(err, ret,
				  "conntrack: cannot switch connection tracking on (nf_tables table %s %s): %s",
				  fam == NFPROTO_IPV6 ? "ip6" : "ip", CT_TABLE,
				  strerror(-ret));
	return 0;
}

int bf_ct_enable(struct bf_err *err)
{
	return bf_ct_enable_family(AF_INET, err);
}

int bf_ct_enable_prog(const struct bf_prog *prog, struct bf_err *err)
{
	unsigned int fams = prog->ct_families;
	int ret = 0;

	if (!fams)
		fams = prog->family == AF_INET6 ? BF_CT_FAM6 : BF_CT_FAM4;
	if (fams & BF_CT_FAM4)
		ret = bf_ct_enable_family(AF_INET, err);
	if (!ret && (fams & BF_CT_FAM6))
		ret = bf_ct_enable_family(AF_INET6, err);
	return ret;
}

/* The fd of the loaded kernel BTF object called `name`, or -ENOENT. */
static int cte_btf_fd(const char *name)
{
	uint32_t id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info;
		uint32_t len = sizeof(info);
		char buf[64] = "";
		int fd;

		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		info.name = (uintptr_t)buf;
		info.name_len = sizeof(buf);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    !strcmp(buf, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int bf_ct_kfunc_fds(const struct bf_prog *prog, int fd_array[2],
		    struct bf_err *err)
{
	uint32_t i;
	int fd;

	for (i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].code == (BPF_JMP | BPF_CALL) &&
		    prog->insns[i].src_reg == BPF_PSEUDO_KFUNC_CALL &&
		    prog->insns[i].off == 1)
			break;
	if (i == prog->n_insns)
		return 0;
	fd = cte_btf_fd(BF_CT_MODULE);
	if (fd < 0)
		return bf_err_set(err, fd, "conntrack: the kernel has no BTF for module %s",
				  BF_CT_MODULE);
	fd_array[0] = fd;
	fd_array[1] = fd;
	return 0;
}

bool bf_prog_uses_ct(const struct bf_prog *prog)
{
	uint32_t i;

	for (i = 0; i < prog->n_insns; i++)
		if (prog->insns[i].code == (BPF_JMP | BPF_CALL) &&
		    prog->insns[i].src_reg == BPF_PSEUDO_KFUNC_CALL)
			return true;
	return false;
}
