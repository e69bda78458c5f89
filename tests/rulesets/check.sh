#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make rulesets-check: every real rule set (*/NAME.rules) with its packet
# sequence (*/NAME.seq) played with real packets between network
# namespaces (seqrun.py): once with the rules in the kernel's own
# iptables-legacy / ip6tables-legacy, then through bpfilter at XDP and at
# tc. TAP, one line per packet and run:
#   kernel  the kernel's verdict must be the one the .seq line expects
#           (the sequences are checked against the oracle itself);
#   xdp/tc  bpfilter's verdict and replies must equal the kernel's.
# A rule set bpfilter refuses is one "not ok ... # refused: REASON" line per
# hook, never a silent skip. OUTPUT lines at XDP are SKIPs (XDP sees no
# locally generated packets; README "Hooks"); so is a rule set with -m mark
# at XDP (refused there by design: no skb mark), one SKIP line naming why.
#
#   tests/rulesets/check.sh [NAME...]      e.g. ufw server6
#   tests/rulesets/check.sh PATH/NAME.seq  a sequence next to its NAME.rules
#                                          (tests/diff/ct-cases: regressions)
#
# Exit: 0 all ok, 1 a failure, 4 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
HOOKS=${HOOKS-"xdp tc"}

echo "TAP version 13"
if ((EUID != 0)); then
	echo "1..0 # SKIP needs root (netns, BPF, iptables)"
	exit 4
