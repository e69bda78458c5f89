// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/ip_tables_names and ip6_tables_names as the helper sees them.
 * iptables-save / ip6tables-save without -t list the tables named in that
 * file, and the kernel's file is empty in a network namespace where its own
 * ip_tables never ran (and names the kernel's tables, not ours, elsewhere).
 * The helper serves the filter table of each family, so the file the
 * program reads says exactly that.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "preload.h"

#define PROCFS_TABLES		"/proc/net/ip_tables_names"
#define PROCFS_TABLES6		"/proc/net/ip6_tables_names"
#define PROCFS_TABLES_TEXT	"filter\n"

typedef FILE *(*procfs_fopen_t)(const char *, const char *);

static FILE *procfs_open(const char *path, const char *mode)
{
	static const char text[] = PROCFS_TABLES_TEXT;

	if (!path || !mode || mode[0] != 'r' ||
	    (strcmp(path, PROCFS_TABLES) && strcmp(path, PROCFS_TABLES6)))
		return NULL;
	return fmemopen((void *)text, sizeof(text) - 1, "r");
}

static FILE *procfs_real(void **slot, const char *name, const char *path,
			 const char *mode)
{
	procfs_fopen_t fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = (procfs_fopen_t)dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, (void *)fn, __ATOMIC_RELEASE);
	}
	return fn ? fn(path, mode) : NULL;
}

static void *real_fopen_fn;
static void *real_fopen64_fn;

FILE *fopen(const char *path, const char *mode)
{
	FILE *f = procfs_open(path, mode);

	return f ? f : procfs_real(&real_fopen_fn, "fopen", path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	FILE *f = procfs_open(path, mode);

	return f ? f : procfs_real(&real_fopen64_fn, "fopen64", path, mode);
}
