#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bpfilter.ko selftest, run as PID 1 inside the qemu guest (Debian's
# kernel, the host's / read-only over 9p). run.sh boots it; the kernel
# command line passes:
#   BFT_KO     the module to test
#   BFT_PROBE  the sockopt-probe binary
#   BFT_HOOK   xdp or tc
#   BFT_IPV6   1 (default): run the ip6tables-legacy steps; 0 prints them
#              as one "# SKIP" line (the switch for a helper without IPv6)
# Prints TAP on the console, then "BFT-DONE tests=N failures=M", and
# powers the guest off.
#
# BFT_SOURCE_ONLY=1 only defines the functions and the names (with
# BFT_SUFFIX appended to every netns name): host-oracle.sh runs some steps
# against the host kernel's own ip_tables/ip6_tables with it.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

SFX=${BFT_SUFFIX:-}
NS=bft1$SFX
HOST_IP=10.199.0.1
PEER_IP=10.199.0.2
HOST_IP6=fd00:199::1
PEER_IP6=fd00:199::2
# A second namespace with its own table: NS2 has a device named veth0 too
# (ifaces=veth0 names it there), its peer is NS3.
NS2=bft2$SFX
NS3=bft3$SFX
NS2_IP=10.199.1.1
NS3_IP=10.199.1.2
# A device named in ifaces that appears only after the rules are set
# (link events): NEWDEV here, its peer in NSN.
NEWDEV=vnew0
NSN=bftn$SFX
NEW_IP=10.199.2.1
NEWPEER_IP=10.199.2.2
NEW_IP6=fd00:199:2::1
NEWPEER_IP6=fd00:199:2::2
IFACES=veth0,$NEWDEV
STATE=/run/bpfilter-kmod
PARAMS=/sys/module/bpfilter/parameters
IPT="iptables-legacy"
IP6T="ip6tables-legacy"
BFT_IPV6=${BFT_IPV6:-1}
TMPD=${BFT_TMP:-/tmp}
T=0
FAILS=0

guest_mounts() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs dev /dev
	mount -t tmpfs run /run
	# A checkout under /tmp (CI clones may live there) stays reachable
	# under /run/host-tmp once /tmp becomes the guest's own tmpfs.
	mkdir -p /run/host-tmp
	mount --bind /tmp /run/host-tmp
	mount -t tmpfs tmp /tmp
	mkdir -p /run/netns
	BFT_KO=$(host_path "$BFT_KO")
	BFT_PROBE=$(host_path "$BFT_PROBE")
	BFT_HERE=$(host_path "$(dirname "${BASH_SOURCE[0]}")")
}

