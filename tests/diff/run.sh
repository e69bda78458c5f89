#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test: the same rules and packets through the kernel's own
# iptables-legacy (oracle.py, in a fresh netns), through `bpfilter test`
# at --hook xdp and --hook tc, through the reference interpreter of the IR
# (`bpfilter test --interp`) and, unless --no-attached, through the
# program `bpfilter daemon` attached at each hook, with real frames over
# veth (attached.py); every verdict must agree.
#
#   tests/diff/run.sh [--smoke] [--hook xdp|tc] [--no-attached] [-v] [CASE.rules ...]
#
# --smoke   only the hand-written cases in tests/diff/cases/
# default   those, the packet-test cases of tests/packet/cases/ (their
#           expectations ignored) and, for every rule set, random packets
#           drawn from the values its rules mention (gen.py, fixed seed).
#
# Case files: NAME.rules (iptables-save; ip6tables-save for IPv6 cases,
# whose NAME starts with "ip6-") and NAME.pkts, whose lines are
# packet lines (an optional leading ACCEPT/DROP and a trailing "# name"
# are ignored) in sections opened by "--- INPUT|FORWARD|OUTPUT".
# Designed differences are listed in known-differences and reported as
# excluded, never dropped silently.
#
# Exit: 0 all agree, 1 a mismatch or an error, 4 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
ORACLE=$here/oracle.py
ATTACHED=$here/attached.py
GEN=$here/gen.py
KNOWN=$here/known-differences
GEN_COUNT=${GEN_COUNT:-300}

smoke=0
verbose=0
attached=1
hooks=()
cases=()
while (($#)); do
	case $1 in
	--smoke) smoke=1 ;;
	--hook) hooks+=("$2"); shift ;;
	--no-attached) attached=0 ;;
	-v) verbose=1 ;;
	-h|--help) sed -n '3,25p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 1 ;;
	*) cases+=("$1") ;;
	esac
	shift
