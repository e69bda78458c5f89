/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the xt front-ends (codegen/xt/): the validated view of a
 * blob, the match ops tables and the rule builder they fill. One code path
 * serves ip_tables and ip6_tables: a family descriptor (struct xt4_fam,
 * ip4.c / ip6.c) says where an entry's fields are and handles its ip part
 * (struct ipt_ip / struct ip6t_ip6); everything else is x_tables and the
 * same for both.
 *
 * Flow of bf_xt4_translate() / bf_xt6_translate() (translate.c):
 *   xt4_check_header()   do_replace()'s header checks
 *   xt4_walk_fam()       check_entry_size_and_hooks() for every entry,
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

struct xt4_rb;

/* xt4_match_ops.families bits; 0 there means IPv4 only. */
#define XT4_FAM_V4	0x1
#define XT4_FAM_V6	0x2

/*
 * One family of x_tables: where the fields of its entry sit (the ip part
 * is always at offset 0, the matches right after the fixed entry) and the
 * handlers for the ip part. `ip` arguments point at an entry's ip part.
 */
struct xt4_fam {
	int af;			/* AF_INET, AF_INET6 */
	uint8_t bit;		/* XT4_FAM_V4 / XT4_FAM_V6 */
	const char *replace;	/* "ipt_replace": for messages */
	uint32_t entry_sz;	/* 112 / 168 */
	uint32_t ip_sz;		/* sizeof(struct ipt_ip) 84 / ip6t_ip6 136 */
	uint32_t off_toff;	/* offsetof(target_offset) */
	uint32_t off_noff;	/* offsetof(next_offset) */
	uint32_t off_comefrom;
	uint32_t off_counters;
	/* ip_checkentry() / ip6_checkentry(): no unknown flag bits */
	bool (*ip_ok)(const void *ip);
	/* what xt_check_match() gets as proto / inv_proto */
	uint16_t (*ip_proto)(const void *ip, bool *inv);
	/* the ip part with the bits the IR has no predicate for cleared */
	void (*ip_ir_clean)(void *ip);
	bool (*ip_is_goto)(const void *ip);
	void (*ip_set_goto)(void *ip);
	/* the ip part's predicates, in the order ip_from_ir() expects them */
	int (*ip_to_ir)(struct bf_ir *ir, struct xt4_rb *rb, const void *ip);
	int (*ip_from_ir)(const struct bf_ir *ir, const struct bf_rule *r, void *ip);
	/* does a predicate of this field belong to the ip part? */
	bool (*ip_field)(enum bf_field f);
};

extern const struct xt4_fam xt4_fam_ipv4;
extern const struct xt4_fam xt4_fam_ipv6;

/*
 * struct ip6t_replace is laid out as struct ipt_replace (only the type of
 * the flexible entries[] differs), so the header code takes the latter
 * for both: ip6.c checks this at compile time.
 */

/* A blob whose entries have been walked: every entry's offset, in order. */
struct xt4_blob {
	const struct xt4_fam *fam;	/* NULL before xt4_walk(): IPv4 */
	uint8_t *base;		/* first entry */
	uint32_t size;		/* bytes of entries */
	uint32_t valid_hooks;
	uint32_t *offs;		/* entry offsets, ascending */
	uint32_t n;
	uint32_t hook_entry[NF_INET_NUMHOOKS];	/* as found; ~0U if not */
	uint32_t underflow[NF_INET_NUMHOOKS];
};

/* Entries are handled as bytes: the family says where the fields are. */
static inline uint8_t *xt4_entry(const struct xt4_blob *b, uint32_t i)
{
	return b->base + b->offs[i];
}

static inline uint16_t xt4_toff(const struct xt4_fam *f, const uint8_t *e)
{
	return *(const uint16_t *)(e + f->off_toff);
}

static inline uint16_t xt4_noff(const struct xt4_fam *f, const uint8_t *e)
{
	return *(const uint16_t *)(e + f->off_noff);
}

static inline uint32_t *xt4_comefrom(const struct xt4_fam *f, uint8_t *e)
{
	return (uint32_t *)(e + f->off_comefrom);
}

/* Unaligned-safe field access: targets and matches need not be aligned. */
uint16_t xt4_rd16(const void *p);
int32_t xt4_rd32(const void *p);
void xt4_wr32(void *p, int32_t v);