fi
[[ -x $BPFILTER ]] || { echo "Bail out! $BPFILTER is missing; run make first"; exit 1; }
tmp=$(mktemp -d /tmp/bpfilter-rulesets.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

num=0
failed=0
tap() {	# tap ok|not_ok DESC [DIRECTIVE]
	num=$((num + 1))
	[[ $1 == ok ]] || failed=$((failed + 1))
	printf '%s %d - %s%s\n' "${1/_/ }" "$num" "$2" "${3:+ # $3}"
}

names=("$@")
if ((${#names[@]} == 0)); then
	for s in "$here"/*/*.seq; do
		names+=("$(basename "$s" .seq)")
	done
	# the stateful campaign's regressions (tests/diff/ctcamp.py)
	names+=("$root"/tests/diff/ct-cases/*.seq)
fi

# play NAME MODE OUT: one run of seqrun.py (bounded by timeout).
play() {
	local tag=()
	# LOG lines are compared too: a per-run tag in the prefixes (rs<pid><k|x|t>:,
	# the same length in every run) finds them in the kernel log.
	grep -q -- '-j LOG' "$rules" && tag=(--log-tag "rs$$-$setno${2:0:1}:")
	timeout 300 /usr/bin/python3 "$here/seqrun.py" --rules "$rules" \
		--seq "$seq" --mode "$2" --bpfilter "$BPFILTER" --tmp "$3.d" \
		"${tag[@]}" >"$3" 2>"$3.err"
}

# text LINENO FILE: the sequence line, for the TAP description.
text() { sed -n "${1}p" "$2" | sed -e 's/[[:space:]]*=>.*//' -e 's/#/\\#/g'; }

# The bpfilter runs' LOG lines need printk_devkmsg=on to take (seqrun.py's
# sysctl_set; ufw writes 11 lines in a few seconds, above "ratelimit"'s 10).
if r=$(/usr/bin/python3 "$here/devkmsg_test.py"); then
	tap ok "${r#ok - }"
else
	tap not_ok "${r#not ok - }"
fi

setno=10
for name in "${names[@]}"; do
	setno=$((setno + 1))
	if [[ $name == *.seq ]]; then	# a path: NAME.seq next to NAME.rules
		seq=$name
		rules=${name%.seq}.rules
		name=$(basename "$name" .seq)
	else
		seq=$here/${name%6}/$name.seq
		rules=$here/${name%6}/$name.rules
	fi
	if [[ ! -f $seq ]]; then
		tap not_ok "$name: no sequence file $seq"
		continue
	fi
	echo "# ---- $name (${rules#"$root"/}, $(grep -cE '^(INPUT|FORWARD|OUTPUT) ' "$seq") packets)"
	k=$tmp/$name.kernel
	mkdir -p "$k.d"
	play "$name" kernel "$k"
	if ! grep -qE '^[0-9]+ ' "$k"; then
		tap not_ok "$name kernel: the sequence did not run: $(head -c 300 "$k" "$k.err" | tr '\n' ' ')"
		continue
	fi
	npk=$(grep -cE '^(INPUT|FORWARD|OUTPUT) ' "$seq")
	if (($(grep -cE '^[0-9]+ ' "$k") != npk)); then
		tap not_ok "$name kernel: $(grep -cE '^[0-9]+ ' "$k") of $npk packets played: $(tail -n 3 "$k.err" | tr '\n' ' ')"
	fi
	if grep -q '^log ' "$k"; then
		echo "# kernel LOG lines: $(grep -c '^log ' "$k")"
		grep '^log ' "$k" | sed 's/^/#   /'
	fi
	while read -r no verdict; do
		want=$(sed -n "${no}p" "$seq" | sed -n 's/.*=>[[:space:]]*//p' | sed 's/[[:space:]]*#.*//')
		if [[ $verdict == "$want" ]]; then
			tap ok "$name kernel line $no: $(text "$no" "$seq") => $verdict"
		else
			tap not_ok "$name kernel line $no: $(text "$no" "$seq"): kernel '$verdict', the sequence expects '$want'"
		fi
	done < <(grep -E '^[0-9]+ ' "$k")
	for hook in $HOOKS; do
		b=$tmp/$name.$hook
		if [[ $hook == xdp ]] && grep -qE -- '-m mark( |$)' "$rules"; then
			# refused by design (issue 3), so played at tc only
			tap ok "$name xdp: not played" "SKIP -m mark is refused at XDP by design: XDP has no skb mark (README); played at tc"
			continue
		fi
		mkdir -p "$b.d"
		play "$name" "$hook" "$b"
		if grep -q '^refused: ' "$b"; then
			tap not_ok "$name $hook: bpfilter refuses the rule set" \
				"refused: $(sed -n 's/^refused: //p' "$b" | head -1 | sed 's/#/\\#/g')"
			continue
		fi
		if ! grep -qE '^[0-9]+ ' "$b"; then
			tap not_ok "$name $hook: the sequence did not run: $(head -c 300 "$b" "$b.err" | tr '\n' ' ')"
			continue
		fi
		while read -r no verdict; do
			got=$(awk -v n="$no" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$b")
			hk=$(sed -n "${no}p" "$seq" | awk '{ print $1 }')
			desc="$name $hook line $no: $(text "$no" "$seq")"
			if [[ $hook == xdp && $hk == OUTPUT ]]; then
				tap ok "$desc: kernel '$verdict', bpfilter '$got'" "SKIP XDP sees no OUTPUT"
			elif [[ $got == "$verdict" ]]; then
				tap ok "$desc => $got"
			else
				tap not_ok "$desc: kernel '$verdict', bpfilter '${got:-nothing}'"
			fi
		done < <(grep -E '^[0-9]+ ' "$k")
		if grep -q '^log ' "$k" "$b"; then
			# XDP has no OUTPUT: the kernel's OUTPUT lines (IN= empty) are left out.
			kl=$(grep '^log ' "$k" | { if [[ $hook == xdp ]]; then grep -v ' IN= ' || true; else cat; fi; })
			bl=$(grep '^log ' "$b" || true)
			if [[ $kl == "$bl" ]]; then
				tap ok "$name $hook: the same $(grep -c . <<<"$kl") LOG lines as the kernel"
			else
				tap not_ok "$name $hook: LOG lines differ from the kernel's"
				diff <(echo "$kl") <(echo "$bl") | sed 's/^/#   /' | head -n 20
			fi
		fi
	done
done
echo "1..$num"
echo "# $((num - failed)) of $num passed"
((failed == 0))
