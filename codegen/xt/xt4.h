/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the xt IPv4 front-end (codegen/xt/): the validated view of a
 * blob, the match ops tables and the rule builder they fill.
 *
 * Flow of bf_xt4_translate() (translate.c):
 *   xt4_check_header()   do_replace()'s header checks
 *   xt4_walk()           check_entry_size_and_hooks() for every entry,
 *                        entry count, xt_check_table_hooks()
 *   xt4_mark()           mark_source_chains(): loops, bad jumps, comefrom
 *   xt4_check_exts()     find_check_entry(): extensions, sizes, protocols
 *   table name / hooks   __do_replace()'s table lookup
 *   xt4_to_ir()          bpfilter's own layout rules, then the IR
 */
#ifndef BPFILTER_XT4_H
#define BPFILTER_XT4_H

#include <stdbool.h>
#include <stdint.h>

#include "bpfilter/codegen.h"

#define XT4_ENTRY_SZ	((uint32_t)sizeof(struct ipt_entry))		/* 112 */
#define XT4_HDR_SZ	((uint32_t)sizeof(struct xt_entry_target))	/* 32 */
#define XT4_STD_SZ	((uint32_t)sizeof(struct xt_standard_target))	/* 40 */
#define XT4_ERR_SZ	((uint32_t)sizeof(struct xt_error_target))	/* 64 */
#define XT4_NAME_LEN	XT_EXTENSION_MAXNAMELEN				/* 29 */
/* The kernel's XT_MAX_TABLE_SIZE (x_tables.c). */
#define XT4_MAX_TABLE	(512U * 1024 * 1024)
/* comefrom bit mark_source_chains() uses for "on the current path". */
#define XT4_ON_PATH	(1U << NF_INET_NUMHOOKS)
#define XT4_FILTER_HOOKS	((1U << NF_INET_LOCAL_IN) | (1U << NF_INET_FORWARD) | \
				 (1U << NF_INET_LOCAL_OUT))

/* A blob whose entries have been walked: every entry's offset, in order. */
struct xt4_blob {
	uint8_t *base;		/* first entry */
	uint32_t size;		/* bytes of entries */
	uint32_t valid_hooks;
	uint32_t *offs;		/* entry offsets, ascending */
	uint32_t n;
	uint32_t hook_entry[NF_INET_NUMHOOKS];	/* as found; ~0U if not */
	uint32_t underflow[NF_INET_NUMHOOKS];
};

static inline struct ipt_entry *xt4_entry(const struct xt4_blob *b, uint32_t i)
{
	return (struct ipt_entry *)(b->base + b->offs[i]);
}

/* Unaligned-safe field access: targets and matches need not be aligned. */
uint16_t xt4_rd16(const void *p);
int32_t xt4_rd32(const void *p);
void xt4_wr32(void *p, int32_t v);

/* The target of entry e; its size and name. */
uint8_t *xt4_target(const struct ipt_entry *e);
uint16_t xt4_ext_size(const uint8_t *ext);	/* match_size / target_size */
const char *xt4_ext_name(const uint8_t *ext);
uint8_t xt4_ext_rev(const uint8_t *ext);
bool xt4_is_std(const uint8_t *t);		/* name "" */
bool xt4_is_error(const uint8_t *t);		/* name "ERROR" */
int32_t xt4_verdict(const uint8_t *t);		/* standard target only */
bool xt4_unconditional(const struct ipt_entry *e);
const char *xt4_errorname(const uint8_t *t);	/* ERROR target only */
const char *xt4_hook_name(int hook);		/* "INPUT" ... */

/* Allocation, failing on demand in tests (blob.c). */
extern int xt4_alloc_budget;
void *xt4_malloc(size_t size);
void *xt4_calloc(size_t n, size_t size);
void *xt4_realloc(void *p, size_t size);
char *xt4_strndup(const char *s, size_t n);

/* "chain INPUT rule 3" for entry i (for messages); a static buffer. */
const char *xt4_where(const struct xt4_blob *b, uint32_t i);
int xt4_index_of(const struct xt4_blob *b, uint32_t off);	/* -1 if none */

/* validate.c: the kernel's checks, in the kernel's order. */
int xt4_check_header(struct ipt_replace *repl, size_t len, struct bf_err *err);
int xt4_walk(struct xt4_blob *b, const struct ipt_replace *repl,
	     struct bf_err *err);
int xt4_mark(struct xt4_blob *b, struct bf_err *err);
/* Also clears name and padding bytes as GET_ENTRIES would show them. */
int xt4_check_exts(const struct xt4_blob *b, struct bf_err *err);
void xt4_blob_release(struct xt4_blob *b);

/*
 * translate.c: everything ip_tables checks, nothing more: the same bytes
 * give the same errno as the kernel's SET_REPLACE (tests/unit/test_xt_fuzz.c
 * measures it). *b must be released with xt4_blob_release().
 */
int xt4_validate(struct ipt_replace *repl, size_t len, struct xt4_blob *b,
		 struct bf_err *err);

/* Growing array of predicates for one rule. */
struct xt4_rb {
	struct bf_pred *preds;
	uint32_t n;
	uint32_t cap;
	/* set by a to_ir that refuses (-EOPNOTSUPP): what it cannot do */
	const char *why;
};

