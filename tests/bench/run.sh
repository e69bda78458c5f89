#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: per-packet cost and load time for tables of N rules that the
# packet does not match (then policy ACCEPT), bpfilter at XDP and tc next to
# the kernel's own iptables-legacy. A benchmark, not a test.
#
#   tests/bench/run.sh [--sizes "1 100 1000 10000"] [--rounds 5]
#
# bpfilter ns/pkt: the program the daemon attached (bpf_fib_lookup decides
#   INPUT, as in production) run with BPF_PROG_TEST_RUN through
#   `bpftool prog run ... repeat R`, R calibrated to ~50 ms a round; the
#   median of the rounds. Each size is first checked with one extra
#   matching DROP rule at the end: the packet must get XDP_DROP /
#   TC_ACT_SHOT, so it really walked every rule.
# load ms: wall time of `bpfilter exec -- iptables-legacy-restore` against
#   the running daemon: parse, transport, validate, translate, verify,
#   attach. translate ms: `bpfilter translate` (no verifier, no root).
# kernel ns/pkt: two BPF netfilter programs at LOCAL_IN priority -1 and +1
#   around the filter table (tests/tools/bench_nf.c), UDP over loopback,
#   the median of the rounds minus the median with no filter table.
#
#   tests/bench/run.sh --rules FILE [--rounds 5]
#
# The same two figures for one real rule set (make rulesets-bench: ufw's
# table) instead of N generated rules. The packet is an mDNS datagram
# 10.0.0.2:5353 -> 224.0.0.251:5353 from a neighbour, which ufw's INPUT
# accepts after ~20 rules (logging chains, conntrack, ICMP types, DHCP,
# the addrtype checks of ufw-not-local); the kernel side sends it over a
# veth from a second namespace to a socket that joined the group (over
# loopback `-i lo -j ACCEPT` would accept it at the first rule). Both
# sides must accept it: XDP_PASS / TC_ACT_OK, and the kernel's sandwich
# counts only packets the table let through.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
BENCH_NF=${BENCH_NF:-$root/build/tests/bench_nf}
sizes="1 100 1000 10000"
rounds=5
KPKTS=20000
rules_file=

while (($#)); do
	case $1 in
	--sizes) sizes=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--rules) rules_file=$(realpath "$2"); sizes=$(basename "$2" .rules); shift ;;
	-h|--help) sed -n '3,35p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
	esac
	shift
done

if ((EUID != 0)); then
	echo "# SKIP: the benchmark needs root"
	exit 4
fi
for f in "$BPFILTER" "$BENCH_NF"; do
	if [[ ! -x $f ]]; then
		echo "run.sh: $f is missing; run make first" >&2
		exit 1
	fi
done
command -v bpftool >/dev/null || { echo "run.sh: bpftool is missing" >&2; exit 1; }

NS=bpfbench-$$
tmp=$(mktemp -d /tmp/bpfilter-bench.XXXXXX)
daemon_pid=
cleanup() {
	set +e
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# rules N [extra rule...]: N rules the benchmark packet never matches.
rules() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
n = int(sys.argv[1])
print("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]")
for i in range(n):
    print("-A INPUT -s 10.%d.%d.%d/32 -p tcp --dport %d -j DROP"
          % ((i >> 16) & 255, (i >> 8) & 255, i & 255, 1000 + i % 50000))
for extra in sys.argv[2:]:
    print(extra)
print("COMMIT")
PY
}

# The packet: UDP 172.16.0.1:40000 -> 10.0.0.1:9999 (local in $NS); with
# --rules, mDNS 10.0.0.2:5353 -> 224.0.0.251:5353.
/usr/bin/python3 - "$tmp/pkt.bin" "$rules_file" <<'PY'
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
mdns = sys.argv[2] != ""
sport, dport = (5353, 5353) if mdns else (40000, 9999)
src, dst = ("10.0.0.2", "224.0.0.251") if mdns else ("172.16.0.1", "10.0.0.1")
udp = struct.pack("!HHHH", sport, dport, 10, 0) + b"xx"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
# Destination MAC 0: the loopback device's, which BPF_PROG_TEST_RUN uses,
# so a tc program sees PACKET_HOST as on a real ingress.
dmac = bytes.fromhex("01005e0000fb") if mdns else bytes(6)
eth = dmac + bytes.fromhex("020000000002") + b"\x08\x00"
open(sys.argv[1], "wb").write(eth + ip + udp)
PY

# The kernel-side sender: KPKTS UDP datagrams over loopback.
cat >"$tmp/send.py" <<'PY'
import socket, sys
n = int(sys.argv[1])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 9999))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"x", ("127.0.0.1", 9999))
    if i % 64 == 63:
        try:
            while True:
                r.recv(2048, socket.MSG_DONTWAIT)
        except BlockingIOError:
            pass
