/* SPDX-License-Identifier: GPL-2.0 */
/* Levelled logging through one printf-checked function. */
#ifndef BPFILTER_LOG_H
#define BPFILTER_LOG_H

#include <stdarg.h>

enum bf_log_level {
	BF_LOG_ERR,
	BF_LOG_WARN,
	BF_LOG_INFO,
	BF_LOG_DEBUG,
};

typedef void (*bf_log_sink_t)(enum bf_log_level level, const char *line);

/* Default sink: stderr, "bpfilter: <level>: <line>". */
void bf_log_set_sink(bf_log_sink_t sink);
void bf_log_set_level(enum bf_log_level level);
/* Route libbpf's own messages through bf_log. */
void bf_log_route_libbpf(void);

void bf_log(enum bf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define bf_err(...)	bf_log(BF_LOG_ERR, __VA_ARGS__)
#define bf_warn(...)	bf_log(BF_LOG_WARN, __VA_ARGS__)
#define bf_info(...)	bf_log(BF_LOG_INFO, __VA_ARGS__)
#define bf_dbg(...)	bf_log(BF_LOG_DEBUG, __VA_ARGS__)

#endif /* BPFILTER_LOG_H */
