// SPDX-License-Identifier: GPL-2.0
/*
 * capture_blob: read the IPv4 filter table of the current network namespace
 * with IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES and write it out shaped as the
 * SET_REPLACE payload that would install it (struct ipt_replace, then the
 * entries). num_counters is set to num_entries and counters to NULL.
 *
 *   unshare -n sh -c 'iptables-legacy-restore < x.rules && capture_blob x.bin'
 *
 * Used to make the fixtures under tests/unit/blobs/ (see capture.sh there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv4/ip_tables.h>

static int cap_get(int fd, struct ipt_replace **replp, size_t *lenp)
{
	struct ipt_getinfo info;
	struct ipt_get_entries *ge;
	struct ipt_replace *repl;
	socklen_t sl = sizeof(info);
	size_t len;

	memset(&info, 0, sizeof(info));
	strcpy(info.name, "filter");
	if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &sl) < 0)
		return -errno;
	/* calloc: the kernel copies only the names' strings back. */
	ge = calloc(1, sizeof(*ge) + info.size);
	if (!ge)
		return -ENOMEM;
	strcpy(ge->name, "filter");
	ge->size = info.size;
	sl = sizeof(*ge) + info.size;
	if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_ENTRIES, ge, &sl) < 0) {
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
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.bin\n", argv[0]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	ret = cap_get(fd, &repl, &len);
	if (ret) {
		fprintf(stderr, "capture: %s\n", strerror(-ret));
		return 1;
	}
	f = fopen(argv[1], "wb");
	if (!f || fwrite(repl, 1, len, f) != len || fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	free(repl);
	return 0;
}
