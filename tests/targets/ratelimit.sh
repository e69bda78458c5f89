#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The rate limits of REJECT's ICMP errors, bpfilter against the kernel
# (TAP). The kernel's icmp_send()/icmp6_send() limit ICMP errors per
# destination (inet_peer token bucket: a burst of 6, then one per
# icmp_ratelimit / icmp.ratelimit) and globally (icmp_msgs_per_sec /
# icmp_msgs_burst); tcp-reset is not limited. bpfilter models both in BPF
# (codegen/gen_icmprl.c). Namespaces A - B over veth; A has two addresses
# per family; B rejects UDP port 2223 (icmp-port-unreachable / icmp6-port-
# unreachable) and TCP port 2222 (tcp-reset), with the default sysctls of
# a fresh netns (v4: 1000 ms, v6: 100 ms, burst 50). Per family, the same
# bursts (burst.py: one raw socket, a few ms per burst) go to B's kernel
# ip(6)tables-legacy and then to bpfilter's daemon in B (XDP or tc), and
# the replies A receives are counted per scenario:
#   1. 20 datagrams from the first address (a new peer: 6 replies), then
#      after 1.3 s (timed inside burst.py) 10 more (v4: 1 token regrown,
#      7 in all; v6: 6 more);
#   2. 20 from the second address (its own peer: 6);
#   3. 20 SYNs to the tcp-reset port (20 RSTs: not limited).
# Each count must equal the kernel's. A runs a pass-all bpfilter XDP
# program (veth delivers XDP_TX frames only to a peer with XDP).
#
#   tests/targets/ratelimit.sh --hook xdp|tc
# Exit: 0 pass, 1 failure, 4 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
hook=${2:-}
[[ ${1:-} == --hook && ( $hook == xdp || $hook == tc ) ]] ||
	{ echo "usage: $0 --hook xdp|tc" >&2; exit 1; }

echo "TAP version 13"
echo "# REJECT's ICMP rate limits vs the kernel's, hook $hook"
if ((EUID != 0)); then
	echo "1..0 # SKIP needs root"
	exit 4
fi

A=bfrl-a-$$ B=bfrl-b-$$
IF_AB=rla$$ IF_BA=rlb$$
tmp=$(mktemp -d /tmp/bpfilter-rltest.XXXXXX)
pids=()

cleanup() {
	local p
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

num=0 failed=0
ok() { num=$((num + 1)); echo "ok $num - $*"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num - $*"; }

ip netns add "$A"; ip netns add "$B"
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
	ip -n "$ns" link set lo up
done
ip link add "$IF_AB" address 02:00:00:00:0a:01 netns "$A" type veth peer name "$IF_BA" address 02:00:00:00:0b:01 netns "$B"
ip -n "$A" addr add 10.205.0.1/24 dev "$IF_AB"; ip -n "$A" addr add 10.205.0.3/24 dev "$IF_AB"
ip -n "$A" addr add fd05::1/64 dev "$IF_AB" nodad; ip -n "$A" addr add fd05::3/64 dev "$IF_AB" nodad
ip -n "$B" addr add 10.205.0.2/24 dev "$IF_BA"; ip -n "$B" addr add fd05::2/64 dev "$IF_BA" nodad
ip -n "$A" link set "$IF_AB" up; ip -n "$B" link set "$IF_BA" up
ip -n "$A" neigh add 10.205.0.2 lladdr 02:00:00:00:0b:01 dev "$IF_AB"
ip -n "$A" -6 neigh add fd05::2 lladdr 02:00:00:00:0b:01 dev "$IF_AB"
for a in 10.205.0.1 10.205.0.3; do ip -n "$B" neigh add "$a" lladdr 02:00:00:00:0a:01 dev "$IF_BA"; done
for a in fd05::1 fd05::3; do ip -n "$B" -6 neigh add "$a" lladdr 02:00:00:00:0a:01 dev "$IF_BA"; done
# A drops what it receives (its own errors/RSTs would not matter, but keep it quiet)
ip netns exec "$A" iptables-legacy -A INPUT -p tcp -j DROP
ip netns exec "$A" ip6tables-legacy -A INPUT -p tcp -j DROP

start_daemon() {	# start_daemon NS IFACE HOOK SOCK
	ip netns exec "$1" "$BPFILTER" daemon --iface "$2" --hook "$3" --socket "$4" \
		--state-dir "$tmp/state-$1" >>"$tmp/daemon-$1.log" 2>&1 &
	pids+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $4 ]] && return 0
		sleep 0.1
	done
	echo "# daemon in $1 did not start"; cat "$tmp/daemon-$1.log"
	return 1
}
start_daemon "$A" "$IF_AB" xdp "$tmp/a.sock"

