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
# The same two figures for one real rule set (make rulesets-bench runs
# every tests/rulesets/*/NAME.rules that has a NAME.bench) instead of N
# generated rules. NAME.bench (shell variables) names the representative
# packet (bench_pkt "udp|tcp SRC:SPORT DST:DPORT [FLAGS]"), the chain that
# decides it (bench_hook INPUT or FORWARD), the interface it arrives on
# with the measured host's address and the neighbour's (bench_in,
# bench_in_addr, bench_peer), for FORWARD the way out (bench_out,
# bench_out_addr, bench_far), sources routed back through the neighbour
# (bench_routes) and a one-line description (bench_desc). The measured
# namespace has those interfaces under the rule set's names, forwarding on
# and permanent neighbour entries. bpfilter's program runs the frame with
# BPF_PROG_TEST_RUN and a context naming the arrival interface
# (xdp_md.ingress_ifindex, __sk_buff.ifindex), so -i/-o rules see what
# they would on the wire; the kernel side gets the same frame from a
# packet socket in a neighbour namespace over a veth (a multicast
# destination is joined by a socket), the sandwich at LOCAL_IN or FORWARD
# (bench_nf --hook). Both sides must accept it: XDP_PASS / TC_ACT_OK, and
# the kernel's sandwich counts only packets the table let through. A
# rule set bpfilter refuses is measured on the kernel's side only.
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
	-h|--help) sed -n '3,45p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
	esac
	shift
done

bench_hook=INPUT bench_in=bbench1 bench_in_addr=10.0.0.1/24 bench_peer=10.0.0.2
bench_out= bench_out_addr= bench_far= bench_routes= bench_desc=
bench_pkt="udp 172.16.0.1:40000 10.0.0.1:9999"
if [[ -n $rules_file ]]; then
	spec=${rules_file%.rules}.bench
	if [[ ! -f $spec ]]; then
		echo "run.sh: $spec is missing (the rule set's representative packet)" >&2
		exit 1
	fi
	# shellcheck source=/dev/null
	. "$spec"
	if [[ $bench_hook == FORWARD && -z $bench_out ]]; then
		echo "run.sh: $spec: FORWARD needs bench_out, bench_out_addr, bench_far" >&2
		exit 1
	fi
fi
# The measured host's MAC on the arrival interface and the neighbours'.
MAC_IN=02:00:00:00:b0:01 MAC_PEER=02:00:00:00:b0:02 MAC_OUT=02:00:00:00:b0:03 MAC_FAR=02:00:00:00:b0:04

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
	for x in "$NS" "$NS-s" "$NS-d" "bpfbench-r-$$" "bpfbench-s-$$" "bpfbench-d-$$"; do
		ip netns del "$x" 2>/dev/null
	done
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

# The packet: bench_pkt (UDP 172.16.0.1:40000 -> 10.0.0.1:9999, local in
# $NS, without --rules), to the arrival interface's MAC (a multicast
# destination to its group MAC). pkt.ctx.xdp / pkt.ctx.skb: the test-run
# contexts, filled with the interface's index once it exists.
# Without --rules the destination MAC is 0, the loopback device's, which
# BPF_PROG_TEST_RUN uses without a context: a tc program sees PACKET_HOST.
pkt_dmac=$MAC_IN
[[ -z $rules_file ]] && pkt_dmac=00:00:00:00:00:00
/usr/bin/python3 - "$tmp/pkt.bin" "$bench_pkt" "$pkt_dmac" "$MAC_PEER" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
w = sys.argv[2].split()
proto, (src, sport), (dst, dport) = w[0], w[1].split(":"), w[2].split(":")
sport, dport = int(sport), int(dport)
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
if proto == "udp":
    l4 = struct.pack("!HHHH", sport, dport, 10, 0) + b"xx"
    num = 17
else:
    bits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}
    fl = sum(bits[c] for c in (w[3] if len(w) > 3 else "S"))
    l4 = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, fl, 64240, 0, 0)
    num = 6
ph = sa + da + struct.pack("!BBH", 0, num, len(l4))
c = csum(ph + l4)
l4 = l4[:6] + struct.pack("!H", c) + l4[8:] if num == 17 else l4[:16] + struct.pack("!H", c) + l4[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, num, 0, sa, da)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
if da[0] >= 224 and da[0] < 240:
    dmac = bytes([1, 0, 0x5e, da[1] & 0x7f, da[2], da[3]])
