#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# -m mark, -m limit and -m addrtype (iptables and ip6tables) end to end (kselftest TAP): two network
# namespaces joined by veth, `bpfilter daemon --hook tc` on B, unmodified
# iptables-legacy through `bpfilter exec`, real pings from A (INPUT) and
# from B (OUTPUT, marked with ping -m); then a daemon at XDP refuses -m mark
# and keeps the rules in force.
#
#   selftests/matches.sh [-v]
#
# Exit: 0 all pass, 1 a failure, 4 skipped (not root).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
verbose=0
[[ ${1:-} == -v ]] && verbose=1

echo "TAP version 13"
if ((EUID != 0)); then
	echo "1..0 # SKIP needs root (netns, BPF, iptables)"
	exit 4
fi
NS_A=bpfmt-a-$$
NS_B=bpfmt-b-$$
IF_A=bpmta$$
IF_B=bpmtb$$
ADDR_A=10.202.0.1
ADDR_B=10.202.0.2
ADDR6_A=fd00:202::1
ADDR6_B=fd00:202::2
tmp=$(mktemp -d /tmp/bpfilter-matches.XXXXXX)
SOCK=$tmp/bpfilter.sock
daemon_pid=

cleanup() {
	set +e
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsa() { ip netns exec "$NS_A" "$@"; }
nsb() { ip netns exec "$NS_B" "$@"; }
ipt() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- iptables-legacy -w "$@"; }
ip6t() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- ip6tables-legacy -w "$@"; }
ipt_save() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- iptables-legacy-save "$@"; }

num=0
failed=0
ok() { num=$((num + 1)); echo "ok $num - $*"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num - $*"; }
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$desc"
		((verbose)) && sed 's/^/#   /' "$tmp/out" | head -20
	else
		not_ok "$desc"
		sed 's/^/#   /' "$tmp/out" | head -20
	fi
	return 0
}
fails() { ! "$@"; }
limit_counts() {
	ipt -L INPUT -v -n -x | tee /dev/stderr |
		awk 'NR == 3 && $1 == 3 {a = 1} NR == 4 && $1 == 3 {d = 1} END {exit !(a && d)}'
}
# rule6_count N: ip6tables INPUT rule 1 counted exactly N packets (a route
# that makes the address local or unreachable also breaks B's reply, so
# the ping's outcome alone proves nothing: the rule's counter does)
rule6_count() {
	ip6t -L INPUT -v -n -x | tee /dev/stderr | awk -v n="$1" 'NR == 3 {f = ($1 == n)} END {exit !f}'
}
# iptables' answer to -m mark at XDP: "Invalid argument", nothing added
mark_refused() {
	local out
	out=$(ipt -A INPUT -m mark --mark 1 -j ACCEPT 2>&1) && return 1
	echo "$out"
	grep -q "Invalid argument" <<<"$out"
}

# pings FROM_NS DST N ANSWERED [ping options]: exactly N pings, ANSWERED replies
pings() {
	local ns=$1 dst=$2 n=$3 want=$4 out
	shift 4
	out=$(ip netns exec "$ns" ping -c "$n" -i 0.2 -W 1 -q "$@" "$dst" 2>&1)
	echo "$out"
	grep -q "^$n packets transmitted, $want received" <<<"$out"
}

start_daemon() {
	ip netns exec "$NS_B" "$BPFILTER" daemon --iface "$IF_B" --hook "$1" \
		--socket "$SOCK" --state-dir "$tmp/state-$1" >>"$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $SOCK ]] && ipt -L -n >/dev/null 2>&1 && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/daemon.log"
	return 1
}
stop_daemon() {
	kill "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	rm -f "$SOCK"
}

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
nsa ip addr add "$ADDR_A/24" dev "$IF_A"
nsb ip addr add "$ADDR_B/24" dev "$IF_B"
nsa ip -6 addr add "$ADDR6_A/64" dev "$IF_A" nodad
nsb ip -6 addr add "$ADDR6_B/64" dev "$IF_B" nodad
nsa ip link set lo up
nsb ip link set lo up
nsa ip link set "$IF_A" up
nsb ip link set "$IF_B" up

check "daemon --hook tc starts" start_daemon tc

# ---- limit --------------------------------------------------------------------
check "-A INPUT -p icmp -m limit --limit 3/min --limit-burst 3 -j ACCEPT" \
	ipt -A INPUT -p icmp -m limit --limit 3/min --limit-burst 3 -j ACCEPT
check "-A INPUT -p icmp -j DROP" ipt -A INPUT -p icmp -j DROP
check "limit: 6 pings, the burst of 3 answered" pings "$NS_A" "$ADDR_B" 6 3
check "limit: iptables-legacy-save shows the rule as written" \
	grep -q -- "-A INPUT -p icmp -m limit --limit 3/min --limit-burst 3 -j ACCEPT" \
	<(ipt_save)
check "limit: -L -v counts 3 accepted and 3 dropped" limit_counts
check "limit: replacing the table refills the bucket (-I a no-op rule)" \
	ipt -I INPUT -p udp --dport 9 -j ACCEPT
check "limit: 2 pings answered again" pings "$NS_A" "$ADDR_B" 2 2
check "-F" ipt -F

