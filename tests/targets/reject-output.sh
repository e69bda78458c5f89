#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# -j REJECT with an ICMP error at OUTPUT, against the kernel's (TAP). A
# namespace B with a veth to C; a connected UDP socket in B sends to C's
# ports (tests/targets/udpclient.py) twice: 1. B's kernel iptables-legacy
# holds the rules, 2. bpfilter's daemon at tc on B's veth holds them. What
# the socket is told must be the same: the error its next recv() returns
# and the ICMP type/code queued with IP_RECVERR (port unreachable:
# ECONNREFUSED 3/3, host prohibited: EHOSTUNREACH 3/10; a port no rule
# rejects: C's own port unreachable). Known differences, printed, not
# compared: the kernel's send() fails with EPERM (NF_DROP at LOCAL_OUT),
# bpfilter's succeeds (tc egress runs after the IP layer returned); the
# kernel's error comes from the local address over lo, bpfilter's from the
# packet's destination (docs/design-notes.md).
#
#   tests/targets/reject-output.sh
# Exit: 0 pass, 1 failure, 4 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
CLIENT=$here/udpclient.py

echo "TAP version 13"
echo "# -j REJECT (ICMP) at OUTPUT vs the kernel's, tc egress"
if ((EUID != 0)); then
	echo "1..0 # SKIP needs root"
	exit 4
fi
B=bfro-b-$$ C=bfro-c-$$ IF_B=rob$$ IF_C=roc$$
tmp=$(mktemp -d /tmp/bpfilter-rejout.XXXXXX)
daemon_pid=
cleanup() {
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
num=0 failed=0
ok() { num=$((num + 1)); echo "ok $num - $*"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num - $*"; }

ip netns add "$B"; ip netns add "$C"
ip link add "$IF_B" address 02:00:00:00:0b:05 netns "$B" type veth peer name "$IF_C" address 02:00:00:00:0c:05 netns "$C"
ip -n "$B" addr add 10.204.0.2/24 dev "$IF_B"; ip -n "$B" link set "$IF_B" up; ip -n "$B" link set lo up
ip -n "$C" addr add 10.204.0.1/24 dev "$IF_C"; ip -n "$C" link set "$IF_C" up
ip -n "$B" neigh add 10.204.0.1 lladdr 02:00:00:00:0c:05 dev "$IF_B"
ip -n "$C" neigh add 10.204.0.2 lladdr 02:00:00:00:0b:05 dev "$IF_C"
cat >"$tmp/rules" <<'R'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp --dport 2227 -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -p udp --dport 2228 -j REJECT --reject-with icmp-host-prohibited
-A OUTPUT -p udp --dport 2230 -j REJECT --reject-with icmp-net-unreachable
COMMIT
R
ports=(2227 2228 2230 2229)
play() {	# play OUT: one line per port
	local p
	for p in "${ports[@]}"; do
		echo "$p $(ip netns exec "$B" timeout 5 /usr/bin/python3 "$CLIENT" 10.204.0.2 10.204.0.1 "$p")"
	done >"$1"
}

ip netns exec "$B" iptables-legacy-restore <"$tmp/rules"
play "$tmp/kernel"
ip netns exec "$B" iptables-legacy -F
ip netns exec "$B" "$BPFILTER" daemon --iface "$IF_B" --hook tc --socket "$tmp/sock" \
	--state-dir "$tmp/state" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 100; i++)); do [[ -S $tmp/sock ]] && break; sleep 0.1; done
if ip netns exec "$B" timeout 30 "$BPFILTER" exec --socket "$tmp/sock" -- iptables-legacy-restore <"$tmp/rules"; then
	ok "REJECT rules with ICMP errors at OUTPUT load through bpfilter exec (tc)"
else
	not_ok "REJECT rules with ICMP errors at OUTPUT load through bpfilter exec (tc)"
	sed 's/^/#   /' "$tmp/daemon.log"
fi
play "$tmp/bpf"
for p in "${ports[@]}"; do
	k=$(awk -v p="$p" '$1 == p { print $3, $4 }' "$tmp/kernel")
	b=$(awk -v p="$p" '$1 == p { print $3, $4 }' "$tmp/bpf")
	ks=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/kernel")
	bs=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/bpf")
	if [[ -n $k && $k != *"ee=-"* && $k == "$b" ]]; then
		ok "udp to port $p: the socket gets '$k' as from the kernel (kernel $ks, bpfilter $bs)"
	else
		not_ok "udp to port $p: kernel '$k', bpfilter '$b'"
	fi
done
echo "1..$num"
((failed == 0))
