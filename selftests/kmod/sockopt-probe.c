// SPDX-License-Identifier: GPL-2.0
/*
 * sockopt-probe: raw iptables sockopt calls that iptables itself never
 * makes, for the bpfilter.ko selftest (run in the qemu guest).
 *
 *   sockopt-probe [-6] CASE EXPECTED
 *
 * runs CASE (with -6: on an AF_INET6 socket, IP6T_SO_* at IPPROTO_IPV6,
 * whose numbers and ipt_getinfo/ipt_replace layouts are the IPv4 ones;
 * every case but race) and exits 0 when the errno it got is EXPECTED (an errno name,
 * "OK" for success, alternatives separated by '|'); it prints what it got.
 * Cases:
 *   getinfo          GET_INFO "filter" (also used to time a stuck helper)
 *   len0-set         SET_REPLACE with optlen 0
 *   len0-get         GET_INFO with optlen 0
 *   huge-set         SET_REPLACE with optlen 0x7fffffff
 *   big-set          SET_REPLACE, optlen 64 MiB, 1 KiB buffer
 *   huge-get         GET_ENTRIES with optlen 0x7fffffff
 *   badptr-set       SET_REPLACE from an unmapped address
 *   badptr-get       GET_INFO into an unmapped address
 *   noperm-get       GET_INFO as uid 65534 without capabilities
 *   noperm-set       SET_REPLACE likewise
 *   race             two processes read the table, then both replace it
 *                    with one more rule: exactly one must get EAGAIN
 *                    (EXPECTED is the loser's errno)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netfilter_ipv4/ip_tables.h>

#define PROBE_RULE_SIZE \
	(sizeof(struct ipt_entry) + XT_ALIGN(sizeof(struct xt_standard_target)))

static int probe_family = AF_INET;
static int probe_level = IPPROTO_IP;

static int probe_sock(void)
{
	int fd = socket(probe_family, SOCK_RAW, IPPROTO_RAW);

	if (fd < 0) {
		perror("sockopt-probe: socket");
		exit(2);
	}
	return fd;
}

static int probe_ret(int r)
{
	return r < 0 ? errno : 0;
}

static int probe_getinfo(int fd, struct ipt_getinfo *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	strcpy(info->name, "filter");
	return probe_ret(getsockopt(fd, probe_level, IPT_SO_GET_INFO, info, &len));
}

static void *probe_unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		perror("sockopt-probe: mmap");
		exit(2);
	}
	munmap(p, 4096);
	return p;
}

static int probe_simple(const char *name)
{
	int fd = probe_sock();
	struct ipt_getinfo info;
	char buf[1024] = {};
	socklen_t len;

	if (!strcmp(name, "getinfo"))
		return probe_getinfo(fd, &info);
	if (!strcmp(name, "len0-set"))
		return probe_ret(setsockopt(fd, probe_level, IPT_SO_SET_REPLACE,
					    buf, 0));
	if (!strcmp(name, "len0-get")) {
		len = 0;
		return probe_ret(getsockopt(fd, probe_level, IPT_SO_GET_INFO,
					    buf, &len));
	}
	if (!strcmp(name, "huge-set"))
		return probe_ret(setsockopt(fd, probe_level, IPT_SO_SET_REPLACE,
					    buf, 0x7fffffff));
	if (!strcmp(name, "big-set"))
		return probe_ret(setsockopt(fd, probe_level, IPT_SO_SET_REPLACE,
					    buf, 64 << 20));
	if (!strcmp(name, "huge-get")) {
		len = 0x7fffffff;
		strcpy(buf, "filter");
		return probe_ret(getsockopt(fd, probe_level, IPT_SO_GET_ENTRIES,
					    buf, &len));
	}
	if (!strcmp(name, "badptr-set"))
		return probe_ret(setsockopt(fd, probe_level, IPT_SO_SET_REPLACE,
					    probe_unmapped(),
					    sizeof(struct ipt_replace) + 64));
	if (!strcmp(name, "badptr-get")) {
		len = sizeof(struct ipt_getinfo);
		return probe_ret(getsockopt(fd, probe_level, IPT_SO_GET_INFO,
					    probe_unmapped(), &len));
	}
	return -1;
}

/* Drops to uid 65534 (and so every capability) in a child. */
static int probe_noperm(bool set)
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return errno;
	if (!pid) {
		struct ipt_getinfo info;
		char buf[sizeof(struct ipt_replace)] = {};

		fd = probe_sock();	/* opened as root: the check is on the call */
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(200);
		if (set)
			_exit(probe_ret(setsockopt(fd, probe_level,
						   IPT_SO_SET_REPLACE, buf,
						   sizeof(buf))));
		_exit(probe_getinfo(fd, &info));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return EINTR;
	return WEXITSTATUS(status);
}

/* Jump offsets after byte @at move by @delta. */
static void probe_shift_jumps(char *blob, uint32_t size, uint32_t delta)
{
	uint32_t off = 0;

	while (off + sizeof(struct ipt_entry) <= size) {
		struct ipt_entry *e = (struct ipt_entry *)(blob + off);
		struct xt_standard_target *t =
			(struct xt_standard_target *)((char *)e + e->target_offset);

		if (e->next_offset < sizeof(*e))
			break;
		if (!t->target.u.user.name[0] && t->verdict >= 0)
			t->verdict += delta;
		off += e->next_offset;
	}
}

