// SPDX-License-Identifier: GPL-2.0
/*
 * The loader: maps, program load (map relocation, BTF func info, the
 * verifier log on failure), interface bitmaps, counters, attach/detach.
 * libbpf's low-level API only (bpf.h, btf.h, the netlink helpers of
 * libbpf.h); no object files, no skeletons.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpfilter/log.h"
#include "bpfilter/logrec.h"
#include "gen.h"

#define BF_IFB_MAX_DEVS		65536
#define BF_TC_HANDLE		0xbf
#define BF_TC_PRIORITY		0xbf
#define BF_LOG_SIZE_BIG		(64u << 20)
#define BF_PROG_PREFIX		"bpfilter_"

static const char *const prog_names[] = {
	[BF_HOOK_XDP] = "bpfilter_xdp",
	[BF_HOOK_TC_INGRESS] = "bpfilter_tc_in",
	[BF_HOOK_TC_EGRESS] = "bpfilter_tc_out",
};

/* ---- maps ---------------------------------------------------------------- */

void bf_maps_close(struct bf_maps *maps)
{
	int i;

	if (!maps)
		return;
	for (i = 0; i < BF_MAP_NR; i++) {
		if (maps->fd[i] >= 0)
			close(maps->fd[i]);
		maps->fd[i] = -1;
	}
}

#define BF_ADDRTYPE_MAX	65536

/*
 * -m limit's buckets, one per BF_F_LIMIT predicate (bf_ir_pred_ordinal()),
 * full at the kernel's jiffies of now, as limit_mt_check() leaves them
 * when the table is replaced. -1 with errno on failure.
 */
static int maps_create_limit(const struct bf_ir *ir)
{
	uint32_t n = bf_ir_count_field(ir, BF_F_LIMIT), slot = 0, c, r, k;
	struct bf_limit_state st;
	uint64_t now = 0;
	int fd, ret;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfilter_lim", sizeof(uint32_t),
			    sizeof(struct bf_limit_state), n ? n : 1, NULL);
	if (fd < 0 || !n)
		return fd;
	ret = bf_jiffies_now(&now);
	for (c = 0; !ret && c < ir->n_chains; c++)
		for (r = 0; !ret && r < ir->chains[c].n_rules; r++)
			for (k = 0; !ret && k < ir->chains[c].rules[r].n_preds; k++) {
				const struct bf_pred *p = &ir->chains[c].rules[r].preds[k];

				if (p->field != BF_F_LIMIT)
					continue;
				bf_limit_init(p, now, &st);
				if (bpf_map_update_elem(fd, &slot, &st, BPF_ANY))
					ret = -errno;
				slot++;
			}
	if (ret) {
		close(fd);
		errno = -ret;
		return -1;
	}
	return fd;
}

/* -j LOG rules send struct bf_logrec records; a table without any keeps a minimal ring. */
static uint32_t maps_log_ring_size(const struct bf_ir *ir)
{
	uint32_t c, k;

	for (c = 0; c < ir->n_chains; c++)
		for (k = 0; k < ir->chains[c].n_rules; k++)
			if (ir->chains[c].rules[k].verdict == BF_V_LOG)
				return BF_LOGREC_RINGBUF;
	return BF_LOGREC_RING_MIN;
}

/* REJECT's ICMP rate-limit peers: a table without REJECT keeps one entry. */
static uint32_t maps_icmprl_size(const struct bf_ir *ir)
{
	uint32_t c, k;

	for (c = 0; c < ir->n_chains; c++)
		for (k = 0; k < ir->chains[c].n_rules; k++)
			if (ir->chains[c].rules[k].verdict == BF_V_REJECT)
				return BF_ICMPRL_MAX;
	return 1;
}