RULES4='*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 2222 -j REJECT --reject-with tcp-reset
-A INPUT -p udp --dport 2223 -j REJECT
COMMIT'
RULES6=${RULES4//REJECT$'\n'/REJECT --reject-with icmp6-port-unreachable$'\n'}

# one FAMILY KIND SRC DST COUNT PROTO: send a burst, count the replies to SRC
one() {
	local fam=$1 kind=$2 src=$3 dst=$4 count=$5 proto=$6 sp i
	: >"$tmp/cap"	# now: a stale "ready" would let the send beat the capture
	ip netns exec "$A" python3 "$here/sniffcount.py" "$IF_AB" 30 >"$tmp/cap" &
	sp=$!
	for ((i = 0; i < 400; i++)); do grep -q '^ready$' "$tmp/cap" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$A" python3 "$here/burst.py" "$fam" "$kind" "$src" "$dst" "$count"
	sleep 1	# the last replies (XDP_TX, the kernel's softirq) are in by then
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	grep -c "^$fam $proto $src\$" "$tmp/cap" || true
}

# scenarios FAMILY: the three counts, one per line
scenarios() {
	local fam=$1 s1 s2 dst
	if [[ $fam == 4 ]]; then s1=10.205.0.1 s2=10.205.0.3 dst=10.205.0.2
	else s1=fd05::1 s2=fd05::3 dst=fd05::2; fi
	local icmp=1
	[[ $fam == 6 ]] && icmp=58
	one "$fam" udp "$s1" "$dst" 20,1.3,10 "$icmp"
	one "$fam" udp "$s2" "$dst" 20 "$icmp"
	one "$fam" tcp-syn "$s1" "$dst" 20 6
}

names=("20 datagrams from a new peer, 10 more 1.3 s later" "20 from a second peer" "20 SYNs to tcp-reset (not limited)")

# ---- phase 1: the kernel ----
printf '%s\n' "$RULES4" | ip netns exec "$B" iptables-legacy-restore
printf '%s\n' "$RULES6" | ip netns exec "$B" ip6tables-legacy-restore
scenarios 4 >"$tmp/k4"
scenarios 6 >"$tmp/k6"
ip netns exec "$B" iptables-legacy -F
ip netns exec "$B" ip6tables-legacy -F
echo "# kernel: IPv4 $(tr '\n' ' ' <"$tmp/k4")/ IPv6 $(tr '\n' ' ' <"$tmp/k6")"

# ---- phase 2: bpfilter ----
start_daemon "$B" "$IF_BA" "$hook" "$tmp/b.sock"
if printf '%s\n' "$RULES4" | ip netns exec "$B" timeout 30 "$BPFILTER" exec --socket "$tmp/b.sock" -- iptables-legacy-restore &&
   printf '%s\n' "$RULES6" | ip netns exec "$B" timeout 30 "$BPFILTER" exec --socket "$tmp/b.sock" -- ip6tables-legacy-restore; then
	ok "REJECT rules of both families load through bpfilter exec ($hook)"
else
	not_ok "REJECT rules load through bpfilter exec ($hook)"; sed 's/^/#   /' "$tmp/daemon-$B.log"
fi
scenarios 4 >"$tmp/b4"
scenarios 6 >"$tmp/b6"
echo "# bpfilter: IPv4 $(tr '\n' ' ' <"$tmp/b4")/ IPv6 $(tr '\n' ' ' <"$tmp/b6")"

for fam in 4 6; do
	for ((i = 1; i <= 3; i++)); do
		k=$(sed -n "${i}p" "$tmp/k$fam")
		b=$(sed -n "${i}p" "$tmp/b$fam")
		if [[ -n $k && $k == "$b" ]]; then
			ok "IPv$fam ${names[i - 1]}: $b replies, as the kernel"
		else
			not_ok "IPv$fam ${names[i - 1]}: bpfilter $b replies, the kernel $k"
		fi
	done
	# the limit must be visible at all (else the comparison proves little)
	k=$(sed -n 1p "$tmp/k$fam")
	if ((k > 0 && k < 30)); then ok "IPv$fam: the kernel limited the bursts ($k of 30)"
	else not_ok "IPv$fam: the kernel answered $k of 30 (no limit seen)"; fi
done
echo "1..$num"
((failed == 0))
