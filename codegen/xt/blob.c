// SPDX-License-Identifier: GPL-2.0
/*
 * Reading entries of an ipt_replace / ip6t_replace blob. Entries are 8-aligned once
 * validated, but targets and matches inside them need not be (the kernel
 * only checks match alignment after reading the target header), so their
 * fields are read with memcpy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xt4.h"

uint16_t xt4_rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int32_t xt4_rd32(const void *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

void xt4_wr32(void *p, int32_t v)
{
	memcpy(p, &v, sizeof(v));
}

uint8_t *xt4_target(const struct xt4_fam *f, const uint8_t *e)
{
	return (uint8_t *)e + xt4_toff(f, e);
}

uint16_t xt4_ext_size(const uint8_t *ext)
{
	return xt4_rd16(ext + offsetof(struct xt_entry_target, u.user.target_size));
}

const char *xt4_ext_name(const uint8_t *ext)
{
	return (const char *)ext + offsetof(struct xt_entry_target, u.user.name);
}

uint8_t xt4_ext_rev(const uint8_t *ext)
{
	return ext[offsetof(struct xt_entry_target, u.user.revision)];
}

/* strcmp(name, X) == 0 as the kernel does it: the first len+1 bytes. */
static bool xt4_name_is(const uint8_t *ext, const char *want)
{
	return memcmp(xt4_ext_name(ext), want, strlen(want) + 1) == 0;
}

bool xt4_is_std(const uint8_t *t)
{
	return xt4_name_is(t, XT_STANDARD_TARGET);
}

bool xt4_is_error(const uint8_t *t)
{
	return xt4_name_is(t, XT_ERROR_TARGET);
}

int32_t xt4_verdict(const uint8_t *t)
{
	return xt4_rd32(t + offsetof(struct xt_standard_target, verdict));
}

/* Large enough for either family's ip part. */
static const uint8_t xt4_zero_ip[sizeof(struct ip6t_ip6)];

bool xt4_unconditional(const struct xt4_fam *f, const uint8_t *e)
{
	return xt4_toff(f, e) == f->entry_sz && memcmp(e, xt4_zero_ip, f->ip_sz) == 0;
}

bool xt4_ir_unconditional(const struct xt4_fam *f, const uint8_t *e)
{
	uint8_t ip[sizeof(struct ip6t_ip6)];

	memcpy(ip, e, f->ip_sz);
	f->ip_ir_clean(ip);
	return xt4_toff(f, e) == f->entry_sz && memcmp(ip, xt4_zero_ip, f->ip_sz) == 0;
}

int xt4_index_of(const struct xt4_blob *b, uint32_t off)
{
	uint32_t lo = 0, hi = b->n;

	while (lo < hi) {
		uint32_t m = lo + (hi - lo) / 2;

		if (b->offs[m] > off)
			hi = m;
		else if (b->offs[m] < off)
			lo = m + 1;
		else
			return (int)m;
	}
	return -1;
}

static const char *const xt4_hook_names[NF_INET_NUMHOOKS] = {
	"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING",
};

const char *xt4_hook_name(int hook)
{
	return xt4_hook_names[hook];
}

const char *xt4_errorname(const uint8_t *t)
{
	return (const char *)t + offsetof(struct xt_error_target, errorname);
}

/*
 * Where entry i sits, for messages: the chain is the last built-in hook
 * entry or ERROR head at or before it. Before the layout is known to be
 * sane this is a best effort; "entry N" is the fallback.
 */
const char *xt4_where(const struct xt4_blob *b, uint32_t i)
{
	static __thread char buf[96];
	uint32_t j = i + 1, h;

	while (j-- > 0) {
		const uint8_t *e = xt4_entry(b, j);

		for (h = 0; h < NF_INET_NUMHOOKS; h++) {
			if ((b->valid_hooks & (1U << h)) &&
			    b->hook_entry[h] == b->offs[j]) {
				snprintf(buf, sizeof(buf), "chain %s rule %u",
					 xt4_hook_names[h], i - j + 1);
				return buf;
			}
		}
		if (j < i && xt4_is_error(xt4_target(b->fam, e))) {
			snprintf(buf, sizeof(buf), "chain %.30s rule %u",
				 xt4_errorname(xt4_target(b->fam, e)), i - j);
			return buf;
		}
	}
	snprintf(buf, sizeof(buf), "entry %u", i);
	return buf;
}

/*
 * Allocation through one place, so tests can make the n-th allocation
 * fail and check every error path frees what it took (ASan's leak check).
 * xt4_alloc_budget < 0: no limit (always, outside tests).
 */
int xt4_alloc_budget = -1;

static bool xt4_alloc_ok(void)
{
	if (xt4_alloc_budget < 0)
		return true;
	if (xt4_alloc_budget == 0)
		return false;
	xt4_alloc_budget--;
	return true;
}

void *xt4_malloc(size_t size)
{
	return xt4_alloc_ok() ? malloc(size) : NULL;
}

void *xt4_calloc(size_t n, size_t size)
{
	return xt4_alloc_ok() ? calloc(n, size) : NULL;
}

void *xt4_realloc(void *p, size_t size)
{
	return xt4_alloc_ok() ? realloc(p, size) : NULL;
}

char *xt4_strndup(const char *s, size_t n)
{
	return xt4_alloc_ok() ? strndup(s, n) : NULL;
}
