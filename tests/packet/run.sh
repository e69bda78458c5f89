#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Table-driven packet tests: every case's packets through `bpfilter test`
# (BPF_PROG_TEST_RUN) at --hook xdp and --hook tc, one TAP line per packet
# and hook, plus the bad-input cases of bad/ through `bpfilter translate`.
#
#   tests/packet/run.sh [--hook xdp|tc|interp]... [--kernel] [CASE.rules ...]
#
# --hook interp  judge with the reference interpreter (bpfilter test
#           --interp, tc's view) instead of BPF_PROG_TEST_RUN
# --kernel  check the expectations against the kernel's own iptables-legacy
#           (tests/diff/oracle.py) instead of bpfilter: the expectations
#           are the kernel's verdicts except for the designed differences
#           of tests/diff/known-differences, which are reported as SKIP.
#
# cases/NAME.rules  an iptables-save file
# cases/NAME.rules6 an ip6tables-save file: `bpfilter test -6` (and the
#                   oracle with -6), packet lines in the IPv6 syntax
# cases/NAME.pkts   sections "--- INPUT|FORWARD|OUTPUT [default tokens]";
#                   lines "ACCEPT|DROP <packet tokens>  # name". The default
#                   tokens of a section are added to every line of it that
#                   does not set that key.
# bad/NAME.rules    rules `bpfilter translate` must refuse (NAME.rules6:
#                   ip6tables rules, `bpfilter translate -6`); each line
#                   "# error: ERE" is a pattern its stderr must match.
#
# XDP has no OUTPUT chain: OUTPUT sections run at tc only. A rules file
# with a line "# hooks: tc" runs at tc only (its matches need an skb).
# Lines "# netns: CMD" in a rules file run in the test's network namespace
# before the rules are loaded (routes and addresses for -m addrtype).
# Exit: 0 all pass, 1 a failure, 4 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
ORACLE=$root/tests/diff/oracle.py
KNOWN=$root/tests/diff/known-differences

kernel=0
hooks=()
cases=()
while (($#)); do
	case $1 in
	--hook) hooks+=("$2"); shift ;;
	--kernel) kernel=1 ;;
	-h|--help) sed -n '3,25p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 1 ;;
	*) cases+=("$1") ;;
	esac
	shift
