// SPDX-License-Identifier: GPL-2.0
/*
 * capture_blob: read the IPv4 (or with -6 the IPv6) filter table of the
 * current network namespace with IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES
 * (IP6T_SO_*: the same numbers and layouts at level IPPROTO_IPV6) and
 * write it out shaped as the SET_REPLACE payload that would install it
 * (struct ipt_replace / ip6t_replace, then the entries). num_counters is
 * set to num_entries and counters to NULL.
 *
 *   unshare -n sh -c 'iptables-legacy-restore < x.rules && capture_blob x.bin'
 *   unshare -n sh -c 'ip6tables-legacy-restore < x.rules && capture_blob -6 x.bin'
 *
 * Used to make the fixtures under tests/unit/blobs/ (see capture.sh there).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

_Static_assert(IP6T_SO_GET_INFO == IPT_SO_GET_INFO &&
	       IP6T_SO_GET_ENTRIES == IPT_SO_GET_ENTRIES &&
	       sizeof(struct ip6t_getinfo) == sizeof(struct ipt_getinfo) &&
	       sizeof(struct ip6t_get_entries) == sizeof(struct ipt_get_entries) &&
	       sizeof(struct ip6t_replace) == sizeof(struct ipt_replace),
	       "the IPv6 getters and replace are laid out as the IPv4 ones");

static int cap_get(int fd, int level, struct ipt_replace **replp, size_t *lenp)
{
	struct ipt_getinfo info;
	struct ipt_get_entries *ge;
	struct ipt_replace *repl;
	socklen_t sl = sizeof(info);
	size_t len;

	memset(&info, 0, sizeof(info));
	strcpy(info.name, "filter");
	if (getsockopt(fd, level, IPT_SO_GET_INFO, &info, &sl) < 0)
		return -errno;
	/* calloc: the kernel copies only the names' strings back. */
	ge = calloc(1, sizeof(*ge) + info.size);
	if (!ge)
		return -ENOMEM;
	strcpy(ge->name, "filter");
	ge->size = info.size;
	sl = sizeof(*ge) + info.size;
	if (getsockopt(fd, level, IPT_SO_GET_ENTRIES, ge, &sl) < 0) {
		free(ge);
		return -errno;
	}
	len = sizeof(*repl) + info.size;
	repl = calloc(1, len);
	if (!repl) {
		free(ge);
		return -ENOMEM;
	}
	memcpy(repl->name, info.name, sizeof(repl->name));
	repl->valid_hooks = info.valid_hooks;
	repl->num_entries = info.num_entries;
	repl->size = info.size;
	memcpy(repl->hook_entry, info.hook_entry, sizeof(repl->hook_entry));
	memcpy(repl->underflow, info.underflow, sizeof(repl->underflow));
	repl->num_counters = info.num_entries;
	memcpy(repl->entries, ge->entrytable, info.size);
	free(ge);
	*replp = repl;
	*lenp = len;
	return 0;
}

int main(int argc, char **argv)
{
	struct ipt_replace *repl = NULL;
	size_t len = 0;
	FILE *f;
	bool v6 = argc == 3 && !strcmp(argv[1], "-6");
	int fd, ret;

	if (argc != 2 && !v6) {
		fprintf(stderr, "usage: %s [-6] OUT.bin\n", argv[0]);
		return 2;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	ret = cap_get(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, &repl, &len);
	if (ret) {
		fprintf(stderr, "capture: %s\n", strerror(-ret));
		return 1;
	}
	f = fopen(argv[argc - 1], "wb");
	if (!f || fwrite(repl, 1, len, f) != len || fclose(f)) {
		perror(argv[argc - 1]);
		return 1;
	}
	free(repl);
	return 0;
}