# ---- mark (OUTPUT at tc egress: ping -m sets SO_MARK) ---------------------------
check "-A OUTPUT -p icmp -m mark --mark 0x7/0xff -j DROP" \
	ipt -A OUTPUT -p icmp -m mark --mark 0x7/0xff -j DROP
check "mark: ping -m 263 (0x107) from B is dropped" pings "$NS_B" "$ADDR_A" 2 0 -m 263
check "mark: ping -m 6 from B passes" pings "$NS_B" "$ADDR_A" 1 1 -m 6
check "mark: unmarked ping from B passes" pings "$NS_B" "$ADDR_A" 1 1
check "mark: save shows it" grep -q -- "-m mark --mark 0x7/0xff" <(ipt_save)
check "-F" ipt -F

# ---- addrtype --------------------------------------------------------------------
check "-A INPUT -p icmp -m addrtype --dst-type LOCAL --limit-iface-in -j DROP" \
	ipt -A INPUT -p icmp -m addrtype --dst-type LOCAL --limit-iface-in -j DROP
check "addrtype: ping to B's own address on the iif is dropped" pings "$NS_A" "$ADDR_B" 2 0
check "-R INPUT 1 ... --src-type LOCAL" \
	ipt -R INPUT 1 -p icmp -m addrtype --src-type LOCAL -j DROP
check "addrtype: A's address is not local on B: ping passes" pings "$NS_A" "$ADDR_B" 1 1
check "addrtype: an address added on B after the load makes it local (map refreshed)" \
	nsb ip addr add 10.202.0.1/32 dev lo
check "addrtype: ping from A now dropped" pings "$NS_A" "$ADDR_B" 2 0
nsb ip addr del 10.202.0.1/32 dev lo
check "addrtype: address removed again: ping passes" pings "$NS_A" "$ADDR_B" 1 1
check "-I INPUT -m addrtype --limit-iface-out at INPUT is refused (EINVAL)" \
	fails ipt -I INPUT -m addrtype --dst-type LOCAL --limit-iface-out -j DROP
check "-F" ipt -F

# ---- addrtype in ip6tables: LOCAL / UNREACHABLE from BF_MAP_ADDRTYPE6 ----------------
check "ip6tables -A INPUT -p ipv6-icmp --icmpv6-type echo-request -m addrtype --src-type LOCAL -j DROP" \
	ip6t -A INPUT -p ipv6-icmp --icmpv6-type echo-request -m addrtype --src-type LOCAL -j DROP
check "addrtype6: A's address is not local on B: ping6 passes" pings "$NS_A" "$ADDR6_B" 1 1
check "addrtype6: the rule counted nothing" rule6_count 0
check "addrtype6: a local route on B after the load makes A's address local (map refreshed)" \
	nsb ip -6 route add local "$ADDR6_A/128" dev lo
check "addrtype6: ping6 from A now dropped" pings "$NS_A" "$ADDR6_B" 2 0
check "addrtype6: by the rule (2 counted)" rule6_count 2
nsb ip -6 route del local "$ADDR6_A/128" dev lo
check "addrtype6: route removed again: ping6 passes" pings "$NS_A" "$ADDR6_B" 1 1
check "addrtype6: the rule counted no more" rule6_count 2
check "ip6tables -R INPUT 1 ... --src-type UNREACHABLE" \
	ip6t -R INPUT 1 -p ipv6-icmp --icmpv6-type echo-request -m addrtype --src-type UNREACHABLE -j DROP
check "addrtype6: A's address has a route on B: ping6 passes" pings "$NS_A" "$ADDR6_B" 1 1
check "addrtype6: the rule counted nothing" rule6_count 0
check "addrtype6: a prohibit route for A's address on B (map refreshed)" \
	nsb ip -6 route add prohibit "$ADDR6_A/128"
check "addrtype6: ping6 from A now dropped" pings "$NS_A" "$ADDR6_B" 2 0
check "addrtype6: by the rule (2 counted)" rule6_count 2
nsb ip -6 route del prohibit "$ADDR6_A/128"
check "ip6tables --src-type LOCAL --limit-iface-in is refused (not modelled)" \
	fails ip6t -I INPUT -m addrtype --src-type LOCAL --limit-iface-in -j DROP
check "ip6tables -F" ip6t -F
stop_daemon

# ---- mark at XDP: refused, the rules in force stay -----------------------------------
check "daemon --hook xdp starts" start_daemon xdp
check "-A INPUT -p icmp -j DROP at xdp" ipt -A INPUT -p icmp -j DROP
check "-A INPUT -m mark --mark 1 is refused at XDP: Invalid argument" mark_refused
check "the daemon's log names the rule and the reason" \
	grep -q "chain INPUT rule 2: match 'mark' needs the skb mark, which XDP programs do not have" \
	"$tmp/daemon.log"
check "the rules in force stay: ping dropped" pings "$NS_A" "$ADDR_B" 2 0
check "only one rule in INPUT" bash -c "[[ \$(grep -c '^-A INPUT' <(ip netns exec $NS_B $BPFILTER exec --socket $SOCK -- iptables-legacy-save)) == 1 ]]"
stop_daemon

echo "1..$num"
((failed == 0))