int bf_maps_create(const struct bf_ir *ir, struct bf_maps *maps,
		   struct bf_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, noprealloc,
		    .map_flags = BPF_F_NO_PREALLOC);
	uint32_t n;
	int i;

	if (!ir || !maps)
		return -EINVAL;
	for (i = 0; i < BF_MAP_NR; i++)
		maps->fd[i] = -1;
	n = ir->n_entries ? ir->n_entries : 1;
	maps->n_counters = ir->n_entries;
	maps->fd[BF_MAP_COUNTERS] = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY,
		"bpfilter_cnt", sizeof(uint32_t), sizeof(struct xt_counters),
		n, NULL);
	maps->fd[BF_MAP_IFBITS] = bpf_map_create(BPF_MAP_TYPE_HASH,
		"bpfilter_ifb", sizeof(uint32_t), BF_MAX_IFPATS / 8,
		BF_IFB_MAX_DEVS, &noprealloc);
	maps->fd[BF_MAP_TEST] = bpf_map_create(BPF_MAP_TYPE_ARRAY,
		"bpfilter_tst", sizeof(uint32_t), sizeof(struct bf_test_ifs),
		1, NULL);
	maps->fd[BF_MAP_LIMIT] = maps_create_limit(ir);
	maps->fd[BF_MAP_ADDRTYPE] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE,
		"bpfilter_adt", sizeof(struct bf_addrtype_key),
		sizeof(struct bf_addrtype_val), BF_ADDRTYPE_MAX, &noprealloc);
	maps->fd[BF_MAP_ADDRTYPE6] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE,
		"bpfilter_ad6", sizeof(struct bf_addrtype6_key),
		sizeof(struct bf_addrtype6_val), BF_ADDRTYPE_MAX, &noprealloc);
	maps->fd[BF_MAP_LOG] = bpf_map_create(BPF_MAP_TYPE_RINGBUF,
		"bpfilter_log", 0, 0, maps_log_ring_size(ir), NULL);
	maps->fd[BF_MAP_SCRATCH] = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY,
		"bpfilter_scr", sizeof(uint32_t), BF_SCRATCH_SIZE, 1, NULL);
	/* preallocated (LRU): a table without conntrack keeps one entry */
	maps->fd[BF_MAP_ICMPCT] = bpf_map_create(BPF_MAP_TYPE_LRU_HASH,
		"bpfilter_icq", sizeof(struct bf_icmpct_key),
		sizeof(struct bf_icmpct_val),
		bf_ir_count_field(ir, BF_F_CTSTATE) ? BF_ICMPCT_MAX : 1, NULL);
	maps->fd[BF_MAP_ICMPRL] = bpf_map_create(BPF_MAP_TYPE_LRU_HASH,
		"bpfilter_irl", 16, sizeof(uint64_t), maps_icmprl_size(ir), NULL);
	for (i = 0; i < BF_MAP_NR; i++) {
		if (maps->fd[i] < 0) {
			int ret = -errno;

			bf_maps_close(maps);
			return bf_err_set(err, ret ? ret : -EINVAL,
					  "table %s: cannot create BPF map %d: %s",
					  ir->table, i, strerror(-ret));
		}
	}
	return 0;
}

static void maps_ifbits(const struct bf_ir *ir, const char *ifname,
			uint8_t bits[BF_MAX_IFPATS / 8])
{
	char name[IFNAMSIZ] = { 0 };
	uint32_t i;

	strncpy(name, ifname, sizeof(name) - 1);
	memset(bits, 0, BF_MAX_IFPATS / 8);
	for (i = 0; i < ir->n_ifpats && i < BF_MAX_IFPATS; i++)
		if (bf_ifpat_match(&ir->ifpats[i], name))
			bits[i / 8] |= 1 << (i % 8);
}

static bool maps_ifindex_present(const struct if_nameindex *ifs, uint32_t key)
{
	const struct if_nameindex *p;

	if (key == 0)
		return true;
	for (p = ifs; p->if_index; p++)
		if (p->if_index == key)
			return true;
	return false;
}

/* Remove keys of devices that are gone. */
static int maps_prune_ifaces(int fd, const struct if_nameindex *ifs)
{
	uint32_t key, next, *gone = NULL;
	size_t n = 0, i;
	int ret = 0;
	void *p;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		key = next;
		if (maps_ifindex_present(ifs, key))
			continue;
		p = realloc(gone, (n + 1) * sizeof(*gone));
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		gone = p;
		gone[n++] = key;
	} while (!bpf_map_get_next_key(fd, &key, &next));
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	free(gone);
	return ret;
}

