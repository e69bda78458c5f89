// SPDX-License-Identifier: GPL-2.0
/*
 * The matches bpfilter translates: one file and one ops table each,
 * registered here. Everything else is refused with -ENOENT.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xt4.h"

static const struct xt4_match_ops *const xt4_matches[] = {
	&xt4_match_tcp,
	&xt4_match_udp,
	&xt4_match_icmp,
	&xt4_match_comment,
	&xt4_match_length,
	&xt4_match_ttl,
	&xt4_match_iprange,
	&xt4_match_multiport,
	&xt4_match_pkttype,
	&xt4_match_mac,
	&xt4_match_mark,
	&xt4_match_addrtype,
	&xt4_match_limit,
	&xt4_match_conntrack1,
	&xt4_match_conntrack2,
	&xt4_match_conntrack3,
	&xt4_match_state,
	&xt6_match_icmp6,
	&xt6_match_hl,
	&xt6_match_iprange,
	&xt6_match_rt,
	&xt6_match_frag,
	&xt6_match_hbh,
	&xt6_match_dst,
	&xt6_match_addrtype,
};

#define XT4_N_MATCHES (sizeof(xt4_matches) / sizeof(xt4_matches[0]))

static bool xt4_match_in(const struct xt4_match_ops *ops, uint8_t fam)
{
	return (ops->families ? ops->families : XT4_FAM_V4) & fam;
}

int xt4_match_find_fam(uint8_t fam, const char *name, uint8_t revision,
		       bool probe, const struct xt4_match_ops **opsp)
{
	bool named = false, unspec = false;
	size_t i;

	for (i = 0; i < XT4_N_MATCHES; i++) {
		if (!xt4_match_in(xt4_matches[i], fam) || strcmp(xt4_matches[i]->name, name))
			continue;
		named = true;
		unspec |= xt4_matches[i]->unspec;
		if (xt4_matches[i]->revision == revision) {
			*opsp = xt4_matches[i];
			return 0;
		}
	}
	if (!named)
		return -ENOENT;
	if (probe)
		return -EPROTONOSUPPORT;
	return unspec ? -EPROTOTYPE : -ENOENT;
}

int xt4_match_find(const char *name, uint8_t revision, bool probe,
		   const struct xt4_match_ops **opsp)
{
	return xt4_match_find_fam(XT4_FAM_V4, name, revision, probe, opsp);
}

const struct xt4_match_ops *xt4_match_claiming_fam(uint8_t fam,
						   const struct bf_pred *pred)
{
	size_t i;

	for (i = 0; i < XT4_N_MATCHES; i++) {
		if (xt4_match_in(xt4_matches[i], fam) && xt4_matches[i]->claims(pred))
			return xt4_matches[i];
	}
	return NULL;
}

const struct xt4_match_ops *xt4_match_claiming(const struct bf_pred *pred)
{
	return xt4_match_claiming_fam(XT4_FAM_V4, pred);
}

/*
 * The revision probes answer from the family's own list, as
 * xt_find_revision() does (an unspec match is on every family's list).
 */
int bf_xt4_match_revision(const char *name, uint8_t revision)
{
	const struct xt4_match_ops *ops;

	if (!name || strnlen(name, XT4_NAME_LEN) >= XT4_NAME_LEN)
		return -EINVAL;
	return xt4_match_find(name, revision, true, &ops);
}

int bf_xt6_match_revision(const char *name, uint8_t revision)
{
	const struct xt4_match_ops *ops;

	if (!name || strnlen(name, XT4_NAME_LEN) >= XT4_NAME_LEN)
		return -EINVAL;
	return xt4_match_find_fam(XT4_FAM_V6, name, revision, true, &ops);
}

/* ip6_tables registers its own standard and ERROR targets, revision 0. */
int bf_xt6_target_revision(const char *name, uint8_t revision)
{
	if (!name || strnlen(name, XT4_NAME_LEN) >= XT4_NAME_LEN)
		return -EINVAL;
	if (strcmp(name, XT_STANDARD_TARGET) && strcmp(name, XT_ERROR_TARGET))
		return xt4_target_revision_fam(XT4_FAM_V6, name, revision);
	return revision == 0 ? 0 : -EPROTONOSUPPORT;
}

int bf_xt4_target_revision(const char *name, uint8_t revision)
{
	if (!name || strnlen(name, XT4_NAME_LEN) >= XT4_NAME_LEN)
		return -EINVAL;
	if (strcmp(name, XT_STANDARD_TARGET) && strcmp(name, XT_ERROR_TARGET))
		return xt4_target_revision(name, revision);
	return revision == 0 ? 0 : -EPROTONOSUPPORT;
}

/* A port range predicate, omitted when it is 0-65535 and not inverted. */
int xt4_ports_to_ir(struct xt4_rb *rb, enum bf_field field,
		    const uint16_t pts[2], bool inv)
{
	struct bf_pred *p;

	if (pts[0] == 0 && pts[1] == 0xffff && !inv)
		return 0;
	p = xt4_rb_add(rb, field);
	if (!p)
		return -ENOMEM;
	p->inv = inv;
	p->lo = pts[0];
	p->hi = pts[1];
	return 0;
}

struct bf_pred *xt4_rb_add(struct xt4_rb *rb, enum bf_field field)
{
	struct bf_pred *p;

	if (rb->n == rb->cap) {
		uint32_t cap = rb->cap ? rb->cap * 2 : 8;

		p = xt4_realloc(rb->preds, cap * sizeof(*p));
		if (!p)
			return NULL;
		rb->preds = p;
		rb->cap = cap;
	}
	p = &rb->preds[rb->n++];
	memset(p, 0, sizeof(*p));
	p->field = field;
	return p;
}

void xt4_rb_release(struct xt4_rb *rb)
{
	uint32_t i;

	for (i = 0; i < rb->n; i++)
		free(rb->preds[i].text);
	free(rb->preds);
	rb->preds = NULL;
	rb->n = rb->cap = 0;
}
