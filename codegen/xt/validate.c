// SPDX-License-Identifier: GPL-2.0
/*
 * The checks ip_tables and ip6_tables make on a SET_REPLACE payload, in
 * their order and with their errnos (do_replace(), translate_table(),
 * check_entry_size_and_hooks(), xt_check_entry_offsets(),
 * xt_check_table_hooks(), mark_source_chains(), find_check_entry()).
 * Written from the kernel's behaviour; tests/unit/test_xt_hostile.c and
 * test_xt_fuzz.c feed the same blobs to the kernel's SET_REPLACE in a
 * scratch netns and compare errnos (and GET_ENTRIES bytes). Measured on
 * 6.18, and kept here because they are easy to get wrong:
 *   - len < sizeof(ipt_replace) + size is -EINVAL (not -EFAULT): the
 *     check precedes the size allocation, so it wins over -ENOMEM;
 *   - a known match or target with an unknown revision is -ENOENT for
 *     per-family extensions (tcp, udp, icmp, standard, ERROR) and
 *     -EPROTOTYPE for family-independent ones (comment); only the
 *     revision probes answer -EPROTONOSUPPORT;
 *   - the table name is looked up after all of translate_table(), so a
 *     broken blob for table "nat" is -EINVAL, not -ENOENT.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter/msg.h"
#include "xt4.h"

int xt4_check_header(struct ipt_replace *repl, size_t len, struct bf_err *err)
{
	if (len < sizeof(*repl))
		return bf_err_set(err, -EINVAL, "replace: %zu bytes, shorter than struct ipt_replace",
				  len);
	if (repl->num_counters >= INT_MAX / sizeof(struct xt_counters))
		return bf_err_set(err, -ENOMEM, "replace: num_counters %u is too large",
				  repl->num_counters);
	if (repl->num_counters == 0)
		return bf_err_set(err, -EINVAL, "replace: num_counters is 0");
	if ((uint64_t)len < (uint64_t)repl->size + sizeof(*repl))
		return bf_err_set(err, -EINVAL, "replace: size %u but only %zu bytes of entries",
				  repl->size, len - sizeof(*repl));
	repl->name[sizeof(repl->name) - 1] = '\0';
	if (repl->size > BPFILTER_PAYLOAD_MAX - sizeof(*repl))
		return bf_err_set(err, -ENOMEM, "replace: %u bytes of entries is too large",
				  repl->size);
	if (repl->num_entries > XT4_MAX_TABLE / sizeof(unsigned int))
		return bf_err_set(err, -ENOMEM, "replace: %u entries is too many",
				  repl->num_entries);
	return 0;
}

static bool xt4_verdict_ok(int32_t v)
{
	if (v > 0)
		return true;
	return v == XT_RETURN || v == -NF_ACCEPT - 1 || v == -NF_DROP - 1 ||
	       v == -NF_QUEUE - 1;
}

/* xt_check_entry_match(): matches tile [elems, target) exactly. */
static int xt4_check_match_offsets(const struct xt4_fam *f, const uint8_t *e)
{
	uint32_t pos = f->entry_sz;
	int32_t left = (int32_t)xt4_toff(f, e) - (int32_t)f->entry_sz;

	while (left > 0) {
		uint16_t msz;

		if (pos % __alignof__(struct xt_entry_match))
			return -EINVAL;
		if (left < (int32_t)sizeof(struct xt_entry_match))
			return -EINVAL;
		msz = xt4_ext_size(e + pos);
		if (msz < sizeof(struct xt_entry_match) || msz > left)
			return -EINVAL;
		left -= msz;
		pos += msz;
	}
	return 0;
}