int bf_maps_sync_ifaces(const struct bf_ir *ir, const struct bf_maps *maps)
{
	uint8_t bits[BF_MAX_IFPATS / 8];
	struct if_nameindex *ifs, *p;
	int fd, ret = 0;
	uint32_t key;

	if (!ir || !maps || maps->fd[BF_MAP_IFBITS] < 0)
		return -EINVAL;
	fd = maps->fd[BF_MAP_IFBITS];
	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	key = 0;
	maps_ifbits(ir, "", bits);
	if (bpf_map_update_elem(fd, &key, bits, BPF_ANY))
		ret = -errno;
	for (p = ifs; !ret && p->if_index; p++) {
		key = p->if_index;
		maps_ifbits(ir, p->if_name, bits);
		if (bpf_map_update_elem(fd, &key, bits, BPF_ANY))
			ret = -errno;
	}
	if (!ret)
		ret = maps_prune_ifaces(fd, ifs);
	if_freenameindex(ifs);
	return ret;
}

/* Sum one key's per-CPU values. */
static void maps_sum(const struct xt_counters *vals, int ncpus,
		     struct xt_counters *out)
{
	int c;

	out->pcnt = 0;
	out->bcnt = 0;
	for (c = 0; c < ncpus; c++) {
		out->pcnt += vals[c].pcnt;
		out->bcnt += vals[c].bcnt;
	}
}

/* All counters in a few BPF_MAP_LOOKUP_BATCH calls; -errno to fall back. */
static int maps_read_batch(int fd, uint32_t n, int ncpus,
			   struct xt_counters *out)
{
	uint32_t chunk = 1024, done = 0, batch = 0, count, i;
	struct xt_counters *vals;
	uint32_t *keys;
	bool first = true;
	int ret = 0;

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc((size_t)chunk * ncpus, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		count = n - done < chunk ? n - done : chunk;
		ret = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					   keys, vals, &count, &o);
		if (ret && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		for (i = 0; i < count; i++)
			if (keys[i] < n)
				maps_sum(&vals[(size_t)i * ncpus], ncpus,
					 &out[keys[i]]);
		done += count;
		first = false;
		if (ret || !count)	/* ENOENT: that was the last batch */
			break;
	}
	ret = done == n ? 0 : -EIO;
out:
	free(keys);
	free(vals);
	return ret;
}

int bf_maps_read_counters(const struct bf_maps *maps, struct xt_counters *out)
{
	struct xt_counters *vals;
	int ncpus, ret = 0;
	uint32_t i;

	if (!maps || !out || maps->fd[BF_MAP_COUNTERS] < 0)
		return -EINVAL;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	if (maps->n_counters > 64 &&
	    !maps_read_batch(maps->fd[BF_MAP_COUNTERS], maps->n_counters,
			     ncpus, out))
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < maps->n_counters; i++) {
		if (bpf_map_lookup_elem(maps->fd[BF_MAP_COUNTERS], &i, vals)) {
			ret = -errno;
			break;
		}
		maps_sum(vals, ncpus, &out[i]);
	}
	free(vals);
	return ret;
}

/* ---- program load --------------------------------------------------------- */

static int load_relocate(const struct bf_prog *prog, const struct bf_maps *maps,
			 struct bpf_insn **insnsp, struct bf_err *err)
{
	struct bpf_insn *insns;
	uint32_t i;

