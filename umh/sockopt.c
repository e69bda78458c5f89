// SPDX-License-Identifier: GPL-2.0
/*
 * The ip_tables and ip6_tables sockopts, answered with the errnos the
 * kernel itself returns (net/ipv4/netfilter/ip_tables.c and
 * net/ipv6/netfilter/ip6_tables.c: do_ip(6)t_get_ctl, get_info,
 * get_entries, do_replace, __do_replace, do_add_counters and
 * xt_replace_table / xt_copy_counters in x_tables.c), in the order the
 * kernel checks them. The two families differ only in the entry layout
 * (ipt_entry / ip6t_entry), the revision optnames (66/67 vs 68/69) and
 * the front-end; the headers (ipt_getinfo, ipt_get_entries, ipt_replace,
 * xt_counters_info) have the same layout in both.
 *
 * The transport already checked CAP_NET_ADMIN and copied the caller's
 * buffer: GET payloads are the first min(optlen, BPFILTER_GET_IN_MAX)
 * bytes, SET payloads the whole optlen bytes. A payload that disagrees with
 * optlen is a transport bug, answered -EPROTO.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter/log.h"
#include "internal.h"

/* Does the (NUL-terminated) table name name our table? */
static bool umh_is_filter(char *name, size_t size)
{
	name[size - 1] = '\0';
	return !strcmp(name, "filter");
}

static int umh_get_info(const struct umh_table *t,
			const struct bpfilter_req *req, const void *in,
			struct bpfilter_reply *reply, void **out)
{
	struct ipt_getinfo *info;
	char name[XT_TABLE_MAXNAMELEN];

	if (req->optlen != sizeof(*info))
		return -EINVAL;
	memcpy(name, in, sizeof(name));
	if (!umh_is_filter(name, sizeof(name)))
		return -ENOENT;
	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	info->valid_hooks = t->repl->valid_hooks;
	memcpy(info->hook_entry, t->repl->hook_entry, sizeof(info->hook_entry));
	memcpy(info->underflow, t->repl->underflow, sizeof(info->underflow));
	info->num_entries = t->repl->num_entries;
	info->size = t->repl->size;
	strcpy(info->name, name);
	reply->optlen = sizeof(*info);
	reply->payload_len = sizeof(*info);
	*out = info;
	return 0;
}

/* Write counters[i] into the i-th entry of the blob at `entries`. */
static int umh_fill_counters(int family, void *entries, uint32_t size,
			     const struct xt_counters *counters, uint32_t n)
{
	size_t esize = umh_entry_size(family);
	uint32_t off = 0, i = 0;
	uint16_t next;
	char *e;

	while (off < size) {
		if (size - off < esize || i >= n)
			return -EIO;
		e = (char *)entries + off;
		memcpy(&next, e + umh_entry_next_off(family), sizeof(next));
		if (next < esize || next > size - off)
			return -EIO;
		memcpy(e + umh_entry_counters_off(family), &counters[i],
		       sizeof(counters[i]));
		off += next;
		i++;
	}
	return i == n ? 0 : -EIO;
}

static int umh_get_entries(const struct umh_table *t,
			   const struct bpfilter_req *req, const void *in,
			   struct bpfilter_reply *reply, void **out)
{
	struct xt_counters *counters;
	struct ipt_get_entries get, *res;
	int r;

	if (req->optlen < sizeof(get))
		return -EINVAL;
	memcpy(&get, in, sizeof(get));
	if ((uint64_t)req->optlen != sizeof(get) + (uint64_t)get.size)
		return -EINVAL;
	if (!umh_is_filter(get.name, sizeof(get.name)))
		return -ENOENT;
	if (get.size != t->repl->size)
		return -EAGAIN;
	r = umh_table_counters(t, &counters);
	if (r)
		return r;
	res = malloc(req->optlen);
	if (!res) {
		free(counters);
		return -ENOMEM;
	}
	/* ip_tables writes the entries only; the header stays the caller's. */
	memcpy(res, in, sizeof(get));
	memcpy(res->entrytable, t->repl->entries, t->repl->size);
	r = umh_fill_counters(t->family, res->entrytable, t->repl->size,
			      counters, t->ir->n_entries);
	free(counters);
	if (r) {
		bf_err("GET_ENTRIES: the stored table does not walk (bug)");
		free(res);
		return r;
	}
	reply->optlen = req->optlen;
	reply->payload_len = req->optlen;
	*out = res;
	return 0;
}

