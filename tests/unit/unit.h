/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unit tests register their check suites from a constructor:
 *   BF_UNIT_SUITE(xt_validate_suite);
 * tests/unit/main.c runs them all with TAP output.
 */
#ifndef BF_UNIT_H
#define BF_UNIT_H

#include <check.h>

void bf_unit_register(Suite *(*make)(void));

#define BF_UNIT_SUITE(fn)						\
	static void __attribute__((constructor)) fn##_register(void)	\
	{								\
		bf_unit_register(fn);					\
	}

#endif /* BF_UNIT_H */