/* xt_check_entry_offsets() */
static int xt4_check_offsets(const struct xt4_fam *f, const uint8_t *e)
{
	uint32_t toff = xt4_toff(f, e), noff = xt4_noff(f, e);
	const uint8_t *t;
	uint16_t tsz;

	if (toff < f->entry_sz)
		return -EINVAL;
	if (toff + XT4_HDR_SZ > noff)
		return -EINVAL;
	t = xt4_target(f, e);
	tsz = xt4_ext_size(t);
	if (tsz < XT4_HDR_SZ)
		return -EINVAL;
	if (toff + tsz > noff)
		return -EINVAL;
	if (xt4_is_std(t)) {
		if (XT_ALIGN(toff + XT4_STD_SZ) != noff)
			return -EINVAL;
		if (!xt4_verdict_ok(xt4_verdict(t)))
			return -EINVAL;
	} else if (xt4_is_error(t)) {
		if (tsz != XT4_ERR_SZ ||
		    strnlen(xt4_errorname(t), XT_FUNCTION_MAXNAMELEN) >= XT_FUNCTION_MAXNAMELEN)
			return -EINVAL;
	}
	return xt4_check_match_offsets(f, e);
}

/* check_underflow(): unconditional standard ACCEPT or DROP. */
static bool xt4_underflow_ok(const struct xt4_fam *f, const uint8_t *e)
{
	const uint8_t *t = xt4_target(f, e);
	int32_t v;

	if (!xt4_unconditional(f, e) || !xt4_is_std(t))
		return false;
	v = xt4_verdict(t);
	return v == -NF_DROP - 1 || v == -NF_ACCEPT - 1;
}

/* check_entry_size_and_hooks() for the entry at `off`. */
static int xt4_check_entry(struct xt4_blob *b, const struct ipt_replace *repl,
			   uint32_t off, struct bf_err *err)
{
	const struct xt4_fam *f = b->fam;
	uint8_t *e = b->base + off;
	int h, ret;

	/* Both entry types are 8-aligned (their counters are u64). */
	if (off % __alignof__(struct ipt_entry) ||
	    (uint64_t)off + f->entry_sz >= b->size ||
	    (uint64_t)off + xt4_noff(f, e) > b->size)
		return bf_err_set(err, -EINVAL, "entry at offset %u: misaligned or past the end of the table",
				  off);
	if (xt4_noff(f, e) < f->entry_sz + XT4_HDR_SZ)
		return bf_err_set(err, -EINVAL, "entry at offset %u: next_offset %u is too small",
				  off, xt4_noff(f, e));
	if (!f->ip_ok(e))
		return bf_err_set(err, -EINVAL, "entry at offset %u: unknown flags or inverse flags",
				  off);
	ret = xt4_check_offsets(f, e);
	if (ret)
		return bf_err_set(err, ret, "entry at offset %u: bad target or match offsets/sizes",
				  off);
	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		if (!(b->valid_hooks & (1U << h)))
			continue;
		if (off == repl->hook_entry[h])
			b->hook_entry[h] = off;
		if (off == repl->underflow[h]) {
			if (!xt4_underflow_ok(f, e))
				return bf_err_set(err, -EINVAL, "entry at offset %u: policy of %s must be an unconditional ACCEPT or DROP",
						  off, xt4_hook_name(h));
			b->underflow[h] = off;
		}
	}
	memset(e + f->off_counters, 0, sizeof(struct xt_counters));
	*xt4_comefrom(f, e) = 0;
	return 0;
}

/* xt_check_table_hooks(): every valid hook found, strictly increasing. */
static int xt4_check_hooks(const struct xt4_blob *b, struct bf_err *err)
{
	uint32_t max_entry = 0, max_uflow = 0;
	bool seen = false;
	int h;

	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		if (!(b->valid_hooks & (1U << h)))
			continue;
		if (b->hook_entry[h] == ~0U || b->underflow[h] == ~0U)
			return bf_err_set(err, -EINVAL, "hook %s: entry or policy is not at the start of an entry",
					  xt4_hook_name(h));
		if (seen && (max_uflow >= b->underflow[h] ||
			     max_entry >= b->hook_entry[h]))
			return bf_err_set(err, -EINVAL, "hook %s: entry or policy out of order",
					  xt4_hook_name(h));
		max_entry = b->hook_entry[h];
		max_uflow = b->underflow[h];
		seen = true;
	}
	return 0;
}