static int umh_get_revision(int family, const struct bpfilter_req *req,
			    const void *in, bool match)
{
	struct xt_get_revision rev;

	if (req->optlen != sizeof(rev))
		return -EINVAL;
	memcpy(&rev, in, sizeof(rev));
	rev.name[sizeof(rev.name) - 1] = '\0';
	if (family == AF_INET6)
		return match ? bf_xt6_match_revision(rev.name, rev.revision) :
			       bf_xt6_target_revision(rev.name, rev.revision);
	return match ? bf_xt4_match_revision(rev.name, rev.revision) :
		       bf_xt4_target_revision(rev.name, rev.revision);
}

static int umh_get(const struct umh_table *t, const struct bpfilter_req *req,
		   const void *in, struct bpfilter_reply *reply, void **out)
{
	uint32_t want = req->optlen < BPFILTER_GET_IN_MAX ?
			req->optlen : BPFILTER_GET_IN_MAX;
	bool v6 = t->family == AF_INET6;
	uint32_t max = v6 ? IP6T_SO_GET_MAX : IPT_SO_GET_MAX;

	if (req->optname < IPT_SO_GET_INFO || req->optname > max)
		return -ENOPROTOOPT;
	if (req->payload_len < want) {
		bf_err("GET %u from pid %u: %u payload bytes for optlen %u (transport bug)",
		       req->optname, req->pid, req->payload_len, req->optlen);
		return -EPROTO;
	}
	switch (req->optname) {
	case IPT_SO_GET_INFO:		/* == IP6T_SO_GET_INFO */
		return umh_get_info(t, req, in, reply, out);
	case IPT_SO_GET_ENTRIES:	/* == IP6T_SO_GET_ENTRIES */
		return umh_get_entries(t, req, in, reply, out);
	case IPT_SO_GET_REVISION_MATCH:
	case IPT_SO_GET_REVISION_TARGET:
		/* 66/67 are IPv6 socket options the kernel answers itself */
		if (v6)
			return -EINVAL;
		return umh_get_revision(AF_INET, req, in,
					req->optname == IPT_SO_GET_REVISION_MATCH);
	default:		/* IP6T_SO_GET_REVISION_MATCH / _TARGET */
		return umh_get_revision(AF_INET6, req, in,
					req->optname == IP6T_SO_GET_REVISION_MATCH);
	}
}

/* Swap `t` in as the table in force and hand back the old counters. */
static int umh_commit(struct bf_umh *umh, struct umh_table *t,
		      uint32_t num_counters, struct bpfilter_reply *reply,
		      void **out)
{
	struct umh_table **tp = umh_tablep(umh, t->family);
	struct umh_table *old = *tp;
	struct xt_counters *counters = NULL;
	int r;

	/* Read after the swap, as ip_tables does: every old packet counts. */
	r = umh_table_counters(old, &counters);
	if (r)
		bf_warn("SET_REPLACE: cannot collect the old counters: %s",
			strerror(-r));
	*tp = t;
	umh_table_free(old);
	if (counters) {
		reply->payload_len = num_counters * sizeof(*counters);
		*out = counters;
	}
	if (umh->mode == BF_UMH_ATTACH && umh->state_dir) {
		r = umh_state_save(umh);
		if (r)
			bf_warn("cannot save the table state in %s: %s",
				umh->state_dir, strerror(-r));
	}
	return 0;
}

static int umh_set_replace(struct bf_umh *umh, struct umh_table *cur,
			   const struct bpfilter_req *req, const void *in,
			   struct bpfilter_reply *reply, void **out)
{
	struct ipt_replace *repl;
	struct umh_table *t;
	struct bf_err err = {};
	uint32_t num_counters;
	char what[64];
	int r;

