// SPDX-License-Identifier: GPL-2.0
/* Levelled logging; one sink, replaceable (the daemon sends it to syslog). */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "bpfilter/log.h"

static enum bf_log_level log_level = BF_LOG_INFO;
static bf_log_sink_t log_sink;

static const char *const level_names[] = {
	[BF_LOG_ERR] = "error",
	[BF_LOG_WARN] = "warning",
	[BF_LOG_INFO] = "info",
	[BF_LOG_DEBUG] = "debug",
};

void bf_log_set_sink(bf_log_sink_t sink)
{
	log_sink = sink;
}

void bf_log_set_level(enum bf_log_level level)
{
	log_level = level;
}

static void log_vline(enum bf_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (log_sink) {
		log_sink(level, line);
		return;
	}
	fprintf(stderr, "bpfilter: %s: %s\n", level_names[level], line);
}

void bf_log(enum bf_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum bf_log_level ours = BF_LOG_DEBUG;

	if (level == LIBBPF_WARN)
		ours = BF_LOG_WARN;
	else if (level == LIBBPF_INFO)
		ours = BF_LOG_INFO;
	log_vline(ours, fmt, ap);
	return 0;
}

void bf_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