else:
    dmac = bytes.fromhex(sys.argv[3].replace(":", ""))
eth = dmac + bytes.fromhex(sys.argv[4].replace(":", "")) + b"\x08\x00"
open(sys.argv[1], "wb").write(eth + ip + l4)
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
		nsx ip -j link show dev "$bench_in" | /usr/bin/python3 -c \
			'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])'
	else
		nsx tc filter show dev "$bench_in" ingress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n1
	fi
}

# prog_run ID REPEAT: "retval avg_ns"; with --rules in the context of the
# arrival interface (make_ctx).
prog_run() {
	local ctx=()
	[[ -n $rules_file ]] && ctx=(ctx_in "$tmp/pkt.ctx.$hook")
	nsx bpftool prog run id "$1" data_in "$tmp/pkt.bin" "${ctx[@]}" repeat "$2" |
		sed -n "s/^Return value: \([0-9]*\), duration[^:]*: \([0-9]*\)ns.*/\1 \2/p"
}

# make_ctx NS: pkt.ctx.xdp (struct xdp_md: data 0, data_end, ingress_ifindex)
# and pkt.ctx.tc (struct __sk_buff up to ifindex: ingress_ifindex, ifindex)
# for bench_in of NS.
make_ctx() {
	local idx len
	idx=$(ip -n "$1" -j link show dev "$bench_in" |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["ifindex"])')
	len=$(stat -c %s "$tmp/pkt.bin")
	/usr/bin/python3 -c '
import struct, sys
idx, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
open(out + ".xdp", "wb").write(struct.pack("=6I", 0, n, 0, idx, 0, 0))
skb = [0] * 11
skb[9] = skb[10] = idx		# ingress_ifindex, ifindex
open(out + ".tc", "wb").write(struct.pack("=11I", *skb))' "$idx" "$len" "$tmp/pkt.ctx"
}

# topo_up R S [D]: --rules: R, the measured host, with bench_in (its veth
# peer bbs0 in the neighbour namespace S) and for FORWARD bench_out (peer
# bbd0 in D), fixed MACs, permanent neighbour entries, forwarding on, the
# bench_routes back through S, no reverse-path filter.
topo_up() {
	local r=$1 s=$2 d=${3:-} x
	ip netns add "$r"
	ip netns add "$s"
	ip -n "$r" link set lo up
	ip link add "$bench_in" netns "$r" address "$MAC_IN" type veth \
		peer name bbs0 netns "$s" address "$MAC_PEER"
	ip -n "$r" addr add "$bench_in_addr" dev "$bench_in"
	ip -n "$s" addr add "$bench_peer/${bench_in_addr#*/}" dev bbs0
	ip -n "$r" link set "$bench_in" up
	ip -n "$s" link set bbs0 up
	ip -n "$s" route add 224.0.0.0/4 dev bbs0
	ip -n "$r" neigh replace "$bench_peer" lladdr "$MAC_PEER" dev "$bench_in" nud permanent
	for x in $bench_routes; do
		ip -n "$r" route add "$x" via "$bench_peer"
	done
	for x in all default "$bench_in"; do
		ip netns exec "$r" sysctl -qw "net.ipv4.conf.$x.rp_filter=0"
	done
	[[ -z $d ]] && return 0
	ip netns add "$d"
	ip link add "$bench_out" netns "$r" address "$MAC_OUT" type veth \
		peer name bbd0 netns "$d" address "$MAC_FAR"
	ip -n "$r" addr add "$bench_out_addr" dev "$bench_out"
	ip -n "$d" addr add "$bench_far/${bench_out_addr#*/}" dev bbd0
	ip -n "$r" link set "$bench_out" up
	ip -n "$d" link set bbd0 up
	ip -n "$r" neigh replace "$bench_far" lladdr "$MAC_FAR" dev "$bench_out" nud permanent
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
}