	insns = malloc((size_t)prog->n_insns * sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	memcpy(insns, prog->insns, (size_t)prog->n_insns * sizeof(*insns));
	for (i = 0; i < prog->n_relocs; i++) {
		const struct bf_map_reloc *r = &prog->relocs[i];

		if (r->insn + 1 >= prog->n_insns || r->map >= BF_MAP_NR ||
		    maps->fd[r->map] < 0) {
			free(insns);
			return bf_err_set(err, -EINVAL,
					  "insn %u: no fd for map %d", r->insn,
					  r->map);
		}
		insns[r->insn].src_reg = BPF_PSEUDO_MAP_FD;
		insns[r->insn].imm = maps->fd[r->map];
	}
	*insnsp = insns;
	return 0;
}

static int load_btf(const struct bf_prog *prog, struct btf **btfp,
		    struct bpf_func_info **finfop, struct bf_err *err)
{
	struct bpf_func_info *finfo;
	uint32_t *ids, i;
	int ret;

	finfo = calloc(prog->n_funcs, sizeof(*finfo));
	ids = calloc(prog->n_funcs, sizeof(*ids));
	if (!finfo || !ids) {
		ret = -ENOMEM;
		goto out;
	}
	ret = bf_btf_build(prog, btfp, ids);
	if (ret) {
		bf_err_set(err, ret, "cannot build BTF: %s", strerror(-ret));
		goto out;
	}
	ret = btf__load_into_kernel(*btfp);
	if (ret) {
		ret = -errno ? -errno : ret;
		bf_err_set(err, ret, "cannot load BTF: %s", strerror(-ret));
		btf__free(*btfp);
		*btfp = NULL;
		goto out;
	}
	for (i = 0; i < prog->n_funcs; i++) {
		finfo[i].insn_off = prog->funcs[i].insn;
		finfo[i].type_id = ids[i];
	}
	*finfop = finfo;
	finfo = NULL;
out:
	free(finfo);
	free(ids);
	return ret;
}

static int load_prog(const struct bf_prog *prog, const struct bpf_insn *insns,
		     int btf_fd, const struct bpf_func_info *finfo,
		     const int *fd_array, char *log, size_t log_size)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .prog_btf_fd = btf_fd,
		    .fd_array = fd_array,
		    .func_info = finfo,
		    .func_info_cnt = prog->n_funcs,
		    .func_info_rec_size = sizeof(*finfo),
		    .log_level = log ? 1 : 0,
		    .log_buf = log,
		    .log_size = log ? log_size : 0);
	enum bpf_prog_type type = prog->hook == BF_HOOK_XDP ?
		BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS;
	int fd;

	fd = bpf_prog_load(type, prog_names[prog->hook], "GPL", insns,
			   prog->n_insns, &o);
	return fd < 0 ? -errno : fd;
}

static bool load_log_is_stats(const char *line, size_t len)
{
	static const char *const stats[] = {
		"processed ", "verification time", "stack depth", "mark_read",
	};
	size_t i;

	if (!len)
		return true;
	for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (len >= strlen(stats[i]) &&
		    !strncmp(line, stats[i], strlen(stats[i])))
			return true;
	return false;
}

/* The verifier's reason: its last line that is not a statistics line. */
static const char *load_log_tail(const char *log, char *buf, size_t len)
{
	const char *end = log + strlen(log), *start;

	while (end > log) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		if (!load_log_is_stats(start, end - start)) {
			snprintf(buf, len, "%.*s", (int)(end - start), start);
			return buf;
		}
		end = start;
	}
	snprintf(buf, len, "no verifier log");
	return buf;
}

/*
 * Fault injection for tests of the refusal path: with
 * BPFILTER_FAULT_VERIFIER_AFTER=N in the environment, the Nth program load
 * of this process and every later one start by reading an uninitialised
 * register, which the verifier refuses ("R3 !read_ok"). Nothing else
 * changes; without the variable this is a no-op.
 */
static void load_fault_inject(struct bpf_insn *insns)
{
	static unsigned long loads;
	const char *env = getenv("BPFILTER_FAULT_VERIFIER_AFTER");
	unsigned long after;

	loads++;
	if (!env)
		return;
	after = strtoul(env, NULL, 10);
	if (after && loads >= after) {
		bf_warn("fault injection: program load %lu is made invalid", loads);
		insns[0] = (struct bpf_insn)BPF_MOV64_REG(BPF_REG_0, BPF_REG_3);
	}
}

