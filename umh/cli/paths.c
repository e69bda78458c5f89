// SPDX-License-Identifier: GPL-2.0
/* Where the tool finds its siblings, and small shared parsers. */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int bf_cli_sibling(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -errno;
	self[n] = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", dirname(self), name) >= len)
		return -ENAMETOOLONG;
	return access(buf, F_OK) ? -ENOENT : 0;
}

int bf_cli_preload_path(char *buf, size_t len)
{
	/* build tree: next to the binary; installed: <prefix>/lib/bpfilter */
	if (!bf_cli_sibling(BF_CLI_PRELOAD_NAME, buf, len) ||
	    !bf_cli_sibling("../lib/bpfilter/" BF_CLI_PRELOAD_NAME, buf, len))
		return 0;
	if ((size_t)snprintf(buf, len, "%s/%s", BPFILTER_LIBDIR,
			     BF_CLI_PRELOAD_NAME) >= len)
		return -ENAMETOOLONG;
	if (access(buf, R_OK)) {
		fprintf(stderr, "bpfilter: cannot find %s next to this binary nor in %s\n",
			BF_CLI_PRELOAD_NAME, BPFILTER_LIBDIR);
		return -ENOENT;
	}
	return 0;
}

/*
 * The dynamic loader only warns when LD_PRELOAD names a library it cannot
 * load, and the command then talks to the kernel's own ip_tables: make
 * sure it loads before anyone relies on it.
 */
static int cli_check_preload(const char *lib)
{
	char *fd = getenv("BPFILTER_FD");
	void *h;

	/* the library's constructor takes BPFILTER_FD: hide it from this copy */
	fd = fd ? strdup(fd) : NULL;
	unsetenv("BPFILTER_FD");
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (fd) {
		setenv("BPFILTER_FD", fd, 1);
		free(fd);
	}
	if (!h) {
		fprintf(stderr, "bpfilter: the preload library cannot be loaded: %s\n",
			dlerror());
		return -ELIBBAD;
	}
	dlclose(h);
	return 0;
}

int bf_cli_set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	int r;

	r = cli_check_preload(lib);
	if (r)
		return r;
	if (old && *old)
		r = asprintf(&val, "%s:%s", lib, old);
	else
		r = asprintf(&val, "%s", lib);
	if (r < 0)
		return -ENOMEM;
	r = setenv("LD_PRELOAD", val, 1) ? -errno : 0;
	free(val);
	return r;
}

int bf_cli_parse_hook(const char *s, enum bf_hook *hook)
{
	if (!strcmp(s, "xdp"))
		*hook = BF_HOOK_XDP;
	else if (!strcmp(s, "tc"))
		*hook = BF_HOOK_TC_INGRESS;
	else
		return -EINVAL;
	return 0;
}

const char *bf_cli_hook_name(enum bf_hook hook)
{
	switch (hook) {
	case BF_HOOK_XDP:
		return "xdp";
	case BF_HOOK_TC_INGRESS:
		return "tc ingress";
	case BF_HOOK_TC_EGRESS:
		return "tc egress";
	}
	return "?";
}