	if (req->optlen < sizeof(*repl))
		return -EINVAL;
	repl = malloc(req->optlen);
	if (!repl)
		return -ENOMEM;
	memcpy(repl, in, req->optlen);
	num_counters = repl->num_counters;
	if (num_counters >= INT_MAX / sizeof(struct xt_counters)) {
		free(repl);
		return -ENOMEM;
	}
	if (num_counters == 0 ||
	    (uint64_t)req->optlen < sizeof(*repl) + (uint64_t)repl->size) {
		free(repl);
		return -EINVAL;
	}
	repl->name[sizeof(repl->name) - 1] = '\0';
	r = umh_table_build(umh, cur->family, repl, req->optlen, cur, &t, &err);
	if (r)
		goto err_refuse;
	if (umh->mode == BF_UMH_ATTACH) {
		r = umh_install(umh, t, &err);
		if (r) {
			umh_table_free(t);
			goto err_refuse;
		}
	}
	bf_info("SET_REPLACE from pid %u: %s %u entries, %u bytes in force",
		req->pid, t->family == AF_INET6 ? "IPv6" : "IPv4",
		t->ir->n_entries, t->repl->size);
	r = umh_commit(umh, t, num_counters, reply, out);
	bf_err_clear(&err);
	return r;

err_refuse:
	snprintf(what, sizeof(what), "%sSET_REPLACE from pid %u",
		 cur->family == AF_INET6 ? "IPv6 " : "", req->pid);
	umh_refuse(umh, what, r, &err);
	bf_err_clear(&err);
	return r;
}

static int umh_add_counters(struct bf_umh *umh, struct umh_table *t,
			    const struct bpfilter_req *req, const void *in)
{
	const struct xt_counters *add;
	struct xt_counters_info info;
	uint32_t i;

	if (req->optlen < sizeof(info))
		return -EINVAL;
	memcpy(&info, in, sizeof(info));
	if ((uint64_t)req->optlen - sizeof(info) !=
	    (uint64_t)info.num_counters * sizeof(struct xt_counters))
		return -EINVAL;
	if (!umh_is_filter(info.name, sizeof(info.name)))
		return -ENOENT;
	if (info.num_counters != t->ir->n_entries)
		return -EINVAL;
	add = (const struct xt_counters *)((const char *)in + sizeof(info));
	for (i = 0; i < info.num_counters; i++) {
		struct xt_counters c;

		memcpy(&c, &add[i], sizeof(c));
		t->base[i].pcnt += c.pcnt;
		t->base[i].bcnt += c.bcnt;
	}
	if (umh->mode == BF_UMH_ATTACH && umh->state_dir) {
		int r = umh_state_save(umh);

		if (r)
			bf_warn("cannot save the table state in %s: %s",
				umh->state_dir, strerror(-r));
	}
	return 0;
}

static int umh_set(struct bf_umh *umh, struct umh_table *t,
		   const struct bpfilter_req *req, const void *in,
		   struct bpfilter_reply *reply, void **out)
{
	if (req->optname != IPT_SO_SET_REPLACE &&
	    req->optname != IPT_SO_SET_ADD_COUNTERS)
		return -ENOPROTOOPT;
	if (req->payload_len != req->optlen) {
		bf_err("SET %u from pid %u: %u payload bytes for optlen %u (transport bug)",
		       req->optname, req->pid, req->payload_len, req->optlen);
		return -EPROTO;
	}
	if (req->optname == IPT_SO_SET_REPLACE)
		return umh_set_replace(umh, t, req, in, reply, out);
	return umh_add_counters(umh, t, req, in);
}

int umh_sockopt(struct bf_umh *umh, const struct bpfilter_req *req,
		const void *payload, struct bpfilter_reply *reply,
		void **payload_out)
{
	struct umh_table **tp = umh_tablep(umh, req->family);

	reply->optlen = req->optlen;
	/* no table of that family: as a kernel without ip6_tables */
	if (!tp || !*tp)
		return -ENOPROTOOPT;
	if (req->cmd == BPFILTER_CMD_GET)
		return umh_get(*tp, req, payload, reply, payload_out);
	return umh_set(umh, *tp, req, payload, reply, payload_out);
}
