// SPDX-License-Identifier: GPL-2.0
/* Runs every registered check suite; TAP on stdout. CK_RUN_SUITE=name runs one. */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

#define MAX_SUITES 64

static Suite *(*suites[MAX_SUITES])(void);
static int n_suites;

void bf_unit_register(Suite *(*make)(void))
{
	if (n_suites == MAX_SUITES) {
		fprintf(stderr, "too many unit suites\n");
		exit(1);
	}
	suites[n_suites++] = make;
}

int main(void)
{
	SRunner *sr = NULL;
	int failed, i;

	for (i = 0; i < n_suites; i++) {
		Suite *s = suites[i]();

		if (!sr)
			sr = srunner_create(s);
		else
			srunner_add_suite(sr, s);
	}
	if (!sr) {
		printf("1..0 # SKIP no suites\n");
		return 4;
	}
	srunner_set_tap(sr, "-");
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
