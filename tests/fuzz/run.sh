#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the libFuzzer harnesses of tests/fuzz/ (built by `make fuzz-build`
# into build/fuzz/).
#
#   tests/fuzz/run.sh [--smoke] [--seconds N] [harness...]
#
# Each harness runs N seconds (default 120; --smoke: 15) on its seed
# corpus tests/fuzz/corpus/<harness>/ (the seeds and the regress-* inputs
# of fixed bugs, all replayed first) plus a scratch corpus under
# build/fuzz/work/. Crash, leak and timeout inputs go to tests/fuzz/crashes/.
# Prints execs and execs/s per harness; exits 1 if any harness found
# something, 0 otherwise. fuzz_load needs root; without it, it is skipped.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${FUZZ_BIN_DIR:-$top/build/fuzz}
secs=120
harnesses=()

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) secs=15 ;;
	--seconds) secs=$2; shift ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	*) harnesses+=("$1") ;;
	esac
	shift
done
[ ${#harnesses[@]} -eq 0 ] && harnesses=(fuzz_xt fuzz_gen fuzz_umh fuzz_load)

mkdir -p "$here/crashes"
fail=0
for h in "${harnesses[@]}"; do
	exe=$bin/$h
	if [ ! -x "$exe" ]; then
		echo "not ok - $h: $exe missing (make fuzz-build)"
		fail=1
		continue
	fi
	if [ "$h" = fuzz_load ] && [ "$(id -u)" != 0 ]; then
		echo "ok - $h # SKIP needs root"
		continue
	fi
	timeout=10
	max_len=65536
	[ "$h" = fuzz_load ] && timeout=30
	[ "$h" = fuzz_umh ] && max_len=131072
	work=$top/build/fuzz/work/$h
	log=$top/build/fuzz/$h.log
	mkdir -p "$work"
	before=$(ls "$here/crashes" | wc -l)
	(cd "$top" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$exe" -max_total_time="$secs" -timeout="$timeout" \
		-rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$here/crashes/$h-" \
		"$work" "$here/corpus/$h") >"$log" 2>&1
	rc=$?
	if [ $rc = 4 ]; then
		echo "ok - $h # SKIP $(tail -n 1 "$log")"
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	after=$(ls "$here/crashes" | wc -l)
	if [ $rc != 0 ] || [ "$after" != "$before" ]; then
		echo "not ok - $h: exit $rc after ${execs:-?} execs; log $log"
		grep -m 3 -E 'FUZZ BUG|ERROR: |runtime error' "$log" | sed 's/^/#   /'
		ls -t "$here/crashes" | head -n $((after - before > 0 ? after - before : 1)) |
			sed "s|^|#   crash: tests/fuzz/crashes/|"
		fail=1
	else
		echo "ok - $h: ${execs:-?} execs in ${secs}s, ${rate:-?} execs/s, ${cov:-cov ?}"
	fi
done
exit $fail