int bf_prog_load(const struct bf_prog *prog, const struct bf_maps *maps,
		 struct bf_err *err)
{
	struct bpf_func_info *finfo = NULL;
	struct bpf_insn *insns = NULL;
	struct btf *btf = NULL;
	char *log = NULL, tail[200];
	int fd, ret, fd_array[2] = { -1, -1 };

	if (!prog || !maps || !prog->n_insns || !prog->n_funcs ||
	    prog->hook > BF_HOOK_TC_EGRESS)
		return bf_err_set(err, -EINVAL, "bf_prog_load: bad arguments");
	if (bf_prog_uses_ct(prog)) {
		/* the kernel must be tracking for the lookups to find entries */
		ret = bf_ct_enable_prog(prog, err);
		if (ret)
			return ret;
		/* kfuncs of the nf_conntrack module: its BTF at fd_array[1] */
		ret = bf_ct_kfunc_fds(prog, fd_array, err);
		if (ret)
			return ret;
	}
	ret = load_relocate(prog, maps, &insns, err);
	if (ret)
		return ret;
	load_fault_inject(insns);
	ret = load_btf(prog, &btf, &finfo, err);
	if (ret)
		goto out;
	fd = load_prog(prog, insns, btf__fd(btf), finfo,
		       fd_array[1] >= 0 ? fd_array : NULL, NULL, 0);
	if (fd >= 0) {
		ret = fd;
		goto out;
	}
	/* again, with the verifier's log */
	log = calloc(1, BF_LOG_SIZE_BIG);
	if (!log) {
		ret = bf_err_set(err, fd, "loading %s: %s", prog_names[prog->hook],
				 strerror(-fd));
		goto out;
	}
	fd = load_prog(prog, insns, btf__fd(btf), finfo,
		       fd_array[1] >= 0 ? fd_array : NULL, log, BF_LOG_SIZE_BIG);
	if (fd >= 0) {
		ret = fd;
		goto out;
	}
	/*
	 * The verifier says EACCES (or EINVAL) for a program it refuses:
	 * iptables would print "Permission denied", which reads as a
	 * privilege problem. Answer EINVAL, as ip_tables does for a table its
	 * checks refuse; the message keeps the verifier's own errno.
	 */
	ret = bf_err_set(err, fd == -EACCES ? -EINVAL : fd,
			 "loading %s (%u insns): rejected by the verifier (%s): %s",
			 prog_names[prog->hook], prog->n_insns, strerror(-fd),
			 load_log_tail(log, tail, sizeof(tail)));
	if (err) {
		free(err->verifier_log);
		err->verifier_log = strdup(log);
	}
out:
	if (fd_array[1] >= 0)
		close(fd_array[1]);
	free(log);
	free(insns);
	free(finfo);
	btf__free(btf);
	return ret;
}

/* ---- attach ------------------------------------------------------------------ */

/* Is program `id` one of ours (by name)? */
static bool attach_is_ours(uint32_t id)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	bool ours;
	int fd;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strncmp(info.name, BF_PROG_PREFIX, strlen(BF_PROG_PREFIX));
	close(fd);
	return ours;
}

static int xdp_current(int ifindex, uint32_t *id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ret;

	ret = bpf_xdp_query(ifindex, XDP_FLAGS_DRV_MODE, &q);
	if (ret)
		return ret;
	*id = q.drv_prog_id;
	return 0;
}

static int xdp_attach(int ifindex, int prog_fd, struct bf_err *err)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	uint32_t flags = XDP_FLAGS_DRV_MODE, id = 0;
	int ret, old_fd = -1;

	ret = xdp_current(ifindex, &id);
	if (ret)
		return bf_err_set(err, ret, "ifindex %d: XDP query failed: %s",
				  ifindex, strerror(-ret));
	if (id && !attach_is_ours(id))
		return bf_err_set(err, -EBUSY,
				  "ifindex %d: another XDP program (id %u) is attached",
				  ifindex, id);
	if (id) {
		old_fd = bpf_prog_get_fd_by_id(id);
		if (old_fd < 0)
			return bf_err_set(err, -errno,
					  "ifindex %d: XDP program %u vanished",
					  ifindex, id);
		flags |= XDP_FLAGS_REPLACE;
		o.old_prog_fd = old_fd;
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	ret = bpf_xdp_attach(ifindex, prog_fd, flags, &o);
	if (old_fd >= 0)
		close(old_fd);
	if (ret)
		return bf_err_set(err, ret, "ifindex %d: XDP attach failed: %s",
				  ifindex, strerror(-ret));
	return 0;
}

