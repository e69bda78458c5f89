# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The IPv6 A - B - C topology of the tests/targets IPv6 scripts (sourced):
# fixed MACs, no DAD, static neighbours, B forwards.
#   A fd02::1 (IF_AB) -- (IF_BA) fd02::2  B  fd03::2 (IF_BC) -- (IF_CB) fd03::1 C
# A and C route each other's /64 through B. C answers nothing (its ICMPv6
# errors would differ per run).
net6_setup() {	# net6_setup A B C IF_AB IF_BA IF_BC IF_CB
	local A=$1 B=$2 C=$3 IF_AB=$4 IF_BA=$5 IF_BC=$6 IF_CB=$7 ns
	ip netns add "$A"; ip netns add "$B"; ip netns add "$C"
	for ns in "$A" "$B" "$C"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_AB" address 02:00:00:00:0a:01 netns "$A" type veth peer name "$IF_BA" address 02:00:00:00:0b:01 netns "$B"
	ip link add "$IF_BC" address 02:00:00:00:0b:02 netns "$B" type veth peer name "$IF_CB" address 02:00:00:00:0c:01 netns "$C"
	ip -n "$A" addr add fd02::1/64 dev "$IF_AB" nodad; ip -n "$A" link set "$IF_AB" up
	ip -n "$B" addr add fd02::2/64 dev "$IF_BA" nodad; ip -n "$B" link set "$IF_BA" up
	ip -n "$B" addr add fd03::2/64 dev "$IF_BC" nodad; ip -n "$B" link set "$IF_BC" up
	ip -n "$C" addr add fd03::1/64 dev "$IF_CB" nodad; ip -n "$C" link set "$IF_CB" up
	ip -n "$A" -6 route add fd03::/64 via fd02::2
	ip -n "$C" -6 route add fd02::/64 via fd03::2
	ip netns exec "$B" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns exec "$C" ip6tables-legacy -A OUTPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 128 -j DROP
	ip -n "$A" -6 neigh add fd02::2 lladdr 02:00:00:00:0b:01 dev "$IF_AB"
	ip -n "$B" -6 neigh add fd02::1 lladdr 02:00:00:00:0a:01 dev "$IF_BA"
	ip -n "$B" -6 neigh add fd03::1 lladdr 02:00:00:00:0c:01 dev "$IF_BC"
	ip -n "$C" -6 neigh add fd03::2 lladdr 02:00:00:00:0b:02 dev "$IF_CB"
}