/* A zeroed predicate of `field` appended to rb; NULL on ENOMEM. */
struct bf_pred *xt4_rb_add(struct xt4_rb *rb, enum bf_field field);
void xt4_rb_release(struct xt4_rb *rb);

/*
 * One iptables match. `data_size` is the kernel's matchsize (before
 * XT_ALIGN); `proto` the ip.proto it requires (0: any). `check` is the
 * match's checkentry; `to_ir` appends its predicates; `claims` tells
 * whether a predicate opens this match in IR; `from_ir` writes the match
 * data back from the predicates [preds, preds + n) the match owns.
 */
struct xt4_match_ops {
	const char *name;
	uint8_t revision;
	uint32_t data_size;
	uint16_t proto;
	/*
	 * Registered for every family (NFPROTO_UNSPEC) in the kernel, like
	 * xt_comment: a wrong revision is then -EPROTOTYPE in SET_REPLACE
	 * (xt_find_match()'s "found something"; measured on 6.18). Per-family ones (tcp, udp, icmp) get -ENOENT, because
	 * xt_find_match() drops the per-family answer when it falls back to
	 * the UNSPEC list. Revision probes say -EPROTONOSUPPORT for both.
	 */
	bool unspec;
	int (*check)(const void *data);
	/* checkentry for matches that look at the entry's ipt_ip too */
	int (*check_ip)(const struct ipt_ip *ip, const void *data);
	/* 1 << NF_INET_* where the match may run; 0: everywhere */
	uint32_t hooks;
	int (*to_ir)(struct xt4_rb *rb, const void *data);
	bool (*claims)(const struct bf_pred *pred);
	int (*from_ir)(const struct bf_pred *preds, uint32_t n, void *data);
};

extern const struct xt4_match_ops xt4_match_tcp;
extern const struct xt4_match_ops xt4_match_udp;
extern const struct xt4_match_ops xt4_match_icmp;
extern const struct xt4_match_ops xt4_match_comment;
extern const struct xt4_match_ops xt4_match_length;
extern const struct xt4_match_ops xt4_match_ttl;
extern const struct xt4_match_ops xt4_match_iprange;
extern const struct xt4_match_ops xt4_match_multiport;
extern const struct xt4_match_ops xt4_match_pkttype;
extern const struct xt4_match_ops xt4_match_mac;

/* A port range predicate, omitted when 0-65535 and not inverted. */
int xt4_ports_to_ir(struct xt4_rb *rb, enum bf_field field,
		    const uint16_t pts[2], bool inv);

/*
 * match.c: the registry. 0 and *opsp; -ENOENT for an unknown name;
 * a known name with another revision: -EPROTONOSUPPORT if `probe`, else
 * what SET_REPLACE says: -EPROTOTYPE for a family-independent match,
 * -ENOENT for a per-family one.
 */
int xt4_match_find(const char *name, uint8_t revision, bool probe,
		   const struct xt4_match_ops **opsp);
/* The match a predicate opens, NULL if it opens none. */
const struct xt4_match_ops *xt4_match_claiming(const struct bf_pred *pred);

/*
 * One iptables target other than standard and ERROR (target.c holds the
 * registry). `data_size` is the kernel's targetsize (before XT_ALIGN);
 * `hooks` (1 << NF_INET_*) where it may run, 0: everywhere; `check` its
 * checkentry, given the entry for ipt_ip (0 or the kernel's errno);
 * `to_ir` sets the rule's verdict and parameters (-EOPNOTSUPP with *why
 * for what bpfilter does not do); `from_ir` writes the data back.
 */
struct xt4_target_ops {
	const char *name;
	uint8_t revision;
	uint32_t data_size;
	uint32_t hooks;
	enum bf_verdict verdict;
	int (*check)(const struct ipt_entry *e, const void *data);
	int (*to_ir)(struct bf_rule *r, const void *data, const char **why);
	int (*from_ir)(const struct bf_rule *r, void *data);
};

extern const struct xt4_target_ops xt4_target_log;
extern const struct xt4_target_ops xt4_target_reject;

/*
 * target.c: 0 and *opsp; -ENOENT for an unknown name; a known name with
 * another revision: -EPROTONOSUPPORT if `probe`, else -ENOENT (LOG and
 * REJECT are registered per family in the kernel).
 */
int xt4_target_find(const char *name, uint8_t revision, bool probe,
		    const struct xt4_target_ops **opsp);
/* The revision probe for a non-standard target: 0, -ENOENT, -EPROTONOSUPPORT. */
int xt4_target_revision(const char *name, uint8_t revision);
/* The target that produces IR verdict v, NULL for standard verdicts. */
const struct xt4_target_ops *xt4_target_of(enum bf_verdict v);
/* xt_check_target() + checkentry for the non-standard target of entry i. */
int xt4_target_check(const struct xt4_blob *b, uint32_t i, struct bf_err *err);
/* The rule's verdict and parameters from entry i's non-standard target. */
int xt4_target_to_ir(const struct xt4_blob *b, uint32_t i, struct bf_rule *r,
		     struct bf_err *err);

static inline bool xt4_is_jump(enum bf_verdict v)
{
	return v == BF_V_JUMP || v == BF_V_GOTO;
}

/* to_ir.c */
int xt4_to_ir(const struct xt4_blob *b, struct bf_ir **irp,
	      struct bf_err *err);

#endif /* BPFILTER_XT4_H */