static void tc_hook_init(struct bpf_tc_hook *h, enum bf_hook hook,
			 int ifindex)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = hook == BF_HOOK_TC_EGRESS ? BPF_TC_EGRESS :
			  BPF_TC_INGRESS;
}

static int tc_attach(enum bf_hook hook, int ifindex, int prog_fd,
		     struct bf_err *err)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = BF_TC_HANDLE,
		    .priority = BF_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	libbpf_print_fn_t old_print;
	struct bpf_tc_hook h;
	int ret;

	tc_hook_init(&h, hook, ifindex);
	/* an existing clsact is fine: keep libbpf from printing the EEXIST */
	old_print = libbpf_set_print(NULL);
	ret = bpf_tc_hook_create(&h);
	libbpf_set_print(old_print);
	if (ret && ret != -EEXIST)
		return bf_err_set(err, ret, "ifindex %d: cannot create clsact: %s",
				  ifindex, strerror(-ret));
	ret = bpf_tc_attach(&h, &o);
	if (ret)
		return bf_err_set(err, ret, "ifindex %d: tc attach failed: %s",
				  ifindex, strerror(-ret));
	return 0;
}

int bf_attach(enum bf_hook hook, int ifindex, int prog_fd, struct bf_err *err)
{
	if (ifindex <= 0 || prog_fd < 0 || hook > BF_HOOK_TC_EGRESS)
		return bf_err_set(err, -EINVAL, "bf_attach: bad arguments");
	if (hook == BF_HOOK_XDP)
		return xdp_attach(ifindex, prog_fd, err);
	return tc_attach(hook, ifindex, prog_fd, err);
}

int bf_attached_id(enum bf_hook hook, int ifindex, uint32_t *prog_id)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = BF_TC_HANDLE,
		    .priority = BF_TC_PRIORITY);
	libbpf_print_fn_t old_print;
	struct bpf_tc_hook h;
	uint32_t id = 0;
	int ret;

	if (!prog_id || ifindex <= 0 || hook > BF_HOOK_TC_EGRESS)
		return -EINVAL;
	*prog_id = 0;
	if (hook == BF_HOOK_XDP) {
		ret = xdp_current(ifindex, &id);
		if (ret)
			return ret;
		if (id && attach_is_ours(id))
			*prog_id = id;
		return 0;
	}
	tc_hook_init(&h, hook, ifindex);
	/* "nothing attached" is an answer, not an error worth printing */
	old_print = libbpf_set_print(NULL);
	ret = bpf_tc_query(&h, &o);
	libbpf_set_print(old_print);
	if (ret == -ENOENT || ret == -EINVAL)
		return 0;	/* no clsact or no filter of ours */
	if (ret)
		return ret;
	if (attach_is_ours(o.prog_id))
		*prog_id = o.prog_id;
	return 0;
}

int bf_detach(enum bf_hook hook, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = BF_TC_HANDLE,
		    .priority = BF_TC_PRIORITY);
	struct bpf_tc_hook h;
	uint32_t id = 0;
	int ret;

	ret = bf_attached_id(hook, ifindex, &id);
	if (ret || !id)
		return ret;
	if (hook != BF_HOOK_XDP) {
		tc_hook_init(&h, hook, ifindex);
		return bpf_tc_detach(&h, &o);
	}
	xo.old_prog_fd = bpf_prog_get_fd_by_id(id);
	if (xo.old_prog_fd < 0)
		return -errno;
	ret = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE,
			     &xo);
	close(xo.old_prog_fd);
	return ret;
}