PY

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now_ms() { date +%s%3N; }

nsx() { ip netns exec "$NS" "$@"; }
restore() { nsx timeout 600 "$BPFILTER" exec --socket "$tmp/sock" -- iptables-legacy-restore; }

prog_id() {	# prog_id HOOK
	if [[ $1 == xdp ]]; then
		nsx ip -j link show dev bbench1 | /usr/bin/python3 -c \
			'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])'
	else
		nsx tc filter show dev bbench1 ingress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n1
	fi
}

# prog_run ID REPEAT: "retval avg_ns"
prog_run() {
	nsx bpftool prog run id "$1" data_in "$tmp/pkt.bin" repeat "$2" |
		sed -n "s/^Return value: \([0-9]*\), duration[^:]*: \([0-9]*\)ns.*/\1 \2/p"
}

start_daemon() {	# start_daemon HOOK
	ip netns del "$NS" 2>/dev/null || true
	ip netns add "$NS"
	nsx ip link set lo up
	nsx ip link add bbench0 type veth peer name bbench1
	nsx ip addr add 10.0.0.1/24 dev bbench1
	nsx ip link set bbench0 up
	nsx ip link set bbench1 up
	rm -f "$tmp/sock"
	# Not through nsx: $! of a backgrounded function is a subshell's pid.
	ip netns exec "$NS" "$BPFILTER" daemon --iface bbench1 --hook "$1" \
		--socket "$tmp/sock" --state-dir "$tmp/state-$1" >"$tmp/daemon-$1.log" 2>&1 &
	daemon_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $tmp/sock ]] && return 0
		sleep 0.1
	done
	echo "run.sh: the daemon did not start:" >&2
	cat "$tmp/daemon-$1.log" >&2
	return 1
}

stop_daemon() {
	kill "$daemon_pid" 2>/dev/null || true
	wait "$daemon_pid" 2>/dev/null || true
	daemon_pid=
	ip netns del "$NS" 2>/dev/null || true
}

# The multicast sender of --rules (run in the second namespace).
cat >"$tmp/send_mc.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.0.0.2"))
for i in range(int(sys.argv[1])):
    s.sendto(b"x", ("224.0.0.251", 5353))
PY

declare -A ns_pkt load_ms xlate_ms k_ns k_load
for n in $sizes; do
	if [[ -n $rules_file ]]; then
		cp "$rules_file" "$tmp/rules.$n"
		cp "$rules_file" "$tmp/check.$n"
		continue
	fi
	rules "$n" >"$tmp/rules.$n"
	rules "$n" "-A INPUT -s 172.16.0.1/32 -j DROP" >"$tmp/check.$n"
done

# ---- bpfilter at XDP and tc -----------------------------------------------------
for hook in xdp tc; do
	start_daemon "$hook"
	drop_ret=1
	[[ $hook == tc ]] && drop_ret=2
	# --rules: the rule set must accept the packet (XDP_PASS, TC_ACT_OK).
	[[ -n $rules_file && $hook == xdp ]] && drop_ret=2
	[[ -n $rules_file && $hook == tc ]] && drop_ret=0
	for n in $sizes; do
		# The packet must walk all N rules: a DROP after them must hit.
		if ! restore <"$tmp/check.$n" >"$tmp/restore.out" 2>&1; then
			# A real rule set bpfilter cannot translate yet: say why,
			# and still measure the kernel.
			echo "# $hook: bpfilter refuses $n: $(grep -h -m1 -E 'refused|chain ' \
				"$tmp/daemon-$hook.log" "$tmp/restore.out" | sed 's/.*: \(chain \)/\1/')" >&2
			ns_pkt[$hook,$n]=refused
			load_ms[$hook,$n]=-
			continue
		fi
		read -r ret _ < <(prog_run "$(prog_id "$hook")" 1)
		if [[ $ret != "$drop_ret" ]]; then
			echo "run.sh: $hook, $n rules + a matching DROP: return value $ret, expected $drop_ret" >&2
			exit 1
		fi
		t0=$(now_ms)
		restore <"$tmp/rules.$n" >/dev/null
		t1=$(now_ms)
		load_ms[$hook,$n]=$((t1 - t0))
		id=$(prog_id "$hook")
		read -r _ avg < <(prog_run "$id" 1000)
		rep=$((50000000 / (avg > 0 ? avg : 1)))
		((rep < 1000)) && rep=1000
		((rep > 2000000)) && rep=2000000
		for ((r = 0; r < rounds; r++)); do
			prog_run "$id" "$rep" | awk '{ print $2 }'
		done >"$tmp/runs"
		ns_pkt[$hook,$n]=$(median <"$tmp/runs")
		echo "# $hook $n rules: $(tr '\n' ' ' <"$tmp/runs")ns (repeat $rep), load ${load_ms[$hook,$n]} ms" >&2
	done
	stop_daemon