/* The target of entry e; its size and name. */
uint8_t *xt4_target(const struct xt4_fam *f, const uint8_t *e);
uint16_t xt4_ext_size(const uint8_t *ext);	/* match_size / target_size */
const char *xt4_ext_name(const uint8_t *ext);
uint8_t xt4_ext_rev(const uint8_t *ext);
bool xt4_is_std(const uint8_t *t);		/* name "" */
bool xt4_is_error(const uint8_t *t);		/* name "ERROR" */
int32_t xt4_verdict(const uint8_t *t);		/* standard target only */
/* unconditional(): no matches, the ip part all zero */
bool xt4_unconditional(const struct xt4_fam *f, const uint8_t *e);
/* the same, ignoring what the IR has no predicate for (ip_ir_clean) */
bool xt4_ir_unconditional(const struct xt4_fam *f, const uint8_t *e);
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
/* xt4_walk() for a family (xt4_walk() is IPv4) */
int xt4_walk_fam(struct xt4_blob *b, const struct xt4_fam *f,
		 const struct ipt_replace *repl, struct bf_err *err);
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
int xt4_validate_fam(const struct xt4_fam *f, struct ipt_replace *repl,
		     size_t len, struct xt4_blob *b, struct bf_err *err);

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
	/*
	 * XT4_FAM_* bits of the families it is registered for; 0: IPv4
	 * only. A match whose data means something else per family has one
	 * ops table per family, under the same name.
	 */
	uint8_t families;
	int (*check)(const void *data);
	/* checkentry for matches that look at the entry's ipt_ip too */
	int (*check_ip)(const struct ipt_ip *ip, const void *data);
	/* the same for an IPv6 entry's ip6t_ip6 */
	int (*check_ip6)(const struct ip6t_ip6 *ip, const void *data);
	/* 1 << NF_INET_* where the match may run; 0: everywhere */
	uint32_t hooks;
	int (*to_ir)(struct xt4_rb *rb, const void *data);
	bool (*claims)(const struct bf_pred *pred);
	int (*from_ir)(const struct bf_pred *preds, uint32_t n, void *data);
	/*
	 * The kernel's usersize: GET_ENTRIES shows only these first bytes
	 * of the data and zeroes the rest (xt_data_to_user()); 0 = all.
	 */
	uint32_t user_size;
	/* checkentry for matches that look at the hooks reaching the entry */
	int (*check_hooks)(uint32_t hook_mask, const void *data);
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
extern const struct xt4_match_ops xt4_match_mark;
extern const struct xt4_match_ops xt4_match_addrtype;
extern const struct xt4_match_ops xt4_match_limit;
extern const struct xt4_match_ops xt4_match_conntrack1;
extern const struct xt4_match_ops xt4_match_conntrack2;
extern const struct xt4_match_ops xt4_match_conntrack3;
extern const struct xt4_match_ops xt4_match_state;
extern const struct xt4_match_ops xt6_match_icmp6;
extern const struct xt4_match_ops xt6_match_hl;
extern const struct xt4_match_ops xt6_match_iprange;
extern const struct xt4_match_ops xt6_match_rt;
extern const struct xt4_match_ops xt6_match_frag;
extern const struct xt4_match_ops xt6_match_hbh;
extern const struct xt4_match_ops xt6_match_dst;
extern const struct xt4_match_ops xt6_match_addrtype;

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
/* The same two for the family XT4_FAM_* `fam`. */
int xt4_match_find_fam(uint8_t fam, const char *name, uint8_t revision,
		       bool probe, const struct xt4_match_ops **opsp);
const struct xt4_match_ops *xt4_match_claiming_fam(uint8_t fam,
						   const struct bf_pred *pred);

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
	/* XT4_FAM_* bits of the families it serves; 0: IPv4 only */
	uint8_t families;
	/* `e` is the family's entry (struct ipt_entry or struct ip6t_entry) */
	int (*check)(const struct ipt_entry *e, const void *data);
	int (*to_ir)(struct bf_rule *r, const void *data, const char **why);
	int (*from_ir)(const struct bf_rule *r, void *data);
};

extern const struct xt4_target_ops xt4_target_log;
extern const struct xt4_target_ops xt4_target_reject;
extern const struct xt4_target_ops xt6_target_reject;

/*
 * target.c: 0 and *opsp; -ENOENT for an unknown name; a known name with
 * another revision: -EPROTONOSUPPORT if `probe`, else -ENOENT (LOG and
 * REJECT are registered per family in the kernel).
 */
int xt4_target_find(const char *name, uint8_t revision, bool probe,
		    const struct xt4_target_ops **opsp);
/* The same for the family XT4_FAM_* `fam` (xt4_target_find() is IPv4). */
int xt4_target_find_fam(uint8_t fam, const char *name, uint8_t revision,
			bool probe, const struct xt4_target_ops **opsp);
/* The revision probe for a non-standard target: 0, -ENOENT, -EPROTONOSUPPORT. */
int xt4_target_revision(const char *name, uint8_t revision);
int xt4_target_revision_fam(uint8_t fam, const char *name, uint8_t revision);
/* The target that produces IR verdict v, NULL for standard verdicts. */
const struct xt4_target_ops *xt4_target_of(enum bf_verdict v);
const struct xt4_target_ops *xt4_target_of_fam(uint8_t fam, enum bf_verdict v);
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
/* ip part helpers the families share */
int xt4_iface_to_ir(struct bf_ir *ir, struct xt4_rb *rb, enum bf_field f,
		    const char *name, const unsigned char *mask, bool inv);
int xt4_iface_from_ir(const struct bf_ir *ir, const struct bf_pred *p,
		      char *name, unsigned char *mask);

/* from_ir.c / initial.c */
int xt4_from_ir_fam(const struct xt4_fam *f, const struct bf_ir *ir,
		    void **blobp, uint32_t *sizep, uint32_t *num_entries,
		    uint32_t hook_entry[BF_NR_HOOKS],
		    uint32_t underflow[BF_NR_HOOKS]);

#endif /* BPFILTER_XT4_H */