done
((${#hooks[@]})) || hooks=(xdp tc)

if ((EUID != 0)); then
	echo "# SKIP: the differential test needs root (netns, iptables, bpf)"
	exit 4
fi
if [[ ! -x $BPFILTER ]]; then
	echo "run.sh: $BPFILTER is missing; run make first" >&2
	exit 1
fi

if ((${#cases[@]} == 0)); then
	cases=("$here"/cases/*.rules)
	((smoke)) || cases+=("$root"/tests/packet/cases/*.rules)
fi

tmp=$(mktemp -d /tmp/bpfilter-diff.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Known differences: chain, hooks, regex, reason (TAB separated).
known_chain=()
known_hooks=()
known_re=()
known_why=()
known_fam=()
while IFS=$'\t' read -r kc kh kr kw; do
	[[ -z $kc || $kc == \#* ]] && continue
	if [[ $kc == */* ]]; then
		known_fam+=("${kc#*/}")
		kc=${kc%%/*}
	else
		known_fam+=("")
	fi
	known_chain+=("$kc")
	known_hooks+=("$kh")
	known_re+=("$kr")
	known_why+=("$kw")
done <"$KNOWN"

# known_match CHAIN HOOK LINE: print the reason if a known difference covers
# it (for the family $fam).
known_match() {
	local i
	for i in "${!known_chain[@]}"; do
		[[ ${known_chain[i]} == "$1" ]] || continue
		[[ -z ${known_fam[i]} || ${known_fam[i]} == "$fam" ]] || continue
		[[ ,${known_hooks[i]}, == *",$2,"* ]] || continue
		if [[ $3 =~ ${known_re[i]} ]]; then
			echo "${known_why[i]}"
			return 0
		fi
	done
	return 1
}

# expects FILE CHAIN: the leading ACCEPT/DROP of each packet line of one
# chain ("-" where there is none): the kernel's verdict must be it.
expects() {
	awk -v ch="$2" '
		/^--- / { on = ($2 == ch); next }
		!on { next }
		{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "");
		  if ($0 == "") next;
		  print ($1 == "ACCEPT" || $1 == "DROP") ? $1 : "-" }' "$1"
}

# section FILE CHAIN: the packet lines of one chain, bare.
section() {
	awk -v ch="$2" '
		/^--- / { on = ($2 == ch); next }
		!on { next }
		{ sub(/#.*/, ""); sub(/^[ \t]*(ACCEPT|DROP)[ \t]+/, "");
		  gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "") print }' "$1"
}

total=0
agree=0
excluded=0
mismatches=0
errors=0
attached_n=0
declare -A excl_why=()

report_rules_once() {
	if [[ $shown_rules != "$1" ]]; then
		echo "# rules $1:"
		grep -v '^[[:space:]]*#' "$1" | sed 's/^/#   /'
		shown_rules=$1
	fi
}

# mismatch LABEL CHAIN HOOK LINE WHAT: count and print one.
mismatch() {
	mismatches=$((mismatches + 1))
	report_rules_once "$rules"
	echo "MISMATCH $1 chain $2 hook $3: $4 -> $5"
}

# side_run OUT CMD...: one verdict side over $pkts into OUT, or an error.
side_run() {
	local out=$1
	shift
	if ! "$@" <"$pkts" >"$out" 2>"$tmp/err"; then
		echo "# ERROR ${*:1:6} $label: $(head -c 2000 "$tmp/err")"
		errors=$((errors + 1))
		return 1
	fi
	if (($(wc -l <"$out") != n)); then
		echo "# ERROR $label $chain: $n packets, ${*:1:6} gave $(wc -l <"$out") verdicts"
		errors=$((errors + 1))
		return 1
	fi
}

# compare RULES CHAIN PKTFILE LABEL [EXPECTFILE]
compare() {
	local rules=$1 chain=$2 pkts=$3 label=$4 hook n i line kv bv iv av why
	local -a plines kver bver iver aver want=()
	mapfile -t plines <"$pkts"
	n=${#plines[@]}
	((n)) || return 0
	side_run "$tmp/k" "$ORACLE" "${famopt[@]}" --chain "$chain" "$rules" || return 0
	mapfile -t kver <"$tmp/k"
	[[ -n ${5:-} ]] && mapfile -t want <"$5"
	for ((i = 0; i < ${#want[@]}; i++)); do
		[[ ${want[i]} == - || ${want[i]} == "${kver[i]}" ]] && continue
		mismatch "$label" "$chain" kernel "${plines[i]}" "the case expects ${want[i]}, the kernel says ${kver[i]}"
	done
	if ((fam == 6 && !have6)); then
		echo "# SKIP $label $chain: kernel verdicts checked; bpfilter test has no -6 yet"
		return 0
	fi
	# "# netns: CMD" lines (-m addrtype's routes): bpfilter test's
	# namespace gets them too, and at INPUT the oracle's local default
	# route; the attached program's namespace has the daemon's routes, so
	# such cases are not sent through it.
	local -a ns=(unshare --net)
	local setup use_attached=$attached
	setup=$(sed -n 's/^# netns: //p' "$rules")
	if [[ -n $setup ]]; then
		if [[ $chain == INPUT ]]; then
			setup+=$'\n'"ip -$fam route replace local $( ((fam == 4)) && echo 0.0.0.0/0 || echo ::/0) dev lo table local"
		fi
		ns=(unshare --net sh -c "set -e; $setup"$'\n''exec "$@"' sh)
		use_attached=0
	fi
	# The interpreter has no hook (tc has every chain); a private netns
	# all the same: the program is loaded too.
	side_run "$tmp/i" "${ns[@]}" "$BPFILTER" test "${famopt[@]}" --interp --hook tc \
		--chain "$chain" "$rules" || return 0
	mapfile -t iver <"$tmp/i"
	for hook in "${hooks[@]}"; do
		# XDP has no OUTPUT: locally generated packets never pass it.
		[[ $hook == xdp && $chain == OUTPUT ]] && continue
		# A private netns: the devices the packet lines name are created
		# there, never next to the host's own (or a parallel run's).
		side_run "$tmp/b" "${ns[@]}" "$BPFILTER" test "${famopt[@]}" --hook "$hook" \
			--chain "$chain" "$rules" || continue
		mapfile -t bver <"$tmp/b"
		aver=()
		if ((use_attached)); then
			side_run "$tmp/a" "$ATTACHED" "${famopt[@]}" --hook "$hook" --chain "$chain" \
				"$rules" && mapfile -t aver <"$tmp/a"
		fi
		for ((i = 0; i < n; i++)); do
			line=${plines[i]}
			kv=${kver[i]}
			bv=${bver[i]}
			iv=${iver[i]}
			total=$((total + 1))
			# Between bpfilter's own sides there is no designed difference.
			[[ $iv == "$bv" ]] ||
				mismatch "$label" "$chain" "$hook" "$line" "interpreter $iv, bpfilter $bv (codegen)"
			if ((${#aver[@]})); then
				av=${aver[i]}
				attached_n=$((attached_n + 1))
				[[ $av == "$bv" ]] ||
					mismatch "$label" "$chain" "$hook" "$line" "attached program $av, bpfilter test $bv"
			fi
			if why=$(known_match "$chain" "$hook" "$line"); then
				excluded=$((excluded + 1))
				excl_why[$why]=$((${excl_why[$why]:-0} + 1))
				((verbose)) && echo "# excluded $label $chain $hook: $line (kernel $kv, bpfilter $bv)"
				continue
			fi
			if [[ $kv == "$bv" && $kv == "$iv" ]]; then
				agree=$((agree + 1))
				continue
			fi
			[[ $kv == "$bv" ]] ||
				mismatch "$label" "$chain" "$hook" "$line" "kernel $kv, bpfilter $bv, interpreter $iv"
			[[ $kv != "$bv" || $kv == "$iv" ]] ||
				mismatch "$label" "$chain" "$hook" "$line" "kernel $kv, interpreter $iv (interpreter)"
		done
	done
}

# IPv6 lands in bpfilter step by step: until `bpfilter test -6` exists,
# the ip6-* cases check the kernel's verdicts only, and say so.
have6=0
"$BPFILTER" test --help 2>/dev/null | grep -q -- '-6' && have6=1

shown_rules=
for rules in "${cases[@]}"; do
	pkts=${rules%.rules}.pkts
	name=$(basename "${rules%.rules}")
	fam=4
	famopt=()
	if [[ $name == ip6-* ]]; then
		fam=6
		famopt=(-6)
	fi
	for chain in INPUT FORWARD OUTPUT; do
		section "$pkts" "$chain" >"$tmp/p"
		expects "$pkts" "$chain" >"$tmp/w"
		compare "$rules" "$chain" "$tmp/p" "$name" "$tmp/w"
		# gen.py draws IPv4 packets only.
		if ((!smoke && fam == 4)) && [[ -x $GEN ]]; then
			"$GEN" --chain "$chain" --count "$GEN_COUNT" --seed "$name" \
				"$rules" >"$tmp/g"
			compare "$rules" "$chain" "$tmp/g" "$name(generated)"
		fi
	done
done

echo "# differential: $total comparisons, $agree agree, $mismatches mismatch, $excluded excluded as designed, $errors errors; $attached_n also through the attached program"
for why in "${!excl_why[@]}"; do
	echo "#   excluded ${excl_why[$why]}: $why"
done
((mismatches == 0 && errors == 0))
