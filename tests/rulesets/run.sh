#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Which real rule sets bpfilter translates today, and the first refusal of
# the others. A report (exit 0), not a test: see README.md.
set -u
cd "$(dirname "$0")"
BPFILTER=${BPFILTER:-../../build/bpfilter}
for f in */*.rules; do
	fam=
	case $f in *6.rules) fam=-6 ;; esac
	if out=$("$BPFILTER" translate $fam "$f" 2>&1 >/dev/null); then
		printf '%-32s translated\n' "$f"
	else
		why=$(printf '%s\n' "$out" | grep -m1 -E 'refused: |Couldn.t load' |
		      sed -e 's/.*refused: //' -e 's/.*(legacy): //')
		printf '%-32s refused: %s\n' "$f" "${why:-$(printf '%s' "$out" | head -1)}"
	fi
done
