#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make rulesets-bench: per-packet cost of every real rule set that has a
# representative packet (*/NAME.bench), bpfilter at XDP and tc through
# BPF_PROG_TEST_RUN next to the kernel's iptables-legacy on the same table
# (tests/bench/run.sh --rules, see its header), then one table:
#
#   tests/rulesets/bench.sh [--rounds N] [NAME...]
#
# A rule set bpfilter refuses shows "refused" (the reason is on stderr)
# and still gets the kernel's figure. A benchmark, not a test: exit 0
# unless a run failed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=5
names=()
while (($#)); do
	case $1 in
	--rounds) rounds=$2; shift ;;
	-h|--help) sed -n '3,14p' "$0"; exit 0 ;;
	*) names+=("$1") ;;
	esac
	shift
done
if ((EUID != 0)); then
	echo "# SKIP: the benchmark needs root"
	exit 4
fi
if ((${#names[@]} == 0)); then
	for b in "$here"/*/*.bench; do
		names+=("$(basename "$b" .bench)")
	done
fi
sum=$(mktemp /tmp/bpfilter-rsbench.XXXXXX)
trap 'rm -f "$sum"' EXIT
rc=0
for name in "${names[@]}"; do
	rules=$here/${name%6}/$name.rules
	echo "# ---- $name" >&2
	if ! BENCH_SUMMARY=$sum "$root/tests/bench/run.sh" --rules "$rules" --rounds "$rounds" >/dev/null; then
		echo "# $name: the benchmark failed" >&2
		printf '%s\tfailed\tfailed\t-\t-\t-\t-\n' "$name" >>"$sum"
		rc=1
	fi
done

ratio() { awk -v k="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && k + 0 > 0) printf "%.1fx", k / b; else printf "-" }'; }
printf '\n%-11s %10s %10s %13s %8s %8s %9s %9s\n' "rule set" "xdp ns" "tc ns" "kernel ns" "kern/xdp" "kern/tc" "load xdp" "load tc"
while IFS=$'\t' read -r n x t k lx lt _; do
	printf '%-11s %10s %10s %13s %8s %8s %6s ms %6s ms\n' "$n" "$x" "$t" "$k" \
		"$(ratio "$k" "$x")" "$(ratio "$k" "$t")" "$lx" "$lt"
done <"$sum"
echo
echo "The packets (each must be accepted by bpfilter and by the kernel):"
while IFS=$'\t' read -r n _ _ _ _ _ d; do
	printf '  %-11s %s\n' "$n" "$d"
done <"$sum"
echo
echo "ns/pkt: median of $rounds rounds. bpfilter: BPF_PROG_TEST_RUN of the attached program with"
echo "the arrival interface in its context; kernel: iptables-legacy between two BPF netfilter"
echo "programs at the packet's hook, minus the pair's cost without a table (tests/bench/run.sh)."
exit $rc
