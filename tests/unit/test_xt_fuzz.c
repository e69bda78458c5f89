// SPDX-License-Identifier: GPL-2.0
/*
 * Differential validation against the kernel's ip_tables and ip6_tables
 * (one campaign per family, the same code): the same
 * randomly mutated blobs (a fixed seed, so failures reproduce) go to
 * IPT_SO_SET_REPLACE in a scratch network namespace and to
 * xt4_validate(), and the errnos must be equal, case by case. On top, the
 * full bf_xt4_translate() may only refuse what the kernel accepts for the
 * documented bpfilter reasons (-EINVAL layout, -ELOOP, -E2BIG,
 * -EOPNOTSUPP), always with a message, and for every blob the kernel
 * accepts, the entries as xt4_validate() leaves them must equal, byte for
 * byte, what the kernel's GET_ENTRIES returns afterwards.
 *
 * The revision probes (IPT_SO_GET_REVISION_MATCH/TARGET, IP6T_SO_* for
 * IPv6) are compared the same way, for what bpfilter translates and
 * neighbours of it.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "unit.h"
#include "test_xt_util.h"
#include "xt/xt4.h"

#define XTZ_PER_FIXTURE	400
#define XTZ_SEED	0x5eed1234u

static const char *const xtz_fixtures4[] = {
	"empty", "basic", "chains", "tcp", "udp_icmp", "misc", "deep6", "nested", "ct",
};

static const char *const xtz_fixtures6[] = {
	"ip6_empty", "ip6_basic", "ip6_chains", "ip6_matches", "ip6_rt", "ip6_xh", "ip6_adt",
};

/* One family's campaign: its fixtures, sockets and hot entry fields. */
struct xtz_fam {
	const char *name;
	const char *const *fixtures;
	uint32_t n_fixtures;
	const struct xt4_fam *fam;
	int af;
	int level;
	/* the probes' optnames differ: IPv4 66/67, IPv6 68/69 */
	int rev_match;
	int rev_target;
	uint32_t hot[6];
};

static const struct xtz_fam xtz_fams[] = {
	{
		"xt fuzz", xtz_fixtures4, sizeof(xtz_fixtures4) / sizeof(xtz_fixtures4[0]),
		&xt4_fam_ipv4, AF_INET, IPPROTO_IP,
		IPT_SO_GET_REVISION_MATCH, IPT_SO_GET_REVISION_TARGET,
		{
			offsetof(struct ipt_entry, ip.proto),
			offsetof(struct ipt_entry, ip.flags),
			offsetof(struct ipt_entry, ip.invflags),
			offsetof(struct ipt_entry, target_offset),
			offsetof(struct ipt_entry, next_offset),
			offsetof(struct ipt_entry, next_offset) + 1,
		},
	},
	{
		"xt6 fuzz", xtz_fixtures6, sizeof(xtz_fixtures6) / sizeof(xtz_fixtures6[0]),
		&xt4_fam_ipv6, AF_INET6, IPPROTO_IPV6,
		IP6T_SO_GET_REVISION_MATCH, IP6T_SO_GET_REVISION_TARGET,
		{
			offsetof(struct ip6t_entry, ipv6.proto),
			offsetof(struct ip6t_entry, ipv6.flags),
			offsetof(struct ip6t_entry, ipv6.invflags),
			offsetof(struct ip6t_entry, target_offset),
			offsetof(struct ip6t_entry, next_offset),
			offsetof(struct ip6t_entry, next_offset) + 1,
		},
	},
};

#define XTZ_N(zf)	((zf)->n_fixtures * XTZ_PER_FIXTURE)