host_path() {
	case "$1" in
	/tmp/*) echo "/run/host-tmp/${1#/tmp/}" ;;
	*) echo "$1" ;;
	esac
}

ok() {
	T=$((T + 1))
	echo "ok $T - $*"
}

not_ok() {
	T=$((T + 1))
	FAILS=$((FAILS + 1))
	echo "not ok $T - $*"
}

# check DESC CMD...: ok when CMD succeeds; its output goes to the log on failure.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 30
	fi
}

# check_fails DESC CMD...: ok when CMD fails.
check_fails() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		not_ok "$desc"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 30
	else
		ok "$desc"
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

helper_pid() {
	cat "$PARAMS/helper_pid" 2>/dev/null || echo 0
}

# Waits (at most 10 s) for a running helper whose pid is not $1.
wait_new_helper() {
	local old=$1 i pid
	for i in $(seq 1 50); do
		pid=$(helper_pid)
		if [ "$pid" != 0 ] && [ "$pid" != "$old" ] && [ -d "/proc/$pid" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# ICMP from the peer namespace to us: 0 when it gets through.
ping_peer() {
	ip netns exec $NS busybox ping -c 1 -W 2 $HOST_IP > /dev/null 2>&1
}

# ICMPv6 echo from the peer namespace to us.
ping6_peer() {
	ip netns exec $NS busybox ping6 -c 1 -W 2 $HOST_IP6 > /dev/null 2>&1
}

# ICMP from NSN to us over NEWDEV.
ping_new() {
	ip netns exec $NSN busybox ping -c 1 -W 2 $NEW_IP > /dev/null 2>&1
}

ping6_new() {
	ip netns exec $NSN busybox ping6 -c 1 -W 2 $NEW_IP6 > /dev/null 2>&1
}

# ICMP from NS3 to NS2.
ping_ns2() {
	ip netns exec $NS3 busybox ping -c 1 -W 2 $NS2_IP > /dev/null 2>&1
}

# TCP SYN to a closed port: "refused" (RST came back), "dropped" (timed out).
# tcp_probe PORT [FROM-NS DST]: from the peer namespace to us by default.
tcp_probe() {
	local r
	ip netns exec "${2:-$NS}" timeout 3 bash -c "exec 3<>/dev/tcp/${3:-$HOST_IP}/$1" > /dev/null 2>&1
	r=$?
	case $r in
	124) echo dropped ;;
	0) echo open ;;
	*) echo refused ;;
	esac
}

expect_eq() {
	local desc=$1 got=$2 want=$3
	if [ "$got" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "got:  $got" "want: $want"
	fi
}

rules() {
	$IPT -S 2>&1
}

rules6() {
	$IP6T -S 2>&1
}

# count_of IPT CHAIN SOURCE: the packet counter (-L -v -x) of the first
# DROP rule of CHAIN whose line names SOURCE.
count_of() {
	$1 -L "$2" -v -n -x 2>&1 |
		awk -v src="$3" '$3 == "DROP" && index($0, src) { print $1; exit }'
}

# expect_counted DESC IPT CHAIN SOURCE [MIN]: that DROP rule counted at
# least MIN (default 1) packets.
expect_counted() {
	local n min=${5:-1}
	n=$(count_of "$2" "$3" "$4")
	if [ -n "$n" ] && [ "$n" -ge "$min" ]; then
		ok "$1 ($n)"
	else
		not_ok "$1 (want at least $min)"
		diag "$($2 -L "$3" -v -n -x 2>&1)"
	fi
}

# expect_same_rules6 DESC BEFORE: ip6tables -S lists BEFORE again, and
# BEFORE had rules (two identical error messages are no success).
expect_same_rules6() {
	local out
	out=$(rules6)
	if [ "$out" = "$2" ] && grep -q -- '^-A INPUT' <<< "$out"; then
		ok "$1"
	else
		not_ok "$1"
		diag "got:" "$out" "want:" "$2"
	fi
}

rules2() {
	ip netns exec $NS2 $IPT -S 2>&1
}

setup_net() {
	modprobe veth
	ip netns add $NS
	ip link add veth0 type veth peer name veth1 netns $NS
	ip addr add $HOST_IP/24 dev veth0
	ip link set veth0 up
	ip -n $NS addr add $PEER_IP/24 dev veth1
	ip -n $NS link set veth1 up
	ip -n $NS link set lo up
}

test_load() {
	check "network namespace and veth pair" setup_net
	check "traffic flows before the module" ping_peer
	check "insmod bpfilter.ko ifaces=$IFACES hook=$BFT_HOOK" \
		insmod "$BFT_KO" ifaces=$IFACES hook="$BFT_HOOK" \
		state_dir=$STATE timeout_ms=20000
	local pid
	sleep 1
	pid=$(helper_pid)
	if [ "$pid" != 0 ] && [ -d "/proc/$pid" ]; then
		ok "helper running (pid $pid, comm $(cat /proc/$pid/comm))"
	else
		not_ok "helper running (helper_pid=$pid)"
		diag "$(dmesg | tail -n 30)"
	fi
	expect_eq "/proc/net/ip_tables_names" "$(cat /proc/net/ip_tables_names)" filter
	expect_eq "/proc/net/ip6_tables_names" "$(cat /proc/net/ip6_tables_names)" filter
	expect_eq "ip_tables_names in another netns" \
		"$(ip netns exec $NS cat /proc/net/ip_tables_names)" filter
}

test_iptables() {
	local out n
	check "iptables -L (empty filter table)" $IPT -L -n
	out=$($IPT -L -n 2>&1)
	case $out in
	*"Chain INPUT (policy ACCEPT)"*) ok "built-in chains listed" ;;
	*) not_ok "built-in chains listed"; diag "$out" ;;
	esac

	check "iptables -A INPUT -s peer -p icmp -j DROP" \
		$IPT -A INPUT -s $PEER_IP -p icmp -j DROP
	check_fails "ICMP from the peer is dropped by the BPF program" ping_peer
	n=$($IPT -L INPUT -v -n -x | awk '$3 == "DROP" { print $1; exit }')
	if [ -n "$n" ] && [ "$n" -ge 1 ]; then
		ok "iptables -L -v counts the dropped packets ($n)"
	else
		not_ok "iptables -L -v counts the dropped packets"
		diag "$($IPT -L INPUT -v -n -x 2>&1)"
	fi

	check "iptables -I INPUT 1 ... -j ACCEPT" \
		$IPT -I INPUT 1 -s $PEER_IP -p icmp -j ACCEPT
	check "inserted ACCEPT wins over the DROP after it" ping_peer
	check "iptables -D INPUT 1" $IPT -D INPUT 1
	check_fails "DROP in force again after the delete" ping_peer
	check "iptables -D INPUT by rule spec" \
		$IPT -D INPUT -s $PEER_IP -p icmp -j DROP
	check "traffic flows after deleting the rule" ping_peer

	check "iptables -N BFT" $IPT -N BFT
	check "iptables -A BFT -p tcp --dport 8080 -j DROP" \
		$IPT -A BFT -p tcp --dport 8080 -j DROP
	check "iptables -A INPUT -s peer -j BFT" $IPT -A INPUT -s $PEER_IP -j BFT
	expect_eq "TCP to port 8080 dropped through the user chain" \
		"$(tcp_probe 8080)" dropped
	expect_eq "TCP to port 8081 not matched (RST comes back)" \
		"$(tcp_probe 8081)" refused

	out=$(iptables-legacy-save 2>&1)
	case $out in
	*":BFT - ["*"-A INPUT -s $PEER_IP/32 -j BFT"*"-A BFT -p tcp -m tcp --dport 8080 -j DROP"*)
		ok "iptables-save shows the user chain and its rules" ;;
	*) not_ok "iptables-save shows the user chain and its rules"; diag "$out" ;;
	esac
	iptables-legacy-save > $TMPD/saved 2>&1

	check "iptables -F" $IPT -F
	check "iptables -X" $IPT -X
	expect_eq "table empty after flush" "$(rules)" \
		"$(printf -- '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT')"
	expect_eq "TCP to 8080 flows after flush" "$(tcp_probe 8080)" refused

	check "iptables-restore of the saved table" iptables-legacy-restore $TMPD/saved
	out=$(rules)
	case $out in
	*"-N BFT"*"-A INPUT -s $PEER_IP/32 -j BFT"*"-A BFT -p tcp -m tcp --dport 8080 -j DROP"*)
		ok "restored rules listed" ;;
	*) not_ok "restored rules listed"; diag "$out" ;;
	esac
	expect_eq "TCP to 8080 dropped again after restore" "$(tcp_probe 8080)" dropped
	check "ICMP rule for the restart tests" \
		$IPT -A INPUT -s $PEER_IP -p icmp -j DROP
	check_fails "ICMP dropped" ping_peer
}

# Matches and targets the helper translates, all at once: the programs
# must pass this kernel's verifier, not only the build machine's.
test_broad() {
	local saved n
	saved=$(iptables-legacy-save)
	check "a broad rule set loads (tcp flags/options, udp, icmp, comment, ifaces, user chain, FORWARD, OUTPUT)" \
		iptables-legacy-restore "$BFT_HERE/broad.rules"
	n=$($IPT -S | grep -c '^-A')
	expect_eq "... all its rules listed" "$n" \
		"$(grep -c '^-A' "$BFT_HERE/broad.rules")"
	check "previous table restored" iptables-legacy-restore <<< "$saved"
}

setup_net6() {
	ip addr add $HOST_IP6/64 dev veth0 nodad &&
		ip -n $NS addr add $PEER_IP6/64 dev veth1 nodad
}

# Unmodified ip6tables-legacy through the module: the same steps as
# test_iptables, with real IPv6 traffic from NS over veth0.
test_ip6tables() {
	local out v4 empty
	v4=$(rules)
	empty=$(printf -- '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT')
	check "IPv6 addresses on the veth pair" setup_net6
	check "IPv6: ICMPv6 echo flows before any rule" ping6_peer
	out=$($IP6T -L -n 2>&1)
	case $out in
	*"Chain INPUT (policy ACCEPT)"*"Chain FORWARD (policy ACCEPT)"*"Chain OUTPUT (policy ACCEPT)"*)
		ok "ip6tables -L lists the empty filter table" ;;
	*) not_ok "ip6tables -L lists the empty filter table"; diag "$out" ;;
	esac
	expect_eq "ip6tables -S: policies only" "$(rules6)" "$empty"

	check "ip6tables -A INPUT -s peer -p ipv6-icmp --icmpv6-type echo-request -j DROP" \
		$IP6T -A INPUT -s $PEER_IP6 -p ipv6-icmp --icmpv6-type echo-request -j DROP
	check_fails "IPv6: echo from the peer is dropped by the BPF program" ping6_peer
	expect_counted "ip6tables -L -v -x counts the dropped packets" \
		"$IP6T" INPUT $PEER_IP6
	expect_eq "IPv6 rules leave the IPv4 table alone" "$(rules)" "$v4"
	check_fails "IPv4: ICMP from the peer still dropped" ping_peer
	expect_eq "IPv6: TCP to 8080 flows (its DROP is an IPv4 rule)" \
		"$(tcp_probe 8080 $NS $HOST_IP6)" refused

	check "ip6tables -I INPUT 1 ... -j ACCEPT" \
		$IP6T -I INPUT 1 -s $PEER_IP6 -p ipv6-icmp -j ACCEPT
	check "IPv6: inserted ACCEPT wins over the DROP after it" ping6_peer
	check "ip6tables -D INPUT 1" $IP6T -D INPUT 1
	check_fails "IPv6: DROP in force again after the delete" ping6_peer
	check "ip6tables -D INPUT by rule spec" \
		$IP6T -D INPUT -s $PEER_IP6 -p ipv6-icmp --icmpv6-type echo-request -j DROP
	check "IPv6: echo flows after deleting the rule" ping6_peer

	check "ip6tables -N BFT6" $IP6T -N BFT6
	check "ip6tables -A BFT6 -p tcp --dport 8080 -j DROP" \
		$IP6T -A BFT6 -p tcp --dport 8080 -j DROP
	check "ip6tables -A INPUT -s peer -j BFT6" $IP6T -A INPUT -s $PEER_IP6 -j BFT6
	expect_eq "IPv6: TCP to port 8080 dropped through the user chain" \
		"$(tcp_probe 8080 $NS $HOST_IP6)" dropped
	expect_eq "IPv6: TCP to port 8081 not matched (RST comes back)" \
		"$(tcp_probe 8081 $NS $HOST_IP6)" refused

	out=$(ip6tables-legacy-save 2>&1)
	case $out in
	*"*filter"*":BFT6 - ["*"-A INPUT -s $PEER_IP6/128 -j BFT6"*"-A BFT6 -p tcp -m tcp --dport 8080 -j DROP"*COMMIT*)
		ok "ip6tables-save shows the user chain and its rules" ;;
	*) not_ok "ip6tables-save shows the user chain and its rules"; diag "$out" ;;
	esac
	ip6tables-legacy-save > $TMPD/saved6 2>&1

	check "ip6tables -F" $IP6T -F
	check "ip6tables -X" $IP6T -X
	expect_eq "IPv6 table empty after flush" "$(rules6)" "$empty"
	expect_eq "IPv6: TCP to 8080 flows after flush" \
		"$(tcp_probe 8080 $NS $HOST_IP6)" refused
	expect_eq "IPv4 table untouched by the IPv6 flush" "$(rules)" "$v4"

	check "ip6tables-restore of the saved table" ip6tables-legacy-restore $TMPD/saved6
	out=$(rules6)
	case $out in
	*"-N BFT6"*"-A INPUT -s $PEER_IP6/128 -j BFT6"*"-A BFT6 -p tcp -m tcp --dport 8080 -j DROP"*)
		ok "restored IPv6 rules listed" ;;
	*) not_ok "restored IPv6 rules listed"; diag "$out" ;;
	esac
	expect_eq "IPv6: TCP to 8080 dropped again after restore" \
		"$(tcp_probe 8080 $NS $HOST_IP6)" dropped
	check "IPv6 echo rule for the restart tests" \
		$IP6T -A INPUT -s $PEER_IP6 -p ipv6-icmp --icmpv6-type echo-request -j DROP
	check_fails "IPv6: echo dropped" ping6_peer
}

# NEWDEV (here) and vnew1 (in NSN), with their addresses; NSN must exist.
new_pair() {
	ip link add $NEWDEV type veth peer name vnew1 netns $NSN &&
		ip addr add $NEW_IP/24 dev $NEWDEV &&
		ip addr add $NEW_IP6/64 dev $NEWDEV nodad &&
		ip link set $NEWDEV up &&
		ip -n $NSN addr add $NEWPEER_IP/24 dev vnew1 &&
		ip -n $NSN addr add $NEWPEER_IP6/64 dev vnew1 nodad &&
		ip -n $NSN link set vnew1 up
}

setup_new() {
	ip netns add $NSN && ip -n $NSN link set lo up && new_pair
}

# wait_log PATTERN COUNT: at most 5 s for COUNT kernel log lines matching.
wait_log() {
	local i
	for i in $(seq 1 25); do
		[ "$(dmesg | grep -c "$1")" -ge "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

# A device named in ifaces that appears after the rules are in place gets
# the programs from the helper's link-event monitor, with no iptables call
# between its creation and the traffic.
test_link_events() {
	local msg="device $NEWDEV: present, attaching" seen
	seen=$(dmesg | grep -c "$msg")
	check "iptables -A INPUT -s $NEWPEER_IP -p icmp -j DROP (no $NEWDEV yet)" \
		$IPT -A INPUT -s $NEWPEER_IP -p icmp -j DROP
	v6_on && check "ip6tables -A INPUT -s $NEWPEER_IP6 ... echo-request -j DROP (no $NEWDEV yet)" \
		$IP6T -A INPUT -s $NEWPEER_IP6 -p ipv6-icmp --icmpv6-type echo-request -j DROP
	check "new netns $NSN and veth pair $NEWDEV/vnew1, after the rules" setup_new
	if wait_log "$msg" $((seen + 1)); then
		ok "the helper saw $NEWDEV appear and attached the programs"
	else
		not_ok "the helper saw $NEWDEV appear and attached the programs"
		diag "$(dmesg | grep bpfilter-umh | tail -n 5)"
	fi
	expect_eq "$NEWDEV: TCP from $NSN gets through (RST comes back)" \
		"$(tcp_probe 8081 $NSN $NEW_IP)" refused
	check_fails "$NEWDEV: ICMP from $NSN dropped, no iptables call since" ping_new
	expect_counted "iptables -L -v counts the drops on $NEWDEV" \
		"$IPT" INPUT $NEWPEER_IP
	if v6_on; then
		expect_eq "$NEWDEV: IPv6 TCP from $NSN gets through" \
			"$(tcp_probe 8081 $NSN $NEW_IP6)" refused
		check_fails "$NEWDEV: IPv6 echo from $NSN dropped" ping6_new
		expect_counted "ip6tables -L -v counts the drops on $NEWDEV" \
			"$IP6T" INPUT $NEWPEER_IP6
	fi
	# gone and back with another ifindex: DELLINK, then NEWLINK
	check "$NEWDEV deleted" ip link del $NEWDEV
	check "$NEWDEV created again" new_pair
	if wait_log "$msg" $((seen + 2)); then
		ok "the helper attached again on the new $NEWDEV"
	else
		not_ok "the helper attached again on the new $NEWDEV"
		diag "$(dmesg | grep bpfilter-umh | tail -n 5)"
	fi
	expect_eq "new $NEWDEV: TCP from $NSN gets through" \
		"$(tcp_probe 8081 $NSN $NEW_IP)" refused
	check_fails "new $NEWDEV: ICMP from $NSN dropped" ping_new
	v6_on && check_fails "new $NEWDEV: IPv6 echo from $NSN dropped" ping6_new
}

test_bad_input() {
	local p=$BFT_PROBE
	check "optlen 0 (SET_REPLACE) -> EINVAL" $p len0-set EINVAL
	check "optlen 0 (GET_INFO) -> EINVAL" $p len0-get EINVAL
	check "optlen 0x7fffffff (SET_REPLACE) -> ENOMEM" $p huge-set ENOMEM
	check "optlen 64 MiB, 1 KiB buffer -> EFAULT" $p big-set EFAULT
	check "optlen 0x7fffffff (GET_ENTRIES) -> EINVAL" $p huge-get EINVAL
	check "bad pointer (SET_REPLACE) -> EFAULT" $p badptr-set EFAULT
	check "bad pointer (GET_INFO) -> EFAULT" $p badptr-get EFAULT
	check "no CAP_NET_ADMIN (GET_INFO) -> EPERM" $p noperm-get EPERM
	check "no CAP_NET_ADMIN (SET_REPLACE) -> EPERM" $p noperm-set EPERM
	check "iptables -L as nobody fails" \
		bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups $IPT -L -n"
	if v6_on; then
		check "IPv6: GET_INFO answers" $p -6 getinfo OK
		check "IPv6: optlen 0 (SET_REPLACE) -> EINVAL" $p -6 len0-set EINVAL
		check "IPv6: optlen 0 (GET_INFO) -> EINVAL" $p -6 len0-get EINVAL
		check "IPv6: optlen 0x7fffffff (SET_REPLACE) -> ENOMEM" $p -6 huge-set ENOMEM
		check "IPv6: optlen 0x7fffffff (GET_ENTRIES) -> EINVAL" $p -6 huge-get EINVAL
		check "IPv6: bad pointer (SET_REPLACE) -> EFAULT" $p -6 badptr-set EFAULT
		check "IPv6: bad pointer (GET_INFO) -> EFAULT" $p -6 badptr-get EFAULT
		check "IPv6: no CAP_NET_ADMIN (SET_REPLACE) -> EPERM" $p -6 noperm-set EPERM
		check "ip6tables -L as nobody fails" \
			bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups $IP6T -L -n"
	fi
	local before
	before=$(rules)
	check "two concurrent replacers: one gets EAGAIN" $p race EAGAIN
	check "remove the race's rule" $IPT -D INPUT -s 192.0.2.1 -j ACCEPT
	expect_eq "rules intact after the race" "$(rules)" "$before"
	# other_netns=0 keeps bpfilter to the initial netns
	echo 0 > $PARAMS/other_netns
	check "other_netns=0: GET_INFO from another netns -> EOPNOTSUPP" \
		ip netns exec $NS $p getinfo EOPNOTSUPP
	check_fails "other_netns=0: iptables -A from another netns refused" \
		ip netns exec $NS $IPT -A INPUT -j DROP
	echo 1 > $PARAMS/other_netns
	expect_eq "host rules untouched by another netns" "$(rules)" "$before"
}

setup_net2() {
	ip netns add $NS2 && ip netns add $NS3 &&
		ip -n $NS2 link add veth0 type veth peer name veth1 netns $NS3 &&
		ip -n $NS2 addr add $NS2_IP/24 dev veth0 &&
		ip -n $NS2 link set veth0 up && ip -n $NS2 link set lo up &&
		ip -n $NS3 addr add $NS3_IP/24 dev veth1 &&
		ip -n $NS3 link set veth1 up && ip -n $NS3 link set lo up
}

# Every network namespace has its own table, enforced on its own veth0.
test_netns() {
	local before empty out n
	before=$(rules)
	empty=$(printf -- '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT')
	check "second netns pair ($NS2 with its own veth0, $NS3)" setup_net2
	check "$NS3 -> $NS2 traffic flows before any rule there" ping_ns2
	expect_eq "$NS2 starts with an empty table (not the host's)" "$(rules2)" "$empty"
	v6_on && expect_eq "$NS2 starts with an empty IPv6 table (not the host's)" \
		"$(ip netns exec $NS2 $IP6T -S 2>&1)" "$empty"
	check "ip netns exec $NS2 iptables -A INPUT ... --dport 8081 -j DROP" \
		ip netns exec $NS2 $IPT -A INPUT -s $NS3_IP -p tcp --dport 8081 -j DROP
	check "ip netns exec $NS2 iptables -A INPUT -p udp --dport 53 -j ACCEPT" \
		ip netns exec $NS2 $IPT -A INPUT -p udp --dport 53 -j ACCEPT
	expect_eq "$NS2 lists only its own rules" "$(rules2)" \
		"$(printf -- '%s\n' "$empty" "-A INPUT -s $NS3_IP/32 -p tcp -m tcp --dport 8081 -j DROP" "-A INPUT -p udp -m udp --dport 53 -j ACCEPT")"
	expect_eq "the host's table is unaffected" "$(rules)" "$before"
	expect_eq "$NS2: TCP to 8081 dropped by its own rule" \
		"$(tcp_probe 8081 $NS3 $NS2_IP)" dropped
	expect_eq "$NS2: TCP to 8080 flows (the host's rule is not there)" \
		"$(tcp_probe 8080 $NS3 $NS2_IP)" refused
	check "$NS2: ICMP flows (the host's ICMP DROP is not there)" ping_ns2
	expect_eq "host: TCP to 8081 flows ($NS2's rule is not here)" \
		"$(tcp_probe 8081)" refused
	expect_eq "host: TCP to 8080 still dropped" "$(tcp_probe 8080)" dropped
	check_fails "host: ICMP still dropped" ping_peer
	n=$(ip netns exec $NS2 $IPT -L INPUT -v -n -x | awk '$3 == "DROP" { print $1; exit }')
	if [ -n "$n" ] && [ "$n" -ge 1 ]; then
		ok "$NS2: iptables -L -v counts its dropped packets ($n)"
	else
		not_ok "$NS2: iptables -L -v counts its dropped packets"
		diag "$(ip netns exec $NS2 $IPT -L INPUT -v -n -x 2>&1)"
	fi

	# a netns without any of the ifaces: full sockopt semantics, attached nowhere
	expect_eq "$NS (no veth0 there) has its own empty table" \
		"$(ip netns exec $NS $IPT -S 2>&1)" "$empty"
	check "$NS: iptables -A" ip netns exec $NS $IPT -A INPUT -p tcp --dport 9 -j DROP
	expect_eq "$NS: rule listed" "$(ip netns exec $NS $IPT -S INPUT 2>&1)" \
		"$(printf -- '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 9 -j DROP')"
	check "$NS: iptables -F" ip netns exec $NS $IPT -F
	if dmesg | grep -q 'not attached anywhere'; then
		ok "the helper logs that $NS's rules are attached nowhere"
	else
		not_ok "the helper logs that $NS's rules are attached nowhere"
	fi
	expect_eq "$NS2 still lists its own rules" "$(rules2 | grep -c '^-A')" 2
	expect_eq "the host's table is still unaffected" "$(rules)" "$before"
	n=$(ls $STATE/ipv4-filter-*.state 2> /dev/null | wc -l)
	if [ "$n" -ge 3 ]; then
		ok "one state file per netns ($n)"
	else
		not_ok "one state file per netns ($n)"
		diag "$(ls -l $STATE)"
	fi

	# the table of a netns that died is dropped when a new one appears
	ip netns add bft4 && ip netns exec bft4 $IPT -S > /dev/null 2>&1
	ip netns del bft4
	ip netns add bft5 && ip netns exec bft5 $IPT -S > /dev/null 2>&1
	ip netns del bft5
	if dmesg | grep -q 'is gone: dropping its table'; then
		ok "a dead netns's table is dropped when a new netns appears"
	else
		not_ok "a dead netns's table is dropped when a new netns appears"
	fi
	expect_eq "$NS2's table survives that" "$(rules2 | grep -c '^-A')" 2
}

test_helper_restart() {
	local before before2 before6 old new c4 c6
	before=$(rules)
	before2=$(rules2)
	before6=$(rules6)
	c4=$(count_of "$IPT" INPUT $PEER_IP)
	c6=$(count_of "$IP6T" INPUT $PEER_IP6)
	old=$(helper_pid)
	kill -9 "$old"
	if new=$(wait_new_helper "$old"); then
		ok "helper killed with SIGKILL comes back (pid $old -> $new)"
	else
		not_ok "helper killed with SIGKILL comes back"
	fi
	# before any request from NS2: its programs stay attached meanwhile
	expect_eq "$NS2 still filtered before its table is back" \
		"$(tcp_probe 8081 $NS3 $NS2_IP)" dropped
	expect_eq "same rules after the restart" "$(rules)" "$before"
	check_fails "traffic still filtered after the restart" ping_peer
	expect_counted "counters survive the restart (ICMP DROP had ${c4:-none})" \
		"$IPT" INPUT $PEER_IP $((${c4:-0} + 1))
	expect_eq "TCP to 8080 still dropped" "$(tcp_probe 8080)" dropped
	expect_eq "$NS2: same rules after the restart" "$(rules2)" "$before2"
	expect_eq "$NS2: TCP to 8081 still dropped" \
		"$(tcp_probe 8081 $NS3 $NS2_IP)" dropped
	expect_eq "$NS2: TCP to 8080 still flows" \
		"$(tcp_probe 8080 $NS3 $NS2_IP)" refused
	check "$NS2: iptables -D after the restart" \
		ip netns exec $NS2 $IPT -D INPUT -p udp --dport 53 -j ACCEPT
	expect_eq "the host's table unaffected by that" "$(rules)" "$before"
	check_fails "$NEWDEV (appeared after the load) still filtered" ping_new
	v6_on || return 0
	expect_same_rules6 "IPv6: same rules after the restart" "$before6"
	check_fails "IPv6: echo still dropped after the restart" ping6_peer
	expect_eq "IPv6: TCP to 8080 still dropped" \
		"$(tcp_probe 8080 $NS $HOST_IP6)" dropped
	expect_counted "IPv6: counters survive the restart (echo DROP had ${c6:-none})" \
		"$IP6T" INPUT $PEER_IP6 $((${c6:-0} + 1))
}

test_helper_failures() {
	local before old new pid t0 t1
	before=$(rules)

	# killed in the middle of a request: the caller gets EPIPE at once
	old=$(helper_pid)
	kill -STOP "$old"
	$BFT_PROBE getinfo EPIPE > $TMPD/probe.out 2>&1 &
	pid=$!
	sleep 1
	kill -9 "$old"
	if wait $pid; then
		ok "helper killed mid-request: the caller gets EPIPE"
	else
		not_ok "helper killed mid-request: the caller gets EPIPE"
		diag "$(cat $TMPD/probe.out)"
	fi
	new=$(wait_new_helper "$old") || new=0
	expect_eq "same rules after a mid-request kill (helper $new)" "$(rules)" "$before"

	# the caller is killed mid-request: the late reply is drained by seq
	old=$(helper_pid)
	kill -STOP "$old"
	$BFT_PROBE getinfo OK > /dev/null 2>&1 &
	pid=$!
	sleep 1
	kill -9 $pid
	wait $pid 2> /dev/null
	kill -CONT "$old"
	expect_eq "caller killed mid-request: next request in sync" "$(rules)" "$before"
	expect_eq "... without restarting the helper" "$(helper_pid)" "$old"
	check "... and GET_INFO answers" $BFT_PROBE getinfo OK

	# a stuck helper: ETIMEDOUT within timeout_ms, then a fresh helper
	echo 3000 > $PARAMS/timeout_ms
	old=$(helper_pid)
	kill -STOP "$old"
	t0=$(date +%s)
	check "stuck helper: ETIMEDOUT" $BFT_PROBE getinfo ETIMEDOUT
	t1=$(date +%s)
	if [ $((t1 - t0)) -le 8 ]; then
		ok "... within a bounded time ($((t1 - t0)) s for timeout_ms=3000)"
	else
		not_ok "... within a bounded time ($((t1 - t0)) s for timeout_ms=3000)"
	fi
	echo 20000 > $PARAMS/timeout_ms
	new=$(wait_new_helper "$old") || new=0
	[ "$new" != 0 ] && ok "stuck helper replaced (pid $old -> $new)" ||
		not_ok "stuck helper replaced"
	expect_eq "same rules after replacing a stuck helper" "$(rules)" "$before"
}

test_unload() {
	local before before6 out
	before=$(rules)
	before6=$(rules6)
	check "rmmod bpfilter" rmmod bpfilter
	sleep 0.5
	check_fails "no helper left after rmmod" pgrep -x bpfilter-umh
	check_fails "/proc/net/ip_tables_names gone" test -e /proc/net/ip_tables_names
	check_fails "iptables has no table after rmmod" \
		$IPT --modprobe=/bin/false -L -n
	# documented: the programs stay attached and keep filtering
	check_fails "rules stay in force after rmmod (ICMP still dropped)" ping_peer
	if v6_on; then
		check_fails "/proc/net/ip6_tables_names gone" test -e /proc/net/ip6_tables_names
		check_fails "ip6tables has no table after rmmod" \
			$IP6T --modprobe=/bin/false -L -n
		check_fails "IPv6 rules stay in force after rmmod (echo still dropped)" \
			ping6_peer
	fi
	check "insmod again" insmod "$BFT_KO" ifaces=$IFACES hook="$BFT_HOOK" \
		state_dir=$STATE timeout_ms=20000
	expect_eq "insmod again: the same rules are restored" "$(rules)" "$before"
	check_fails "... and enforced" ping_peer
	if v6_on; then
		expect_same_rules6 "insmod again: the same IPv6 rules are restored" \
			"$before6"
		check_fails "... and enforced (IPv6 echo dropped)" ping6_peer
		check "ip6tables -F; -X" bash -c "$IP6T -F && $IP6T -X"
		check "IPv6 traffic flows after flush" ping6_peer
	fi
	check "iptables -F; -X" bash -c "$IPT -F && $IPT -X"
	check "traffic flows after flush" ping_peer
	check "rmmod bpfilter (empty table)" rmmod bpfilter
	check "traffic flows after rmmod of an empty table" ping_peer
	v6_on && check "IPv6 traffic flows after rmmod of an empty table" ping6_peer
}

test_conflict() {
	check "modprobe ip_tables (the kernel's own)" modprobe ip_tables
	check_fails "insmod fails while ip_tables is loaded" \
		insmod "$BFT_KO" ifaces=veth0 hook="$BFT_HOOK"
	local msg
	msg=$(dmesg | grep 'bpfilter:' | grep 'ip_tables is loaded')
	if [ -n "$msg" ]; then
		ok "load error says why"
		diag "$msg"
	else
		not_ok "load error says why"
		diag "$(dmesg | tail -n 5)"
	fi
	rmmod ip_tables 2> /dev/null
}

v6_on() {
	[ "$BFT_IPV6" = 1 ]
}

# timed TEST: runs it and says how long it took (the guest's own clock).
timed() {
	local t0=$SECONDS
	"$@"
	diag "$1: $((SECONDS - t0)) s"
}

guest_main() {
	echo "# bpfilter.ko selftest: kernel $(uname -r), hook $BFT_HOOK"
	test_load
	if [ "$(helper_pid)" = 0 ]; then
		diag "no helper: skipping the rest" "$(dmesg | grep -i bpfilter | tail -n 20)"
		return
	fi
	timed test_iptables
	timed test_broad
	[ "${BFT_QUICK:-0}" = 1 ] && return
	if v6_on; then
		timed test_ip6tables
	else
		ok "ip6tables-legacy steps # SKIP switched off (BFT_IPV6=0, run.sh --no-ipv6)"
	fi
	timed test_bad_input
	timed test_link_events
	timed test_netns
	timed test_helper_restart
	timed test_helper_failures
	timed test_unload
	timed test_conflict
	ip netns del $NS 2> /dev/null
	ip netns del $NS2 2> /dev/null
	ip netns del $NS3 2> /dev/null
	ip netns del $NSN 2> /dev/null
}

[ "${BFT_SOURCE_ONLY:-0}" = 1 ] && return 0
guest_mounts
(sleep "${BFT_GUEST_TIMEOUT:-400}"; echo "# guest watchdog fired"; echo "BFT-DONE tests=-1 failures=-1"; poweroff -f) &
guest_main
echo "1..$T"
echo "# kernel log:"
dmesg | grep -E 'bpfilter|Oops|BUG|WARNING|Call Trace|segfault' | sed 's/^/# /' | tail -n 80
echo "BFT-DONE tests=$T failures=$FAILS"
sync
poweroff -f
