#!/usr/bin/env bash
# `bpfilter translate` needs no root: run it as nobody on the demo rule set
# (IR lines and disassembly with rule marks) and on a rule set it must refuse
# (exit 1 naming the chain, the rule number and the reason); the same with
# -6 for ip6tables-save files. TAP output.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

if [[ $EUID -ne 0 ]]; then
	runas=()			# already unprivileged
else
	runas=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
# The checkout may sit in a directory nobody cannot enter: copy what runs.
work=$(mktemp -d /tmp/bftranslate.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$top/build/bpfilter" "$top/build/libbpfilter-preload.so" \
	"$top/tests/demo/sample.rules" "$top/tests/translate/unsupported.rules" \
	"$top/tests/translate/sample6.rules" "$top/tests/translate/unsupported6.rules" "$work/"
chmod 0755 "$work"
chmod 0644 "$work"/*.rules

# check NAME COMMAND...: one TAP line; on failure the last output as diagnostics
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name"
		while IFS= read -r line; do echo "# $line"; done <<<"$out"
	fi
}
has() { grep -q -- "$1" <<<"$out"; }

rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate sample.rules 2>&1) || rc=$?
check "translate as an unprivileged user exits 0" test "$rc" -eq 0
check "one IR line per rule" \
	has '^INPUT#3 \[2\] saddr 10.99.0.0/255.255.0.0 proto 6 l4(tcp,20) dport 22-22 -> DROP$'
check "chain ends and policies listed" has '^SERVICES end \[13\] -> RETURN$'
check "disassembly calls the chain functions" has 'call .*bpfilter_'
check "disassembly marks rule boundaries" has '^; INPUT#3'

rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate unsupported.rules 2>&1) || rc=$?
check "an unsupported match exits 1" test "$rc" -eq 1
check "the refusal names chain, rule and reason" \
	has "chain INPUT rule 2: match 'statistic' is not supported"

# IPv6: translate -6 runs ip6tables-legacy-restore, prints the IPv6 IR
rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate -6 sample6.rules 2>&1) || rc=$?
check "translate -6 as an unprivileged user exits 0" test "$rc" -eq 0
check "-6: IPv6 source prefix in the IR" \
	has '^INPUT#2 \[1\] saddr6 2001:db8:bad::/ffff:ffff:ffff:: -> DROP$'
check "-6: icmpv6 type in the IR" has '^INPUT#3 \[2\] proto6 58 .*icmp6 type 128 .*-> ACCEPT$'
check "-6: user chain and its end" has '^SERVICES end \[10\] -> RETURN$'
check "-6: policies" has '^FORWARD policy \[5\] -> DROP$'
check "-6: disassembly marks rule boundaries" has '^; INPUT#3'
rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate -6 --hook tc sample6.rules 2>&1) || rc=$?
check "-6 --hook tc: ingress and egress programs" \
	eval 'test "$rc" -eq 0 && has "^# program tc ingress" && has "^# program tc egress"'
rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate sample6.rules 2>&1) || rc=$?
check "an ip6tables file without -6 fails" test "$rc" -eq 1
rc=0
out=$(cd "$work" && "${runas[@]}" ./bpfilter translate -6 unsupported6.rules 2>&1) || rc=$?
check "-6: an unsupported match exits 1" test "$rc" -eq 1
check "-6: the refusal names chain, rule and reason" \
	has "chain INPUT rule 2: match 'statistic' is not supported"

echo "1..$n"
[[ $fails -eq 0 ]]