static uint32_t xtz_rand(uint32_t *s)
{
	/* xorshift32 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Entry offsets of the unmutated fixture: mutations move the walk. */
struct xtz_shape {
	uint32_t off[64];
	uint32_t n;
	uint32_t size;
};

/* A header field: hooks, underflows, counts, or the hook mask. */
static void xtz_mutate_header(struct ipt_replace *r, const struct xtz_shape *sh,
			      uint32_t *s)
{
	uint32_t *fields[] = {
		&r->hook_entry[1], &r->hook_entry[2], &r->hook_entry[3],
		&r->underflow[1], &r->underflow[2], &r->underflow[3],
		&r->num_entries, &r->size, &r->valid_hooks,
	};
	uint32_t *f = fields[xtz_rand(s) % (sizeof(fields) / sizeof(fields[0]))];

	switch (xtz_rand(s) % 3) {
	case 0:
		*f += 8 * ((int)(xtz_rand(s) % 5) - 2);
		break;
	case 1:
		*f = sh->off[xtz_rand(s) % sh->n];
		break;
	default:
		*f ^= 1U << (xtz_rand(s) % 32);
	}
}

/*
 * A byte of an entry: half the time one of the fields the checks look at
 * (the ip part's flags, offsets, match/target headers, the verdict), else
 * anywhere.
 */
static void xtz_mutate_entry(const struct xtz_fam *zf, struct ipt_replace *r,
			     const struct xtz_shape *sh, uint32_t *s)
{
	uint32_t i = xtz_rand(s) % sh->n, off = sh->off[i];
	uint8_t *p = (uint8_t *)r->entries;
	uint32_t at, size = sh->size;
	uint16_t toff;

	memcpy(&toff, p + off + zf->fam->off_toff, sizeof(toff));
	switch (xtz_rand(s) % 4) {
	case 0:
		at = off + zf->hot[xtz_rand(s) % (sizeof(zf->hot) / sizeof(zf->hot[0]))];
		break;
	case 1:	/* target header or verdict */
		at = off + toff + xtz_rand(s) % 40;
		break;
	case 2:	/* the first match's header and data */
		at = off + zf->fam->entry_sz + xtz_rand(s) % 48;
		break;
	default:
		at = xtz_rand(s) % size;
	}
	if (at >= size)
		at = xtz_rand(s) % size;
	if (xtz_rand(s) % 2)
		p[at] ^= 1U << (xtz_rand(s) % 8);
	else
		p[at] = xtz_rand(s);
}

/* Case k: fixture k / XTZ_PER_FIXTURE, mutated from a seed of its own. */
static struct ipt_replace *xtz_case(const struct xtz_fam *zf, uint32_t k, size_t *len)
{
	uint32_t s = XTZ_SEED ^ (k * 2654435761u), n, off = 0;
	struct xtz_shape sh = { 0 };
	struct ipt_replace *r;

	r = xtu_load(zf->fixtures[k / XTZ_PER_FIXTURE], len);
	ck_assert_uint_le(r->num_entries, 64);
	sh.size = r->size;
	for (sh.n = 0; sh.n < r->num_entries; sh.n++) {
		uint16_t noff;

		sh.off[sh.n] = off;
		memcpy(&noff, (uint8_t *)r->entries + off + zf->fam->off_noff, sizeof(noff));
		off += noff;
	}
	xtz_rand(&s);
		for (n = 1 + xtz_rand(&s) % 3; n; n--) {
		if (xtz_rand(&s) % 6 == 0)
			xtz_mutate_header(r, &sh, &s);
		else
			xtz_mutate_entry(zf, r, &sh, &s);
	}
	return r;
}

static uint64_t xtz_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (n--)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

/*
 * The table in force, as GET_ENTRIES shows it: a hash of its entries
 * (the IPv6 getters have the IPv4 ones' numbers and layouts).
 */
static uint64_t xtz_read_back(const struct xtz_fam *zf, int fd)
{
	struct ipt_getinfo info = { .name = "filter" };
	socklen_t sl = sizeof(info);
	struct ipt_get_entries *ge;
	uint64_t h;

	if (getsockopt(fd, zf->level, IPT_SO_GET_INFO, &info, &sl))
		_exit(252);
	ge = calloc(1, sizeof(*ge) + info.size);
	if (!ge)
		_exit(253);
	strcpy(ge->name, "filter");
	ge->size = info.size;
	sl = sizeof(*ge) + info.size;
	if (getsockopt(fd, zf->level, IPT_SO_GET_ENTRIES, ge, &sl))
		_exit(254);
	h = xtz_hash(ge->entrytable, info.size);
	free(ge);
	return h;
}

struct xtz_result {
	int err;		/* SET_REPLACE: 0 or -errno */
	uint64_t hash;		/* accepted: GET_ENTRIES' entries */
};

/*
 * In one scratch netns, every case in turn; a case that the kernel
 * accepts becomes the table in force, so num_counters follows it.
 */
static void xtz_kernel_all(const struct xtz_fam *zf, struct xtz_result *res)
{
	static struct xt_counters cnt[4096];
	uint32_t cur = 4, k;
	int fd;

	if (unshare(CLONE_NEWNET))
		_exit(250);
	fd = socket(zf->af, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		_exit(251);
	for (k = 0; k < XTZ_N(zf); k++) {
		struct ipt_replace *r;
		size_t len;

		r = xtz_case(zf, k, &len);
		r->num_counters = cur;
		r->counters = cnt;
		/* IP6T_SO_SET_REPLACE == IPT_SO_SET_REPLACE */
		if (setsockopt(fd, zf->level, IPT_SO_SET_REPLACE, r, len) < 0) {
			res[k].err = -errno;
		} else {
			res[k].err = 0;
			res[k].hash = xtz_read_back(zf, fd);
			cur = r->num_entries;
		}
		free(r);
	}
	_exit(0);
}

static struct xtz_result *xtz_results;

static void xtz_setup(const struct xtz_fam *zf)
{
	int status;
	pid_t pid;

	xtz_results = mmap(NULL, XTZ_N(zf) * sizeof(*xtz_results), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(xtz_results != MAP_FAILED);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		xtz_kernel_all(zf, xtz_results);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "scratch netns run failed (status %d)", status);
}

static bool xtz_stricter_ok(int ret)
{
	return ret == 0 || ret == -EINVAL || ret == -ELOOP || ret == -E2BIG ||
	       ret == -EOPNOTSUPP;
}

static int xtz_translate(const struct xtz_fam *zf, struct ipt_replace *r, size_t len,
			 struct bf_ir **ir, struct bf_err *err)
{
	if (zf->af == AF_INET6)
		return bf_xt6_translate((struct ip6t_replace *)r, len, ir, err);
	return bf_xt4_translate(r, len, ir, err);
}

START_TEST(test_fuzz_same_errno)
{
	const struct xtz_fam *zf = &xtz_fams[_i];
	uint32_t k, same_err = 0, accepted = 0, stricter = 0;

	xtz_setup(zf);
	for (k = 0; k < XTZ_N(zf); k++) {
		struct bf_err err = { 0 };
		struct xt4_blob b = { 0 };
		struct ipt_replace *r;
		struct bf_ir *ir = NULL;
		size_t len;
		int ret;

		r = xtz_case(zf, k, &len);
		ret = xt4_validate_fam(zf->fam, r, len, &b, &err);
		xt4_blob_release(&b);
		ck_assert_msg(ret == xtz_results[k].err,
			      "%s case %u (%s): kernel %d, bpfilter %d (%s)", zf->name, k,
			      zf->fixtures[k / XTZ_PER_FIXTURE], xtz_results[k].err, ret, err.msg);
		/* Normalised in place to exactly what the kernel hands back. */
		ck_assert_msg(ret || xtz_hash(r->entries, r->size) == xtz_results[k].hash,
			      "%s case %u (%s): normalised entries differ from GET_ENTRIES",
			      zf->name, k, zf->fixtures[k / XTZ_PER_FIXTURE]);
		free(r);
		if (ret) {
			ck_assert_msg(err.msg[0], "case %u: no message for %d", k, ret);
			same_err++;
			continue;
		}
		accepted++;
		r = xtz_case(zf, k, &len);
		ret = xtz_translate(zf, r, len, &ir, &err);
		ck_assert_msg(xtz_stricter_ok(ret) && (!ret || err.msg[0]),
			      "case %u: kernel accepts, bpfilter %d (%s)", k, ret, err.msg);
		stricter += ret != 0;
		if (ret && getenv("XTZ_VERBOSE"))
			fprintf(stderr, "# case %u: bpfilter-only refusal %d: %s\n", k, ret, err.msg);
		bf_ir_free(ir);
		free(r);
	}
	munmap(xtz_results, XTZ_N(zf) * sizeof(*xtz_results));
	/* stderr: the runner's TAP stream reopens /dev/stdout. */
	fprintf(stderr, "# %s: %u cases, %u refused with the kernel's errno, %u accepted by both "
	       "(%u of those refused by bpfilter's stricter rules)\n",
	       zf->name, XTZ_N(zf), same_err, accepted, stricter);
	/* The mutations must reach both sides of the checks to mean anything. */
	ck_assert_uint_gt(same_err, XTZ_N(zf) / 4);
	ck_assert_uint_gt(accepted, XTZ_N(zf) / 20);
}
END_TEST

struct xtz_probe {
	const char *name;
	uint8_t revision;
	bool target;
};

/*
 * Names both sides know, or neither: the kernel here also has others.
 * Asked of both families: icmp and ttl are IPv4's, icmp6 and hl IPv6's.
 */
static const struct xtz_probe xtz_probes[] = {
	{ "tcp", 0, false }, { "tcp", 1, false }, { "udp", 0, false },
	{ "udp", 2, false }, { "icmp", 0, false }, { "icmp", 1, false },
	{ "comment", 0, false }, { "comment", 1, false },
	{ "nosuchmatch", 0, false }, { "", 0, true }, { "", 1, true },
	{ "ERROR", 0, true }, { "ERROR", 1, true }, { "NOSUCH", 0, true },
	{ "icmp6", 0, false }, { "icmp6", 1, false }, { "multiport", 0, false },
	{ "multiport", 1, false }, { "multiport", 2, false }, { "iprange", 0, false },
	{ "iprange", 1, false }, { "length", 0, false }, { "length", 1, false },
	{ "ttl", 0, false }, { "ttl", 1, false }, { "hl", 0, false }, { "hl", 1, false },
	{ "pkttype", 0, false }, { "pkttype", 1, false }, { "mac", 0, false },
	{ "mac", 1, false }, { "rt", 0, false }, { "rt", 1, false },
};

#define XTZ_N_PROBES (sizeof(xtz_probes) / sizeof(xtz_probes[0]))

static int xtz_probe_ours(int af, const struct xtz_probe *p)
{
	if (af == AF_INET6)
		return p->target ? bf_xt6_target_revision(p->name, p->revision) :
				   bf_xt6_match_revision(p->name, p->revision);
	return p->target ? bf_xt4_target_revision(p->name, p->revision) :
			   bf_xt4_match_revision(p->name, p->revision);
}

START_TEST(test_probes_same_answer)
{
	const struct xtz_fam *zf = &xtz_fams[_i];
	int *res, status;
	uint32_t i;
	pid_t pid;

	res = mmap(NULL, XTZ_N_PROBES * sizeof(int), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(res != MAP_FAILED);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(250);
		fd = socket(zf->af, SOCK_RAW, IPPROTO_RAW);
		for (i = 0; i < XTZ_N_PROBES; i++) {
			struct xt_get_revision rev = { .revision = xtz_probes[i].revision };
			socklen_t sl = sizeof(rev);
			int ret;

			strcpy(rev.name, xtz_probes[i].name);
			ret = getsockopt(fd, zf->level, xtz_probes[i].target ?
					 zf->rev_target : zf->rev_match, &rev, &sl);
			res[i] = ret < 0 ? -errno : 0;
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < XTZ_N_PROBES; i++) {
		const struct xtz_probe *p = &xtz_probes[i];
		int ours = xtz_probe_ours(zf->af, p);

		ck_assert_msg(ours == res[i], "%s: probe %s '%s' rev %u: kernel %d, bpfilter %d",
			      zf->name, p->target ? "target" : "match", p->name, p->revision,
			      res[i], ours);
	}
	munmap(res, XTZ_N_PROBES * sizeof(int));
}
END_TEST

static Suite *xt_fuzz_suite(void)
{
	Suite *s = suite_create("xt_fuzz");
	TCase *tc = tcase_create("kernel");

	/* A scratch network namespace needs root; without it there is no oracle. */
	if (xtu_kernel_oracle("xt_fuzz")) {
		tcase_add_loop_test(tc, test_fuzz_same_errno, 0,
				    sizeof(xtz_fams) / sizeof(xtz_fams[0]));
		tcase_add_loop_test(tc, test_probes_same_answer, 0,
				    sizeof(xtz_fams) / sizeof(xtz_fams[0]));
	}
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

BF_UNIT_SUITE(xt_fuzz_suite);