done

for n in $sizes; do
	t0=$(now_ms)
	if "$BPFILTER" translate "$tmp/rules.$n" >/dev/null 2>&1; then
		t1=$(now_ms)
		xlate_ms[$n]=$((t1 - t0))
	else
		xlate_ms[$n]=-
	fi
done

# ---- the kernel's iptables-legacy ---------------------------------------------------
# kernel_round [N]: one sandwich measurement, no filter table without N.
kernel_round() {
	[[ -n $rules_file ]] && { kernel_round_veth "$@"; return; }
	local setup="ip link set lo up"
	[[ -n ${1:-} ]] && setup+=" && iptables-legacy-restore <'$tmp/rules.$1'"
	unshare --net bash -c "$setup && '$BENCH_NF' -- /usr/bin/python3 '$tmp/send.py' $KPKTS" |
		awk '{ print $4 }'
}
# kernel_round_veth [N]: --rules: the mDNS datagrams come over a veth from
# a second namespace to a socket in the measured one that joined the group.
kernel_round_veth() {
	local r=bpfbench-r-$$ s=bpfbench-s-$$
	ip netns add "$r"
	ip netns add "$s"
	ip -n "$r" link set lo up
	ip link add bbr0 netns "$r" type veth peer name bbs0 netns "$s"
	ip -n "$r" addr add 10.0.0.1/24 dev bbr0
	ip -n "$s" addr add 10.0.0.2/24 dev bbs0
	ip -n "$r" link set bbr0 up
	ip -n "$s" link set bbs0 up
	ip -n "$s" route add 224.0.0.0/4 dev bbs0
	[[ -n ${1:-} ]] && ip netns exec "$r" iptables-legacy-restore <"$tmp/rules.$1"
	ip netns exec "$r" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.251") + socket.inet_aton("10.0.0.1"))
print("ready", flush=True)
time.sleep(120)' >"$tmp/mc.ready" &
	local lpid=$! i
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$tmp/mc.ready" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$r" "$BENCH_NF" -- ip netns exec "$s" /usr/bin/python3 \
		"$tmp/send_mc.py" "$KPKTS" | awk '{ print $4 }'
	kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null || true
	ip netns del "$r"
	ip netns del "$s"
}

for ((r = 0; r < rounds; r++)); do
	kernel_round
done >"$tmp/base"
base=$(median <"$tmp/base")
echo "# kernel sandwich without a filter table: $(tr '\n' ' ' <"$tmp/base")ns" >&2
for n in $sizes; do
	for ((r = 0; r < rounds; r++)); do
		kernel_round "$n"
	done >"$tmp/kruns"
	k_ns[$n]=$(awk -v b="$base" '{ printf "%.1f\n", $1 - b }' "$tmp/kruns" | median)
	echo "# kernel $n rules: $(tr '\n' ' ' <"$tmp/kruns")ns raw" >&2
	t0=$(now_ms)
	unshare --net bash -c "iptables-legacy-restore <'$tmp/rules.$n'"
	t1=$(now_ms)
	k_load[$n]=$((t1 - t0))
done

printf '\n%-7s %11s %11s %14s %9s %9s %10s %10s %13s %16s\n' rules "xdp ns/pkt" "tc ns/pkt" \
	"kernel ns/pkt" "kern/xdp" "kern/tc" "load xdp" "load tc" "translate" "kernel restore"
for n in $sizes; do
	printf '%-7s %11s %11s %14s %9s %9s %7s ms %7s ms %10s ms %13s ms\n' "$n" \
		"${ns_pkt[xdp,$n]}" "${ns_pkt[tc,$n]}" "${k_ns[$n]}" \
		"$(awk -v k="${k_ns[$n]}" -v b="${ns_pkt[xdp,$n]}" 'BEGIN { if (b + 0 > 0) printf "%.1fx", k / b; else printf "-" }')" \
		"$(awk -v k="${k_ns[$n]}" -v b="${ns_pkt[tc,$n]}" 'BEGIN { if (b + 0 > 0) printf "%.1fx", k / b; else printf "-" }')" \
		"${load_ms[xdp,$n]}" "${load_ms[tc,$n]}" "${xlate_ms[$n]}" "${k_load[$n]}"
done
echo
echo "ns/pkt: median of $rounds rounds. bpfilter: BPF_PROG_TEST_RUN of the attached program"
echo "(floor ~20 ns); kernel: LOCAL_IN sandwich minus its cost without a table (${base} ns)."
echo "load: iptables-legacy-restore through bpfilter exec until the new program is attached."
