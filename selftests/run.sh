#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpfilter selftest (kselftest TAP): two network namespaces joined by a veth
# pair; `bpfilter daemon` on the receiving side (B) with its program at XDP
# or tc on B's veth; unmodified iptables-legacy and ip6tables-legacy run
# through `bpfilter exec` program it; real ping, TCP and UDP traffic over
# IPv4 and IPv6 from A must be dropped or passed as the rules say, the
# counters must equal what was sent, each family's table is replaced without
# touching the other's, and both survive kill -9 of the daemon.
#
#   selftests/run.sh --hook xdp|tc [-v]
#
# Exit: 0 all pass, 1 a failure, 4 skipped (not root). Namespaces, the
# daemon and the listeners are removed on exit, whatever happens.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
LISTENER=$here/listener.py

hook=
verbose=0
while (($#)); do
	case $1 in
	--hook) hook=${2:-}; shift ;;
	-v) verbose=1 ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
	esac
	shift
done
case $hook in
xdp|tc) ;;
*) echo "usage: $0 --hook xdp|tc" >&2; exit 1 ;;
esac

echo "TAP version 13"
echo "# bpfilter selftest, hook $hook"
if ((EUID != 0)); then
	echo "1..0 # SKIP the selftest needs root (netns, BPF, iptables)"
	exit 4
fi
if [[ ! -x $BPFILTER ]]; then
	echo "Bail out! $BPFILTER is missing; run make first"
	exit 1
fi

NS_A=bpfst-a-$$
NS_B=bpfst-b-$$
IF_A=bpfa$$
IF_B=bpfb$$
ADDR_A=10.201.0.1
ADDR_B=10.201.0.2
ADDR6_A=fd42:201::1
ADDR6_B=fd42:201::2
tmp=$(mktemp -d /tmp/bpfilter-selftest.XXXXXX)
SOCK=$tmp/bpfilter.sock
STATE=$tmp/state
DLOG=$tmp/daemon.log
LOG_B=$tmp/listen-b.log
LOG_A=$tmp/listen-a.log
daemon_pid=
pids=()

cleanup() {
	local p
	set +e
	[[ -n $daemon_pid ]] && kill -9 "$daemon_pid" 2>/dev/null
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsa() { ip netns exec "$NS_A" "$@"; }
nsb() { ip netns exec "$NS_B" "$@"; }
# Unmodified iptables-legacy tools on B, through the preload transport.
ipt() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- iptables-legacy -w "$@"; }
ipt_save() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- iptables-legacy-save "$@"; }
ipt_restore() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- iptables-legacy-restore "$@"; }
ip6t() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- ip6tables-legacy -w "$@"; }
ip6t_save() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- ip6tables-legacy-save "$@"; }
ip6t_restore() { nsb timeout 30 "$BPFILTER" exec --socket "$SOCK" -- ip6tables-legacy-restore "$@"; }

num=0
failed=0
ok() { num=$((num + 1)); echo "ok $num - $*"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num - $*"; }
diag() { sed 's/^/#   /' | head -n 40; }

# check DESC CMD...: one TAP line for the exit status of CMD.
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then
		ok "$desc"
		((verbose)) && diag <"$tmp/check.out"
	else
		not_ok "$desc"
		diag <"$tmp/check.out"
	fi
	return 0
}

# ---- traffic (every loop bounded in count and time) ----------------------
# pings N ANSWERED: send exactly N pings, expect ANSWERED replies.
pings() {
	local out
	out=$(nsa ping -c "$1" -i 0.2 -W 1 -q "$ADDR_B" 2>&1)
	echo "$out"
	grep -q "^$1 packets transmitted, $2 received" <<<"$out"
}
ping_ok() { pings 1 1; }
ping_blocked() { pings 2 0; }
tcp_ok() { nsa timeout 3 bash -c "exec 3<>/dev/tcp/$ADDR_B/$1"; }
# Dropped SYNs time out; a refused connection (RST) is no drop.
tcp_blocked() {
	local rc=0
	tcp_ok "$1" || rc=$?
	echo "connect to port $1: exit $rc (124 = timed out)"
	((rc == 124))
}
udp_count() { grep -c "^udp $2\$" "$1" || true; }
# udp_send FROM_NS DST PORT N
udp_send() {
	ip netns exec "$1" bash -c \
		"for ((i = 0; i < $4; i++)); do echo x >/dev/udp/$2/$3; done"
}
# udp_delivered LOG PORT N_SENT N_EXPECTED FROM_NS DST
udp_delivered() {
	local before after
	before=$(udp_count "$1" "$2")
	udp_send "$5" "$6" "$2" "$3"
	sleep 0.5
	after=$(udp_count "$1" "$2")
	echo "sent $3 datagrams to port $2, $((after - before)) arrived, expected $4"
	((after - before == $4))
}