start_daemon() {	# start_daemon HOOK
	local ifs=(--iface "$bench_in")
	stop_topo
	if [[ -n $rules_file ]]; then
		topo_up "$NS" "$NS-s" "${bench_out:+$NS-d}"
		make_ctx "$NS"
		[[ -n $bench_out ]] && ifs+=(--iface "$bench_out")
	else
		ip netns add "$NS"
		nsx ip link set lo up
		nsx ip link add bbench0 type veth peer name bbench1
		nsx ip addr add 10.0.0.1/24 dev bbench1
		nsx ip link set bbench0 up
		nsx ip link set bbench1 up
	fi
	rm -f "$tmp/sock"
	# Not through nsx: $! of a backgrounded function is a subshell's pid.
	ip netns exec "$NS" "$BPFILTER" daemon "${ifs[@]}" --hook "$1" \
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

stop_topo() {
	local x
	for x in "$NS" "$NS-s" "$NS-d"; do
		ip netns del "$x" 2>/dev/null || true
	done
}

stop_daemon() {
	kill "$daemon_pid" 2>/dev/null || true
	wait "$daemon_pid" 2>/dev/null || true
	daemon_pid=
	stop_topo
}

# The sender of --rules (in the neighbour namespace): COUNT copies of the
# frame through a packet socket on bbs0.
cat >"$tmp/send_raw.py" <<'PY'
import socket, sys
frame, n = open(sys.argv[1], "rb").read(), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("bbs0", 0))
for i in range(n):
    try:
        s.send(frame)
    except BlockingIOError:
        pass
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
# kernel_round_veth [N]: --rules: the frame comes over a veth from a
# neighbour namespace (topo_up); a multicast destination is joined by a
# socket in the measured one, as a real listener would.
kernel_round_veth() {
	local r=bpfbench-r-$$ s=bpfbench-s-$$ d= lpid= i dst hk=1
	[[ -n $bench_out ]] && d=bpfbench-d-$$
	[[ $bench_hook == FORWARD ]] && hk=2
	topo_up "$r" "$s" "$d"
	[[ -n ${1:-} ]] && ip netns exec "$r" iptables-legacy-restore <"$tmp/rules.$1"
	dst=$(awk '{ split($3, a, ":"); print a[1] }' <<<"$bench_pkt")
	if [[ ${dst%%.*} -ge 224 && ${dst%%.*} -lt 240 ]]; then
		rm -f "$tmp/mc.ready"
		ip netns exec "$r" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(sys.argv[1]) + socket.inet_aton(sys.argv[2]))
print("ready", flush=True)
time.sleep(120)' "$dst" "${bench_in_addr%/*}" >"$tmp/mc.ready" &
		lpid=$!
		for ((i = 0; i < 50; i++)); do
			grep -q ready "$tmp/mc.ready" 2>/dev/null && break
			sleep 0.1
		done
	fi
	ip netns exec "$r" "$BENCH_NF" --hook "$hk" -- ip netns exec "$s" /usr/bin/python3 \
		"$tmp/send_raw.py" "$tmp/pkt.bin" "$KPKTS" >"$tmp/nf.out"
	# Every frame must have got through the table (bench_nf counts those).
	awk -v k="$KPKTS" '$2 >= k * 0.9 { print $4; next }
		{ printf "run.sh: the kernel passed %s of %d packets\n", $2, k > "/dev/stderr"; print "nan" }' \
		"$tmp/nf.out"
	if [[ -n $lpid ]]; then
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null || true
	fi
	ip netns del "$r"
	ip netns del "$s"
	[[ -n $d ]] && ip netns del "$d"
	return 0
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
echo "(floor ~20 ns); kernel: the $bench_hook sandwich minus its cost without a table (${base} ns)."
[[ -n $rules_file ]] && echo "packet: $bench_desc"
# BENCH_SUMMARY=FILE: one line per rule set for tests/rulesets/bench.sh:
# name, xdp, tc, kernel ns/pkt, load xdp, load tc (ms), the packet.
if [[ -n $rules_file && -n ${BENCH_SUMMARY:-} ]]; then
	n=$sizes
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${ns_pkt[xdp,$n]}" "${ns_pkt[tc,$n]}" \
		"${k_ns[$n]}" "${load_ms[xdp,$n]}" "${load_ms[tc,$n]}" "$bench_desc" >>"$BENCH_SUMMARY"
fi
echo "load: iptables-legacy-restore through bpfilter exec until the new program is attached."