static int xt4_push_off(struct xt4_blob *b, uint32_t off, uint32_t *cap)
{
	uint32_t *n;

	if (b->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		n = xt4_realloc(b->offs, *cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		b->offs = n;
	}
	b->offs[b->n++] = off;
	return 0;
}

int xt4_walk(struct xt4_blob *b, const struct ipt_replace *repl,
	     struct bf_err *err)
{
	return xt4_walk_fam(b, &xt4_fam_ipv4, repl, err);
}

int xt4_walk_fam(struct xt4_blob *b, const struct xt4_fam *f,
		 const struct ipt_replace *repl, struct bf_err *err)
{
	uint32_t off, cap = 0;
	int h, ret;

	b->fam = f;
	b->base = (uint8_t *)repl->entries;
	b->size = repl->size;
	b->valid_hooks = repl->valid_hooks;
	b->offs = NULL;
	b->n = 0;
	for (h = 0; h < NF_INET_NUMHOOKS; h++) {
		b->hook_entry[h] = ~0U;
		b->underflow[h] = ~0U;
	}
	/* next_offset >= entry + target header was checked before stepping. */
	for (off = 0; off < b->size; off += xt4_noff(f, b->base + off)) {
		ret = xt4_check_entry(b, repl, off, err);
		if (ret)
			return ret;
		ret = xt4_push_off(b, off, &cap);
		if (ret)
			return bf_err_set(err, ret, "out of memory");
	}
	if (b->n != repl->num_entries)
		return bf_err_set(err, -EINVAL, "table has %u entries, num_entries says %u",
				  b->n, repl->num_entries);
	return xt4_check_hooks(b, err);
}

void xt4_blob_release(struct xt4_blob *b)
{
	free(b->offs);
	b->offs = NULL;
	b->n = 0;
}

/*
 * Step back along the current path after an unconditional verdict or an
 * entry this hook already saw: leave every entry that fell through into
 * the next, and the jump that brought us here is then continued with its
 * next entry. Returns 1 when the walk of this hook is complete, 0 to go
 * on at *posp / *ip, -ELOOP when the path falls off the table.
 */
static int xt4_backtrack(struct xt4_blob *b, uint32_t *back, uint32_t *posp,
			 int *ip)
{
	const struct xt4_fam *f = b->fam;
	uint32_t pos = *posp, oldpos, sz;
	uint8_t *e = xt4_entry(b, *ip);
	int i = *ip;

	do {
		*xt4_comefrom(f, e) ^= XT4_ON_PATH;
		oldpos = pos;
		pos = back[i];
		back[i] = 0;
		if (pos == oldpos)
			return 1;
		i = xt4_index_of(b, pos);
		if (i < 0)
			return -ELOOP;
		e = xt4_entry(b, i);
	} while (oldpos == pos + xt4_noff(f, e));
	sz = xt4_noff(f, e);
	if (pos + sz >= b->size)
		return -ELOOP;
	i = xt4_index_of(b, pos + sz);
	if (i < 0)
		return -ELOOP;
	back[i] = pos;
	*posp = pos + sz;
	*ip = i;
	return 0;
}

/* One step forward from entry i at pos: a jump or the next entry. */
static int xt4_advance(struct xt4_blob *b, uint32_t *back, uint32_t *posp,
		       int *ip)
{
	const uint8_t *e = xt4_entry(b, *ip);
	const uint8_t *t = xt4_target(b->fam, e);
	uint32_t newpos;
	int i;

	if (xt4_is_std(t) && xt4_verdict(t) >= 0) {
		newpos = (uint32_t)xt4_verdict(t);
		i = xt4_index_of(b, newpos);
	} else {
		newpos = *posp + xt4_noff(b->fam, e);
		i = newpos >= b->size ? -1 : xt4_index_of(b, newpos);
	}
	if (i < 0)
		return -ELOOP;
	back[i] = *posp;
	*posp = newpos;
	*ip = i;
	return 0;
}

/* Walk every path from one hook's entry, as mark_source_chains() does. */
static int xt4_mark_hook(struct xt4_blob *b, uint32_t *back, int hook,
			 struct bf_err *err)
{
	uint32_t pos = b->hook_entry[hook];
	uint64_t steps, max_steps = 4ULL * b->n + 16;
	int i = xt4_index_of(b, pos), ret;

	back[i] = pos;
	for (steps = 0; steps < max_steps; steps++) {
		uint8_t *e = xt4_entry(b, i);
		const uint8_t *t = xt4_target(b->fam, e);
		uint32_t *comefrom = xt4_comefrom(b->fam, e);
		bool visited = *comefrom & (1U << hook);

		if (*comefrom & XT4_ON_PATH)
			return bf_err_set(err, -ELOOP, "%s: the rule set loops here (hook %s)",
					  xt4_where(b, i), xt4_hook_name(hook));
		*comefrom |= (1U << hook) | XT4_ON_PATH;
		if ((xt4_unconditional(b->fam, e) && xt4_is_std(t) && xt4_verdict(t) < 0) ||
		    visited)
			ret = xt4_backtrack(b, back, &pos, &i);
		else
			ret = xt4_advance(b, back, &pos, &i);
		if (ret == 1)
			return 0;
		if (ret)
			return bf_err_set(err, ret, "%s: jump or fall-through to an offset that is not an entry (hook %s)",
					  xt4_where(b, i), xt4_hook_name(hook));
	}
	return bf_err_set(err, -ELOOP, "hook %s: chain walk did not end", xt4_hook_name(hook));
}

int xt4_mark(struct xt4_blob *b, struct bf_err *err)
{
	uint32_t *back;
	int h, ret = 0;

	back = xt4_calloc(b->n ? b->n : 1, sizeof(*back));
	if (!back)
		return bf_err_set(err, -ENOMEM, "out of memory");
	for (h = 0; h < NF_INET_NUMHOOKS && !ret; h++) {
		if (b->valid_hooks & (1U << h))
			ret = xt4_mark_hook(b, back, h, err);
	}
	free(back);
	return ret;
}

/* A name field must hold a NUL (xt_request_find_match/target). */
static bool xt4_name_ok(const uint8_t *ext)
{
	return strnlen(xt4_ext_name(ext), XT4_NAME_LEN) < XT4_NAME_LEN;
}

/* find_check_match() for one match of entry i. */
static int xt4_check_match(const struct xt4_blob *b, uint32_t i,
			   const uint8_t *m)
{
	const struct xt4_fam *f = b->fam;
	uint8_t *e = xt4_entry(b, i);
	const struct xt4_match_ops *ops;
	const void *data = m + sizeof(struct xt_entry_match);
	uint16_t proto;
	bool inv;
	int ret;

	if (!xt4_name_ok(m))
		return -EINVAL;
	ret = xt4_match_find_fam(f->bit, xt4_ext_name(m), xt4_ext_rev(m), false, &ops);
	if (ret)
		return ret;
	if (xt4_ext_size(m) != sizeof(struct xt_entry_match) + XT_ALIGN(ops->data_size))
		return -EINVAL;
	/* xt_check_match(): the hooks that reach the entry (comefrom) */
	if (ops->hooks && (*xt4_comefrom(f, e) & ((1U << NF_INET_NUMHOOKS) - 1) & ~ops->hooks))
		return -EINVAL;
	proto = f->ip_proto(e, &inv);
	if (ops->proto && (ops->proto != proto || inv))
		return -EINVAL;
	if (f->af == AF_INET && ops->check_ip)
		return ops->check_ip((const struct ipt_ip *)e, data);
	if (f->af == AF_INET6 && ops->check_ip6)
		return ops->check_ip6((const struct ip6t_ip6 *)e, data);
	if (ops->check_hooks)
		return ops->check_hooks(*xt4_comefrom(f, e) & ((1U << NF_INET_NUMHOOKS) - 1),
					data);
	return ops->check ? ops->check(data) : 0;
}

static int xt4_match_err(const struct xt4_blob *b, uint32_t i,
			 const uint8_t *m, int ret, struct bf_err *err)
{
	const char *name = xt4_ext_name(m);
	const struct xt4_match_ops *ops;
	int nlen = XT4_NAME_LEN;

	if (ret == -ENOENT &&
	    xt4_match_find_fam(b->fam->bit, name, xt4_ext_rev(m), true, &ops) == -ENOENT)
		return bf_err_set(err, ret, "%s: match '%.*s' is not supported",
				  xt4_where(b, i), nlen, name);
	if (ret == -ENOENT || ret == -EPROTOTYPE)
		return bf_err_set(err, ret, "%s: match '%.*s' revision %u is not supported",
				  xt4_where(b, i), nlen, name, xt4_ext_rev(m));
	if (ret == -ERANGE)	/* xt_limit's checkentry */
		return bf_err_set(err, ret, "%s: match '%.*s': values out of range (rate * burst overflows the kernel's credits)",
				  xt4_where(b, i), nlen, name);
	return bf_err_set(err, ret, "%s: match '%.*s': bad size, hook, protocol or options",
			  xt4_where(b, i), nlen, name);
}

/* xt_request_find_target() + xt_check_target() for entry i. */
static int xt4_check_target(const struct xt4_blob *b, uint32_t i,
			    struct bf_err *err)
{
	const uint8_t *t = xt4_target(b->fam, xt4_entry(b, i));
	uint16_t want;

	if (!xt4_name_ok(t))
		return bf_err_set(err, -EINVAL, "%s: target name is not terminated",
				  xt4_where(b, i));
	if (xt4_is_std(t))
		want = XT4_STD_SZ;
	else if (xt4_is_error(t))
		want = XT4_ERR_SZ;
	else
		return xt4_target_check(b, i, err);
	/* Per-family targets: a wrong revision is -ENOENT (see xt4_match_ops). */
	if (xt4_ext_rev(t) != 0)
		return bf_err_set(err, -ENOENT, "%s: target '%s' revision %u is not supported",
				  xt4_where(b, i), xt4_ext_name(t), xt4_ext_rev(t));
	if (xt4_ext_size(t) != want)
		return bf_err_set(err, -EINVAL, "%s: target size %u, expected %u",
				  xt4_where(b, i), xt4_ext_size(t), want);
	return 0;
}

/*
 * What GET_ENTRIES would hand back for an extension: the kernel copies
 * only the name's string and the data's real size, and clears the
 * alignment padding after the data (xt_match_to_user(), xt_data_to_user()).
 * Doing it here lets the caller answer GET_ENTRIES from this blob.
 */
static void xt4_clean_ext(uint8_t *ext, uint32_t data_size)
{
	char *name = (char *)ext + offsetof(struct xt_entry_match, u.user.name);
	size_t n = strlen(name) + 1;

	memset(name + n, 0, XT4_NAME_LEN - n);
	memset(ext + sizeof(struct xt_entry_match) + data_size, 0,
	       XT_ALIGN(data_size) - data_size);
}

/* Bytes of target data GET_ENTRIES shows (the rest of XT_ALIGN is cleared). */
static uint32_t xt4_target_data_size(const uint8_t *t)
{
	const struct xt4_target_ops *ops;

	if (xt4_is_std(t))
		return sizeof(int);
	if (xt4_is_error(t))
		return XT_FUNCTION_MAXNAMELEN;
	if (xt4_target_find(xt4_ext_name(t), xt4_ext_rev(t), false, &ops))
		return xt4_ext_size(t) - XT4_HDR_SZ;
	return ops->data_size;
}

int xt4_check_exts(const struct xt4_blob *b, struct bf_err *err)
{
	const struct xt4_match_ops *ops;
	uint32_t i, pos;
	int ret;

	for (i = 0; i < b->n; i++) {
		uint8_t *e = xt4_entry(b, i);
		uint8_t *t = xt4_target(b->fam, e);

		for (pos = b->fam->entry_sz; pos < xt4_toff(b->fam, e);
		     pos += xt4_ext_size(e + pos)) {
			uint8_t *m = e + pos;

			ret = xt4_check_match(b, i, m);
			if (ret)
				return xt4_match_err(b, i, m, ret, err);
			xt4_match_find_fam(b->fam->bit, xt4_ext_name(m), xt4_ext_rev(m),
					   false, &ops);
			xt4_clean_ext(m, ops->data_size);
		}
		ret = xt4_check_target(b, i, err);
		if (ret)
			return ret;
		xt4_clean_ext(t, xt4_target_data_size(t));
	}
	return 0;
}