# counter CHAIN RULENUM: "packets bytes" of a rule, from -L -v -n -x.
counter() {
	ipt -L "$1" -v -n -x --line-numbers | awk -v n="$2" '$1 == n { print $2, $3 }'
}
# counter_is CHAIN RULENUM PACKETS [BYTES]
counter_is() {
	local got
	got=$(counter "$1" "$2")
	echo "$1 rule $2 counters: '$got', expected packets $3${4:+ bytes $4}"
	ipt -L "$1" -v -n -x --line-numbers
	[[ ${got%% *} == "$3" ]] || return 1
	[[ -z ${4:-} || ${got##* } == "$4" ]]
}

# ---- IPv6 traffic and counters ---------------------------------------------
pings6() {
	local out
	out=$(nsa ping -6 -c "$1" -i 0.2 -W 1 -q "$ADDR6_B" 2>&1)
	echo "$out"
	grep -q "^$1 packets transmitted, $2 received" <<<"$out"
}
ping6_ok() { pings6 1 1; }
ping6_blocked() { pings6 2 0; }
tcp6_ok() { nsa timeout 3 bash -c "exec 3<>/dev/tcp/$ADDR6_B/$1"; }
tcp6_blocked() {
	local rc=0
	tcp6_ok "$1" || rc=$?
	echo "connect to [$ADDR6_B]:$1: exit $rc (124 = timed out)"
	((rc == 124))
}
# udp6_delivered LOG PORT N_SENT N_EXPECTED FROM_NS DST
udp6_delivered() {
	local before after
	before=$(grep -c "^udp6 $2\$" "$1" || true)
	udp_send "$5" "$6" "$2" "$3"
	sleep 0.5
	after=$(grep -c "^udp6 $2\$" "$1" || true)
	echo "sent $3 datagrams to [$6]:$2, $((after - before)) arrived, expected $4"
	((after - before == $4))
}
counter6() {
	ip6t -L "$1" -v -n -x --line-numbers | awk -v n="$2" '$1 == n { print $2, $3 }'
}
counter6_is() {
	local got
	got=$(counter6 "$1" "$2")
	echo "ip6tables $1 rule $2 counters: '$got', expected packets $3${4:+ bytes $4}"
	ip6t -L "$1" -v -n -x --line-numbers
	[[ ${got%% *} == "$3" ]] || return 1
	[[ -z ${4:-} || ${got##* } == "$4" ]]
}
rules6_are() {	# rules6_are EXPECTED (as ip6tables -S INPUT prints it)
	local got
	got=$(ip6t -S INPUT)
	echo "-S INPUT:"; echo "$got"; echo "expected:"; echo "$1"
	[[ $got == "$1" ]]
}
same() {	# same WHAT EXPECTED GOT
	echo "$1: expected '$2', got '$3'"
	[[ $2 == "$3" ]]
}

attached() {
	if [[ $hook == xdp ]]; then
		nsb ip -d link show dev "$IF_B" | grep -E 'prog/xdp|xdp(drv|generic)? '
	else
		nsb tc filter show dev "$IF_B" ingress | grep -w bpf
	fi
}

rules_are() {	# rules_are EXPECTED_S_OUTPUT (as -S INPUT prints it)
	local got
	got=$(ipt -S INPUT)
	echo "-S INPUT:"; echo "$got"; echo "expected:"; echo "$1"
	[[ $got == "$1" ]]
}

start_daemon() {
	# Not through nsb: a backgrounded function is a subshell, and $! would
	# be its pid, not the daemon's (ip netns exec and bpfilter daemon exec).
	ip netns exec "$NS_B" "$BPFILTER" daemon --iface "$IF_B" --hook "$hook" \
		--socket "$SOCK" --state-dir "$STATE" >>"$DLOG" 2>&1 &
	daemon_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $SOCK ]] && ipt -L -n >/dev/null 2>&1 && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "the daemon did not come up:"
	cat "$DLOG"
	return 1
}

wait_ready() {	# wait_ready LOG
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready$' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

fails() { ! "$@"; }
lists_builtins() {
	local out
	out=$(ipt -L -n)
	echo "$out"
	grep -q 'Chain INPUT (policy ACCEPT)' <<<"$out" &&
		grep -q 'Chain FORWARD (policy ACCEPT)' <<<"$out" &&
		grep -q 'Chain OUTPUT (policy ACCEPT)' <<<"$out"
}
s_is() {	# s_is EXPECTED: the whole -S output
	local got
	got=$(ipt -S)
	echo "$got"
	[[ $got == "$1" ]]
}
refused() {	# refused PATTERN IPTABLES-ARGS...: fails, stderr matches
	local pat=$1 rc=0
	shift
	ipt "$@" 2>"$tmp/bad.err" || rc=$?
	cat "$tmp/bad.err"
	((rc != 0)) && grep -qiE -- "$pat" "$tmp/bad.err"
}
remove_chain() { ipt -D INPUT -j "$1" && ipt -F "$1" && ipt -X "$1"; }
lists_no() { local out; out=$(ipt -L -n); echo "$out"; ! grep -q -- "$1" <<<"$out"; }
save_to() {	# save_to FILE [-t TABLE]
	local f=$1
	shift
	ipt_save "$@" >"$f" && cat "$f" && grep -q -- '--dport 8080' "$f"
}
lists_rules_after_restart() {
	local out
	out=$(ipt -L INPUT -v -n -x)
	echo "$out"
	[[ $out == *DROP*icmp* && $out == *dpt:8080* ]]
}

# ---- setup ------------------------------------------------------------------
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"
nsa ip addr add "$ADDR_A/24" dev "$IF_A"
nsb ip addr add "$ADDR_B/24" dev "$IF_B"
nsa ip addr add "$ADDR6_A/64" dev "$IF_A" nodad
nsb ip addr add "$ADDR6_B/64" dev "$IF_B" nodad
nsa ip link set lo up
nsb ip link set lo up
nsa ip link set "$IF_A" up
nsb ip link set "$IF_B" up
# Background processes start without the nsa/nsb functions, so that $! is
# the process itself (ip netns exec execs), not a subshell around it.
ip netns exec "$NS_B" "$LISTENER" --log "$LOG_B" --timeout 600 \
	--tcp 8080 --tcp 8081 --udp 5353 --udp 5354 \
	--tcp6 8080 --tcp6 8081 --udp6 5353 --udp6 5354 &
pids+=($!)
ip netns exec "$NS_A" "$LISTENER" --log "$LOG_A" --timeout 600 --udp 6000 --udp 6001 \
	--udp6 6000 --udp6 6001 &
pids+=($!)
if ! wait_ready "$LOG_B" || ! wait_ready "$LOG_A"; then
	echo "Bail out! the traffic listeners did not start"
	exit 1
fi

check "baseline without bpfilter: ping passes" ping_ok
check "baseline without bpfilter: tcp 8080 passes" tcp_ok 8080

if ! start_daemon >"$tmp/start.out" 2>&1; then
	not_ok "bpfilter daemon --hook $hook starts"
	diag <"$tmp/start.out"
	echo "1..$num"
	exit 1
fi
ok "bpfilter daemon --hook $hook starts"

check "-L -n lists the built-in chains" lists_builtins
check "ping passes with the empty table" ping_ok

# ---- -A / -C / -D -------------------------------------------------------------
check "-A INPUT -p icmp -j DROP" ipt -A INPUT -p icmp -j DROP
check "program attached at $hook on $IF_B" attached
check "ping is dropped" ping_blocked
check "tcp 8080 still passes" tcp_ok 8080
check "-C finds the rule" ipt -C INPUT -p icmp -j DROP
check "-C does not find a rule that is not there" fails ipt -C INPUT -p udp -j DROP
check "-D INPUT -p icmp -j DROP" ipt -D INPUT -p icmp -j DROP
check "ping passes again" ping_ok

# ---- TCP: -A, -I, -R, -F ------------------------------------------------------
check "-A INPUT -p tcp --dport 8080 -j DROP" ipt -A INPUT -p tcp --dport 8080 -j DROP
check "tcp 8080 is dropped" tcp_blocked 8080
check "tcp 8081 passes" tcp_ok 8081
check "-I INPUT 1 -s A -p tcp --dport 8080 -j ACCEPT" \
	ipt -I INPUT 1 -s "$ADDR_A/32" -p tcp --dport 8080 -j ACCEPT
check "-S shows the inserted rule first" rules_are "-P INPUT ACCEPT
-A INPUT -s $ADDR_A/32 -p tcp -m tcp --dport 8080 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8080 -j DROP"
check "tcp 8080 passes (inserted ACCEPT first)" tcp_ok 8080
check "-R INPUT 1 -p tcp --dport 8081 -j DROP" ipt -R INPUT 1 -p tcp --dport 8081 -j DROP
check "tcp 8081 is dropped after -R" tcp_blocked 8081
check "tcp 8080 is dropped after -R" tcp_blocked 8080
check "-F INPUT" ipt -F INPUT
check "tcp 8080 passes after -F" tcp_ok 8080

# ---- UDP ----------------------------------------------------------------------
check "-A INPUT -p udp --dport 5353 -j DROP" ipt -A INPUT -p udp --dport 5353 -j DROP
check "udp 5353: 0 of 5 arrive" udp_delivered "$LOG_B" 5353 5 0 "$NS_A" "$ADDR_B"
check "udp 5354: 5 of 5 arrive" udp_delivered "$LOG_B" 5354 5 5 "$NS_A" "$ADDR_B"
check "udp 5353 counter is 5 packets, 5 x 30 bytes" counter_is INPUT 1 5 150

# ---- user chains: -N, -E, -X, and -P ------------------------------------------
check "-F INPUT" ipt -F INPUT
check "-N blk" ipt -N blk
check "-A blk -p icmp -j DROP" ipt -A blk -p icmp -j DROP
check "-A INPUT -j blk" ipt -A INPUT -j blk
check "ping is dropped through a user chain" ping_blocked
check "-E blk blk2" ipt -E blk blk2
check "-S follows the rename" rules_are "-P INPUT ACCEPT
-A INPUT -j blk2"
check "ping is still dropped after the rename" ping_blocked
check "-X of a referenced chain is refused" fails ipt -X blk2
check "-D INPUT -j blk2, -F blk2, -X blk2" remove_chain blk2
check "-L no longer lists blk2" lists_no blk2
check "ping passes after -X" ping_ok
check "-P INPUT DROP" ipt -P INPUT DROP
check "ping is dropped by the policy" ping_blocked
check "tcp 8081 is dropped by the policy" tcp_blocked 8081
check "-P INPUT ACCEPT" ipt -P INPUT ACCEPT
check "ping passes with policy ACCEPT" ping_ok

# ---- counters -------------------------------------------------------------------
check "-A INPUT -s A -p icmp --icmp-type echo-request -j ACCEPT" \
	ipt -A INPUT -s "$ADDR_A/32" -p icmp --icmp-type echo-request -j ACCEPT
check "-Z" ipt -Z
check "exactly 5 pings sent, 5 answered" pings 5 5
check "-L -v counts 5 packets, 5 x 84 bytes" counter_is INPUT 1 5 420
check "-I INPUT 1 -p icmp -j DROP" ipt -I INPUT 1 -p icmp -j DROP
check "exactly 5 pings sent, none answered" pings 5 0
check "-L -v: the DROP rule counts 5" counter_is INPUT 1 5 420
check "-L -v: the ACCEPT behind it stays at 5" counter_is INPUT 2 5 420
check "-Z INPUT" ipt -Z INPUT
check "-Z zeroed rule 1" counter_is INPUT 1 0 0
check "-Z zeroed rule 2" counter_is INPUT 2 0 0

# ---- save / restore --------------------------------------------------------------
check "-A INPUT -p tcp --dport 8080 -j DROP" ipt -A INPUT -p tcp --dport 8080 -j DROP
before=$(ipt -S 2>&1 || true)
check "iptables-legacy-save -t filter" save_to "$tmp/saved" -t filter
# Without -t, iptables-save lists the tables named in /proc/net/ip_tables_names.
check "iptables-legacy-save (no -t) lists the filter table" save_to "$tmp/saved-all"
check "-F" ipt -F
check "ping passes after -F" ping_ok
check "iptables-legacy-restore of the saved file" ipt_restore <"$tmp/saved"
check "-S after restore equals -S before save" s_is "$before"
check "ping is dropped again after restore" ping_blocked
check "tcp 8080 is dropped again after restore" tcp_blocked 8080

# ---- bad input ---------------------------------------------------------------------
before=$(ipt -S 2>&1 || true)
check "a rule with an unsupported match (statistic) is refused with an error" \
	refused 'statistic' -A INPUT -p tcp -m statistic --mode nth --every 2 --packet 0 -j ACCEPT
check "a rule with an unsupported target (NFLOG) is refused with an error" \
	refused 'NFLOG' -I INPUT -p udp -j NFLOG
check "the rules in force are unchanged after the refusals" s_is "$before"
check "ping is still dropped after the refusals" ping_blocked
check "tcp 8081 still passes after the refusals" tcp_ok 8081

# ---- kill -9 the daemon while traffic flows -----------------------------------------
check "-Z" ipt -Z
ip netns exec "$NS_A" ping -c 20 -i 0.2 -W 1 -q "$ADDR_B" >"$tmp/ping-kill.out" 2>&1 &
ping_pid=$!
pids+=("$ping_pid")
sleep 1
dead_pid=$daemon_pid
kill -9 "$dead_pid"
wait "$dead_pid" 2>/dev/null || true
daemon_pid=
check "daemon killed with SIGKILL while pings flow" fails kill -0 "$dead_pid"
check "no bpfilter-umh serves the socket any more" fails ipt -L -n
wait "$ping_pid" || true
check "all 20 pings were dropped, before and after the kill" \
	grep -q '20 packets transmitted, 0 received' "$tmp/ping-kill.out"
check "the program stays attached without the daemon" attached
check "tcp 8080 is still dropped without the daemon" tcp_blocked 8080
check "tcp 8081 still passes without the daemon" tcp_ok 8081
check "udp 5354 still passes without the daemon" udp_delivered "$LOG_B" 5354 3 3 "$NS_A" "$ADDR_B"

if start_daemon >"$tmp/start.out" 2>&1; then
	ok "the daemon restarts"
else
	not_ok "the daemon restarts"
	diag <"$tmp/start.out"
fi
check "-L -v -n after the restart still lists the rules" lists_rules_after_restart
check "counters survive the restart: the icmp DROP rule counted the 20 pings" \
	counter_is INPUT 1 20 1680
check "the restarted daemon takes changes: -D INPUT 1" ipt -D INPUT 1
check "ping passes after that change" ping_ok

# ---- OUTPUT on locally generated traffic (tc egress) -----------------------------------
if [[ $hook == tc ]]; then
	check "-A OUTPUT -p udp --dport 6000 -j DROP" ipt -A OUTPUT -p udp --dport 6000 -j DROP
	check "OUTPUT: udp 6000 from B: 0 of 4 arrive at A" udp_delivered "$LOG_A" 6000 4 0 "$NS_B" "$ADDR_A"
	check "OUTPUT: udp 6001 from B: 4 of 4 arrive at A" udp_delivered "$LOG_A" 6001 4 4 "$NS_B" "$ADDR_A"
	check "OUTPUT rule counted 4 packets, 4 x 30 bytes" counter_is OUTPUT 1 4 120
	check "-F OUTPUT" ipt -F OUTPUT
	check "OUTPUT: udp 6000 arrives after -F" udp_delivered "$LOG_A" 6000 2 2 "$NS_B" "$ADDR_A"
else
	ok "OUTPUT at tc egress # SKIP XDP has no OUTPUT hook"
fi

# ---- IPv6: ip6tables-legacy on the same interface ------------------------------
lists6_builtins() {
	local out
	out=$(ip6t -L -n)
	echo "$out"
	grep -q 'Chain INPUT (policy ACCEPT)' <<<"$out" &&
		grep -q 'Chain OUTPUT (policy ACCEPT)' <<<"$out"
}
check "ip6tables -L -n lists the built-in chains" lists6_builtins
check "ping -6 passes with the empty IPv6 table" ping6_ok
check "tcp6 8080 passes with the empty IPv6 table" tcp6_ok 8080
check "ip6tables -A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP" \
	ip6t -A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP
check "ping -6 is dropped" ping6_blocked
check "IPv4 ping is not (the IPv4 table has no such rule)" ping_ok
check "ip6tables -C finds the rule" ip6t -C INPUT -p icmpv6 --icmpv6-type echo-request -j DROP
check "ip6tables -C does not find a rule that is not there" fails ip6t -C INPUT -p udp -j DROP
check "ip6tables -D INPUT 1" ip6t -D INPUT 1
check "ping -6 passes again" ping6_ok
check "ip6tables -A INPUT -p tcp --dport 8080 -j DROP" ip6t -A INPUT -p tcp --dport 8080 -j DROP
check "tcp6 8080 is dropped" tcp6_blocked 8080
check "tcp6 8081 passes" tcp6_ok 8081
check "ip6tables -I INPUT 1 -s A -p tcp --dport 8080 -j ACCEPT" \
	ip6t -I INPUT 1 -s "$ADDR6_A/128" -p tcp --dport 8080 -j ACCEPT
check "ip6tables -S shows the inserted rule first" rules6_are "-P INPUT ACCEPT
-A INPUT -s $ADDR6_A/128 -p tcp -m tcp --dport 8080 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8080 -j DROP"
check "tcp6 8080 passes (inserted ACCEPT first)" tcp6_ok 8080
check "ip6tables -R INPUT 1 -p tcp --dport 8081 -j DROP" ip6t -R INPUT 1 -p tcp --dport 8081 -j DROP
check "tcp6 8081 is dropped after -R" tcp6_blocked 8081
check "ip6tables -F INPUT" ip6t -F INPUT
check "tcp6 8080 passes after -F" tcp6_ok 8080
check "ip6tables -A INPUT -p udp --dport 5353 -j DROP" ip6t -A INPUT -p udp --dport 5353 -j DROP
check "udp6 5353: 0 of 5 arrive" udp6_delivered "$LOG_B" 5353 5 0 "$NS_A" "$ADDR6_B"
check "udp6 5354: 5 of 5 arrive" udp6_delivered "$LOG_B" 5354 5 5 "$NS_A" "$ADDR6_B"
check "udp6 5353 counter is 5 packets, 5 x 50 bytes" counter6_is INPUT 1 5 250
check "ip6tables -F INPUT" ip6t -F INPUT
check "ip6tables -N blk6" ip6t -N blk6
check "ip6tables -A blk6 -p icmpv6 --icmpv6-type echo-request -j DROP" \
	ip6t -A blk6 -p icmpv6 --icmpv6-type echo-request -j DROP
check "ip6tables -A INPUT -j blk6" ip6t -A INPUT -j blk6
check "ping -6 is dropped through a user chain" ping6_blocked
check "ip6tables -E blk6 blk7" ip6t -E blk6 blk7
check "ip6tables -X of a referenced chain is refused" fails ip6t -X blk7
check "ip6tables -D INPUT -j blk7, -F blk7, -X blk7" \
	eval 'ip6t -D INPUT -j blk7 && ip6t -F blk7 && ip6t -X blk7'
check "ping -6 passes after -X" ping6_ok
check "ip6tables -P INPUT DROP" ip6t -P INPUT DROP
check "tcp6 8081 is dropped by the policy" tcp6_blocked 8081
check "IPv4 tcp 8081 passes: the IPv4 policy is its own" tcp_ok 8081
check "ip6tables -P INPUT ACCEPT" ip6t -P INPUT ACCEPT
check "ip6tables -A INPUT -s A -p icmpv6 --icmpv6-type echo-request -j ACCEPT" \
	ip6t -A INPUT -s "$ADDR6_A/128" -p icmpv6 --icmpv6-type echo-request -j ACCEPT
check "ip6tables -Z" ip6t -Z
check "exactly 5 pings -6 sent, 5 answered" pings6 5 5
check "ip6tables -L -v counts 5 packets, 5 x 104 bytes" counter6_is INPUT 1 5 520
refused6() {	# refused6 PATTERN IP6TABLES-ARGS...: fails, stderr matches
	local pat=$1 rc=0
	shift
	ip6t "$@" 2>"$tmp/bad.err" || rc=$?
	cat "$tmp/bad.err"
	((rc != 0)) && grep -qiE -- "$pat" "$tmp/bad.err"
}
before6=$(ip6t -S 2>&1 || true)
check "an unsupported IPv6 match (statistic) is refused with an error" \
	refused6 'statistic' -A INPUT -m statistic --mode nth --every 2 --packet 0 -j ACCEPT
check "the IPv6 rules in force are unchanged after the refusal" \
	same "ip6tables -S" "$before6" "$(ip6t -S 2>&1)"

# ---- the two families are replaced independently ---------------------------------
check "iptables -F, -Z, ip6tables -Z" eval 'ipt -F && ipt -Z && ip6t -Z'
check "iptables -A INPUT -s A -p icmp -j ACCEPT" ipt -A INPUT -s "$ADDR_A/32" -p icmp -j ACCEPT
check "iptables -A INPUT -p tcp --dport 8080 -j DROP" ipt -A INPUT -p tcp --dport 8080 -j DROP
check "3 IPv4 pings answered" pings 3 3
check "3 IPv6 pings answered" pings6 3 3
v4_rules=$(ipt -S 2>&1 || true)
v4_cnt=$(counter INPUT 1)
check "the IPv4 rule counted 3 pings" same "IPv4 counters" "3 252" "$v4_cnt"
check "replacing the IPv6 table: ip6tables -I INPUT 1 -p tcp --dport 8081 -j DROP" \
	ip6t -I INPUT 1 -p tcp --dport 8081 -j DROP
check "... leaves the IPv4 rules as they were" same "iptables -S" "$v4_rules" "$(ipt -S 2>&1)"
check "... and the IPv4 counters" same "IPv4 counters" "$v4_cnt" "$(counter INPUT 1)"
check "... IPv4 tcp 8080 still dropped" tcp_blocked 8080
check "... IPv4 tcp 8081 still passes" tcp_ok 8081
check "... IPv6 tcp 8081 now dropped" tcp6_blocked 8081
check "the IPv6 rule counted the 3 pings -6" counter6_is INPUT 2 3 312
v6_rules=$(ip6t -S 2>&1 || true)
v6_cnt=$(counter6 INPUT 2)
check "replacing the IPv4 table: iptables -D INPUT 2" ipt -D INPUT 2
check "... leaves the IPv6 rules as they were" same "ip6tables -S" "$v6_rules" "$(ip6t -S 2>&1)"
check "... and the IPv6 counters" same "IPv6 counters" "$v6_cnt" "$(counter6 INPUT 2)"
check "... IPv6 tcp 8081 still dropped" tcp6_blocked 8081
check "... IPv4 tcp 8080 passes now" tcp_ok 8080
check "iptables-legacy-save shows no IPv6 rule" \
	eval "! ipt_save | grep -q -e '$ADDR6_A' -e icmpv6"
check "ip6tables-legacy-save -t filter" \
	eval "ip6t_save -t filter >'$tmp/saved6' && cat '$tmp/saved6' && grep -q -- '--dport 8081' '$tmp/saved6'"
check "ip6tables-legacy-save (no -t) lists the IPv6 filter table" \
	eval "ip6t_save | grep -q -- '--dport 8081'"
check "ip6tables -F" ip6t -F
check "tcp6 8081 passes after -F" tcp6_ok 8081
check "ip6tables-legacy-restore of the saved file" eval "ip6t_restore <'$tmp/saved6'"
check "tcp6 8081 is dropped again after restore" tcp6_blocked 8081
check "ip6tables -A OUTPUT -p udp --dport 6000 -j DROP" ip6t -A OUTPUT -p udp --dport 6000 -j DROP
if [[ $hook == tc ]]; then
	check "IPv6 OUTPUT: udp6 6000 from B: 0 of 4 arrive at A" \
		udp6_delivered "$LOG_A" 6000 4 0 "$NS_B" "$ADDR6_A"
	check "IPv6 OUTPUT: udp6 6001 from B: 4 of 4 arrive at A" \
		udp6_delivered "$LOG_A" 6001 4 4 "$NS_B" "$ADDR6_A"
	check "IPv6 OUTPUT rule counted 4 packets, 4 x 50 bytes" counter6_is OUTPUT 1 4 200
else
	ok "IPv6 OUTPUT at tc egress # SKIP XDP has no OUTPUT hook"
fi

# ---- both families through kill -9 and a restart -------------------------------------
check "ip6tables -I INPUT 1 -p icmpv6 --icmpv6-type echo-request -j DROP" \
	ip6t -I INPUT 1 -p icmpv6 --icmpv6-type echo-request -j DROP
check "iptables -I INPUT 1 -p icmp -j DROP" ipt -I INPUT 1 -p icmp -j DROP
check "iptables -Z, ip6tables -Z" eval 'ipt -Z && ip6t -Z'
ip netns exec "$NS_A" ping -c 10 -i 0.2 -W 1 -q "$ADDR_B" >"$tmp/ping4-kill.out" 2>&1 &
p4=$!
ip netns exec "$NS_A" ping -6 -c 10 -i 0.2 -W 1 -q "$ADDR6_B" >"$tmp/ping6-kill.out" 2>&1 &
p6=$!
pids+=("$p4" "$p6")
sleep 1
dead_pid=$daemon_pid
kill -9 "$dead_pid"
wait "$dead_pid" 2>/dev/null || true
daemon_pid=
wait "$p4" || true
wait "$p6" || true
check "all 10 IPv4 pings dropped, before and after the kill" \
	grep -q '10 packets transmitted, 0 received' "$tmp/ping4-kill.out"
check "all 10 IPv6 pings dropped, before and after the kill" \
	grep -q '10 packets transmitted, 0 received' "$tmp/ping6-kill.out"
check "IPv6 tcp 8081 still dropped without the daemon" tcp6_blocked 8081
check "IPv6 tcp 8080 still passes without the daemon" tcp6_ok 8080
check "IPv4 tcp 8080 still passes without the daemon" tcp_ok 8080
if start_daemon >"$tmp/start.out" 2>&1; then
	ok "the daemon restarts (both families)"
else
	not_ok "the daemon restarts (both families)"
	diag <"$tmp/start.out"
fi
adopted() {	# adopted N: N restarts adopted both families' programs
	local n
	n=$(grep -c 'adopted the attached programs.*IPv6 too' "$DLOG" || true)
	echo "restarts that adopted both tables: $n, expected $1"
	cat "$DLOG"
	((n == $1))
}
check "the restarted daemon adopted both tables, as at the first restart" adopted 2
check "IPv4 counters survive: the icmp DROP counted the 10 pings" counter_is INPUT 1 10 840
check "IPv6 counters survive: the icmpv6 DROP counted the 10 pings" counter6_is INPUT 1 10 1040
check "IPv6 rules survive" rules6_are "$(printf '%s\n' '-P INPUT ACCEPT' \
	'-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j DROP' \
	'-A INPUT -p tcp -m tcp --dport 8081 -j DROP' \
	"-A INPUT -s $ADDR6_A/128 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT")"
check "the restarted daemon takes IPv6 changes: ip6tables -D INPUT 1" ip6t -D INPUT 1
check "ping -6 passes after that change" ping6_ok
check "IPv4 ping is still dropped" ping_blocked

echo "1..$num"
echo "# $((num - failed)) passed, $failed failed"
((failed == 0))