/*
 * Reads the table, waits on @go, then replaces it with the same table plus
 * "-A INPUT -s 192.0.2.1 -j ACCEPT" first; returns the errno.
 */
static int probe_replace_after(int ready, int go)
{
	struct ipt_get_entries *ge;
	struct ipt_replace *repl;
	struct ipt_getinfo info;
	struct ipt_entry *e;
	struct xt_standard_target *t;
	uint32_t rule = PROBE_RULE_SIZE;
	socklen_t len;
	char c;
	int fd = probe_sock(), i, err;

	err = probe_getinfo(fd, &info);
	if (err)
		return err;
	len = sizeof(*ge) + info.size;
	ge = calloc(1, len);
	repl = calloc(1, sizeof(*repl) + info.size + rule);
	if (!ge || !repl)
		return ENOMEM;
	strcpy(ge->name, "filter");
	ge->size = info.size;
	if (getsockopt(fd, probe_level, IPT_SO_GET_ENTRIES, ge, &len))
		return errno;
	if (info.hook_entry[NF_INET_LOCAL_IN] != 0)
		return EINVAL;	/* INPUT must come first, as in "filter" */

	strcpy(repl->name, "filter");
	repl->valid_hooks = info.valid_hooks;
	repl->num_entries = info.num_entries + 1;
	repl->size = info.size + rule;
	for (i = 0; i < NF_INET_NUMHOOKS; i++) {
		repl->hook_entry[i] = info.hook_entry[i] +
			(i == NF_INET_LOCAL_IN ? 0 : rule);
		repl->underflow[i] = info.underflow[i] + rule;
	}
	repl->num_counters = info.num_entries;
	repl->counters = calloc(info.num_entries, sizeof(struct xt_counters));
	e = (struct ipt_entry *)repl->entries;
	e->ip.src.s_addr = inet_addr("192.0.2.1");
	e->ip.smsk.s_addr = 0xffffffff;
	e->target_offset = sizeof(*e);
	e->next_offset = rule;
	t = (struct xt_standard_target *)((char *)e + e->target_offset);
	t->target.u.user.target_size = XT_ALIGN(sizeof(*t));
	t->verdict = -NF_ACCEPT - 1;
	memcpy((char *)repl->entries + rule, ge->entrytable, info.size);
	probe_shift_jumps((char *)repl->entries + rule, info.size, rule);

	if (write(ready, "r", 1) != 1 || read(go, &c, 1) < 0)
		return EPIPE;
	if (setsockopt(fd, probe_level, IPT_SO_SET_REPLACE, repl,
		       sizeof(*repl) + repl->size))
		return errno;
	return 0;
}

/* Returns the loser's errno; prints both. */
static int probe_race(void)
{
	int ready[2], go[2], res[2], status, i;
	pid_t pid[2];
	char c;

	if (pipe(ready) || pipe(go))
		return errno;
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			return errno;
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			_exit(probe_replace_after(ready[1], go[0]));
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < 2; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(go[1]);	/* both go */
	for (i = 0; i < 2; i++) {
		res[i] = -1;
		if (waitpid(pid[i], &status, 0) > 0 && WIFEXITED(status))
			res[i] = WEXITSTATUS(status);
		printf("# replacer %d: %s\n", i, res[i] ? strerror(res[i]) : "OK");
	}
	if (res[0] == 0 && res[1] != 0)
		return res[1];
	if (res[1] == 0 && res[0] != 0)
		return res[0];
	return res[0] == 0 ? 0 : -1;	/* both won, or both lost */
}

static const char *probe_name(int err)
{
	static char buf[32];

	switch (err) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	case ENOENT: return "ENOENT";
	case EPIPE: return "EPIPE";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case EPROTO: return "EPROTO";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static bool probe_expected(const char *got, const char *list)
{
	size_t n = strlen(got);
	const char *p = list;

	while (p && *p) {
		if (!strncmp(p, got, n) && (p[n] == '|' || !p[n]))
			return true;
		p = strchr(p, '|');
		if (p)
			p++;
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *got;
	int err;

	if (argc == 4 && !strcmp(argv[1], "-6")) {
		probe_family = AF_INET6;
		probe_level = IPPROTO_IPV6;
		argc--;
		argv++;
	}
	if (argc != 3 || (probe_family == AF_INET6 && !strcmp(argv[1], "race"))) {
		fprintf(stderr, "usage: sockopt-probe [-6] CASE EXPECTED (race is IPv4 only)\n");
		return 2;
	}
	if (!strcmp(argv[1], "race"))
		err = probe_race();
	else if (!strcmp(argv[1], "noperm-get"))
		err = probe_noperm(false);
	else if (!strcmp(argv[1], "noperm-set"))
		err = probe_noperm(true);
	else
		err = probe_simple(argv[1]);
	if (err < 0) {
		fprintf(stderr, "sockopt-probe: case %s failed or unknown\n",
			argv[1]);
		return 1;
	}
	got = probe_name(err);
	printf("# %s: got %s, expected %s\n", argv[1], got, argv[2]);
	return probe_expected(got, argv[2]) ? 0 : 1;
}
