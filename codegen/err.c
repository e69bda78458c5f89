// SPDX-License-Identifier: GPL-2.0
/* struct bf_err: the message a user sees when their input is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bpfilter/codegen.h"

void bf_err_clear(struct bf_err *err)
{
	if (!err)
		return;
	err->msg[0] = '\0';
	free(err->verifier_log);
	err->verifier_log = NULL;
}

int bf_err_set(struct bf_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return ret;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret;
}
