/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The route dumps of the -m addrtype maps (loader_addrs.c for
 * BF_MAP_ADDRTYPE, loader_addrs6.c for BF_MAP_ADDRTYPE6).
 */
#ifndef BF_LOADER_ADDRS_H
#define BF_LOADER_ADDRS_H

#include <libmnl/libmnl.h>

/*
 * An rtnetlink dump of `type` (RTM_GETROUTE, RTM_GETRULE) for `family`
 * in the caller's network namespace: every message goes to cb(nlh, data).
 * 0 when the dump ended, else a negative errno.
 */
int bf_addrs_dump(int type, int family, mnl_cb_t cb, void *data);

/* tb[] (RTA_MAX + 1 entries, zeroed) = the attributes of route message nlh; returns its table */
uint32_t bf_addrs_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/*
 * arr (n of *cap elements of size bytes) with room for one more: arr, or
 * arr reallocated with *cap grown; NULL when out of memory (arr is kept).
 */
void *bf_addrs_grow(void *arr, uint32_t n, uint32_t *cap, size_t size);

/* Empties the LPM trie fd (keys up to BF_ADDRS_KEY_MAX bytes, at most max + 1 of them) */
#define BF_ADDRS_KEY_MAX	32
int bf_addrs_clear(int fd, uint32_t max);

#endif