done
((${#hooks[@]})) || hooks=(xdp tc)
((kernel)) && hooks=(kernel)
((${#cases[@]})) || cases=("$here"/cases/*.rules "$here"/cases/*.rules6)

echo "TAP version 13"
if ((EUID != 0)); then
	echo "1..0 # SKIP packet tests load BPF programs and need root"
	exit 4
fi
if ((!kernel)) && [[ ! -x $BPFILTER ]]; then
	echo "Bail out! $BPFILTER is missing; run make first"
	exit 1
fi

tmp=$(mktemp -d /tmp/bpfilter-packet.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# section FILE CHAIN: "EXPECT<TAB>tokens<TAB>name" per line of one chain.
section() {
	awk -v ch="$2" '
	function has(key, line,    n, i, t) {
		n = split(line, t, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (index(t[i], key "=") == 1)
				return 1
		return 0
	}
	/^--- / {
		on = ($2 == ch); ndef = 0
		for (i = 3; i <= NF; i++) def[++ndef] = $i
		next
	}
	!on || /^[ \t]*(#|$)/ { next }
	{
		name = ""
		if ((p = index($0, "#")) > 0) {
			name = substr($0, p + 1); $0 = substr($0, 1, p - 1)
			gsub(/^[ \t]+|[ \t]+$/, "", name)
		}
		want = $1; $1 = ""
		line = $0; gsub(/^[ \t]+|[ \t]+$/, "", line)
		for (i = 1; i <= ndef; i++) {
			split(def[i], kv, "=")
			if (!has(kv[1], line))
				line = line " " def[i]
		}
		gsub(/^ +/, "", line)
		if (name == "") name = line
		printf "%s\t%s\t%s\n", want, line, name
	}' "$1"
}

# IPv6 cases need `bpfilter test -6` (or the oracle's -6): SKIP them
# where the tool does not have it yet.
v6_ok=1
if ((kernel)); then
	"$ORACLE" --help 2>&1 | grep -q -- ' -6' || v6_ok=0
else
	"$BPFILTER" test --help 2>&1 | grep -q -- '-6' || v6_ok=0
fi

known_chain=()
known_re=()
known_why=()
while IFS=$'\t' read -r kc _ kr kw; do
	[[ -z $kc || $kc == \#* ]] && continue
	known_chain+=("$kc")
	known_re+=("$kr")
	known_why+=("$kw")
done <"$KNOWN"

# known_match CHAIN LINE FAMILY(4|6): an entry's chain may carry /4 or /6.
known_match() {
	local i
	for i in "${!known_chain[@]}"; do
		if [[ ${known_chain[i]} == "$1" || ${known_chain[i]} == "$1/$3" ]] &&
		   [[ $2 =~ ${known_re[i]} ]]; then
			echo "${known_why[i]}"
			return 0
		fi
	done
	return 1
}

# Collect the work first, for the TAP plan.
runs=()		# "rules<TAB>chain<TAB>hook<TAB>section file"
planned=0
n_sec=0
for rules in "${cases[@]}"; do
	pkts=${rules%.rules*}.pkts
	if [[ ! -f $pkts ]]; then
		echo "Bail out! $pkts is missing"
		exit 1
	fi
	for chain in INPUT FORWARD OUTPUT; do
		n_sec=$((n_sec + 1))
		sec=$tmp/sec.$n_sec
		section "$pkts" "$chain" >"$sec"
		lines=$(wc -l <"$sec")
		((lines)) || continue
		if grep -qvP '^(ACCEPT|DROP)\t' "$sec"; then
			echo "Bail out! $pkts: $chain: a line does not start with ACCEPT or DROP"
			exit 1
		fi
		for hook in "${hooks[@]}"; do
			[[ $hook == xdp && $chain == OUTPUT ]] && continue
			# "# hooks: tc" in the rules: a table XDP cannot run (-m mark)
			[[ $hook == xdp ]] && grep -q '^# hooks: tc$' "$rules" && continue
			runs+=("$rules"$'\t'"$chain"$'\t'"$hook"$'\t'"$sec")
			planned=$((planned + lines))
		done
	done
done
bad=()
((kernel)) || bad=("$here"/bad/*.rules)
if ! ((kernel)); then
	for f in "$here"/bad/*.rules6; do
		[[ -e $f ]] && bad+=("$f")
	done
fi
planned=$((planned + ${#bad[@]}))
echo "1..$planned"

num=0
failed=0
ok() { num=$((num + 1)); echo "ok $num - $1"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num - $1"; }

for run in "${runs[@]}"; do
	IFS=$'\t' read -r rules chain hook sec <<<"$run"
	case_name=$(basename "${rules%.rules*}")
	fam=()
	[[ $rules == *.rules6 ]] && fam=(-6)
	cut -f2 "$sec" >"$tmp/in"
	if ((kernel)); then
		cmd=("$ORACLE" "${fam[@]}" --chain "$chain" "$rules")
	else
		# A private netns: the devices the packet lines name are created
		# there, never next to the host's own (or a parallel run's).
		# --hook interp: the reference interpreter, on tc's view
		hookargs=(--hook "$hook")
		[[ $hook == interp ]] && hookargs=(--interp --hook tc)
		cmd=(unshare --net "$BPFILTER" test "${fam[@]}" "${hookargs[@]}" --chain "$chain" "$rules")
		# "# netns: CMD" lines: set the namespace up first (-m addrtype's
		# routes); the oracle runs them in its namespace too.
		setup=$(sed -n 's/^# netns: //p' "$rules")
		if [[ -n $setup ]]; then
			cmd=(unshare --net sh -c "set -e; $setup"$'\n''exec "$@"' sh
			     "$BPFILTER" test "${fam[@]}" "${hookargs[@]}" --chain "$chain" "$rules")
		fi
	fi
	: >"$tmp/out"
	skip6=0
	[[ $rules == *.rules6 ]] && ((!v6_ok)) && skip6=1
	if ((!skip6)) && ! "${cmd[@]}" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"; then
		echo "# ${cmd[*]} failed: $(head -c 2000 "$tmp/err")"
	fi
	mapfile -t got <"$tmp/out"
	i=0
	while IFS=$'\t' read -r want line name; do
		label="$case_name $chain $hook: $name"
		v=${got[i]:-none}
		i=$((i + 1))
		if ((skip6)); then
			ok "$label # SKIP no IPv6 support (-6) in this bpfilter test / oracle yet"
		elif ((kernel)) && why=$(known_match "$chain" "$line" "$([[ ${fam[*]} == -6 ]] && echo 6 || echo 4)"); then
			ok "$label # SKIP designed difference: $why"
		elif [[ $v == "$want" ]]; then
			ok "$label"
		else
			not_ok "$label"
			echo "#   packet: $line"
			echo "#   expected $want, got $v"
		fi
	done <"$sec"
done

for rules in "${bad[@]}"; do
	name=$(basename "${rules%.rules}")
	bfam=()
	if [[ $rules == *.rules6 ]]; then
		name=$(basename "${rules%.rules6}")
		bfam=(-6)
	fi
	mapfile -t pats < <(sed -n 's/^# error: //p' "$rules")
	rc=0
	"$BPFILTER" translate "${bfam[@]}" "$rules" >"$tmp/out" 2>"$tmp/err" || rc=$?
	why=
	if ((rc == 0)); then
		why="translate accepted it"
	elif ((${#pats[@]} == 0)); then
		why="no '# error:' pattern in $rules"
	else
		for pat in "${pats[@]}"; do
			grep -qE -- "$pat" "$tmp/err" || why="stderr does not match /$pat/"
		done
	fi
	if [[ -z $why ]]; then
		ok "bad input $name: refused ($(head -n1 "$tmp/err"))"
	else
		not_ok "bad input $name: $why"
		sed 's/^/#   /' "$tmp/err" | head -n 20
	fi
done

echo "# $((num - failed)) passed, $failed failed"
((failed == 0))
