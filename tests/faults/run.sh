#!/usr/bin/env bash
# A table the verifier rejects, end to end: the daemon runs with
# BPFILTER_FAULT_VERIFIER_AFTER=3 (the loader's fault injection: program
# loads 1 (the initial table) and 2 (the first rule) are real, load 3 is made
# invalid). The unmodified iptables-legacy must get a clear errno (EINVAL),
# the daemon must log the rule's refusal with the verifier's own log, and the
# rules in force must stay in force: listed, and filtering real traffic.
# Usage: tests/faults/run.sh [--hook xdp|tc]. TAP output; 4 = skipped (not root).
set -euo pipefail

hook=xdp
[[ "${1:-}" == "--hook" ]] && hook=${2:?}
top=$(cd "$(dirname "$0")/../.." && pwd)
bpfilter=$top/build/bpfilter
tx=bfflt-tx-$$ rx=bfflt-rx-$$
run=$(mktemp -d /tmp/bffault.XXXXXX)
daemon=
n=0 fails=0
out=

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
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
cleanup() {
	[[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root"
	exit 4
fi
ip netns add "$tx"
ip netns add "$rx"
ip -n "$tx" link add veth0 type veth peer name veth1 netns "$rx"
ip -n "$tx" addr add 10.98.0.1/24 dev veth0
ip -n "$rx" addr add 10.98.0.2/24 dev veth1
ip -n "$tx" link set veth0 up
ip -n "$rx" link set veth1 up

# tc loads two programs per table (ingress, egress): the third table is load 5
after=3
[[ $hook == tc ]] && after=5
BPFILTER_FAULT_VERIFIER_AFTER=$after ip netns exec "$rx" "$bpfilter" daemon \
	--iface veth1 --hook "$hook" --socket "$run/sock" --state-dir "$run/state" \
	2>"$run/daemon.log" &
daemon=$!
for _ in $(seq 50); do [[ -S "$run/sock" ]] && break; sleep 0.1; done
ipt() { ip netns exec "$rx" "$bpfilter" exec --socket "$run/sock" -- iptables-legacy "$@"; }
pings() { # how many of $1 pings were answered ("N received")
	local o
	o=$(ip netns exec "$tx" ping -c "$1" -i 0.2 -W 1 10.98.0.2 2>&1) || true
	grep -o '[0-9]* received' <<<"$o" || true
}

out=$(pings 3)
check "[$hook] pings pass before any rule" has "^3 received"
rc=0
out=$(ipt -A INPUT -p icmp -j DROP 2>&1) || rc=$?
check "[$hook] a first rule loads" test "$rc" -eq 0
out=$(pings 3)
check "[$hook] it drops pings" has "^0 received"

rc=0
out=$(ipt -A INPUT -p udp --dport 53 -j DROP 2>&1) || rc=$?
check "[$hook] the table the verifier rejects fails" test "$rc" -ne 0
check "[$hook] iptables gets EINVAL" has "Invalid argument"
out=$(cat "$run/daemon.log")
check "[$hook] the daemon logs the refusal" has "refused (Invalid argument): loading bpfilter_.*rejected by the verifier"
check "[$hook] ... with the verifier's own log" has "verifier log:"
check "[$hook] ... and its reason" has "R3 !read_ok"

out=$(ipt -S 2>&1)
check "[$hook] the rules in force are listed unchanged" \
	test "$(grep -c '^-A' <<<"$out")" -eq 1
check "[$hook] ... the first rule" has "^-A INPUT -p icmp -j DROP$"
out=$(pings 3)
check "[$hook] and still drop pings" has "^0 received"

echo "1..$n"
[[ $fails -eq 0 ]]
