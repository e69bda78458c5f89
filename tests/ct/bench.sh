#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the conntrack state costs per packet (a measurement, not a test):
# the program bpfilter attached at XDP / tc ingress, run with
# BPF_PROG_TEST_RUN (bpftool prog run ... repeat R) on a TCP packet, for
#   plain:  -A INPUT -p tcp --dport 9 -j DROP          (no conntrack)
#   ct:     -A INPUT -m conntrack --ctstate INVALID -j DROP
# and two packets: one of an established connection (the kfunc lookup
# finds the kernel's entry, the TCP checks read it) and one of no
# connection (the lookup misses). Median of ROUNDS rounds.
#
#   tests/ct/bench.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BPFILTER=${BPFILTER:-$root/build/bpfilter}
rounds=${1:-5}
REPEAT=200000
NS_A=bpfctb-a-$$
NS_B=bpfctb-b-$$
tmp=$(mktemp -d /tmp/bpfilter-ctbench.XXXXXX)
pids=()
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add ctba netns "$NS_A" type veth peer name ctbb netns "$NS_B"
ip -n "$NS_A" addr add 10.204.0.1/24 dev ctba
ip -n "$NS_B" addr add 10.204.0.2/24 dev ctbb
ip -n "$NS_A" link set ctba up
ip -n "$NS_B" link set ctbb up
ip -n "$NS_B" link set lo up
mac_b=$(ip -n "$NS_B" -j link show ctbb | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_a=$(ip -n "$NS_A" -j link show ctba | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')

# frames: A:40000 -> B:22 ACK (the connection below), A:40001 -> B:22 ACK (none)
python3 - "$mac_a" "$mac_b" "$tmp" <<'PY'
import socket, struct, sys
sm, dm, d = sys.argv[1:4]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
for name, sport in (("est", 40000), ("none", 40001)):
    tcp = struct.pack("!HHIIBBHHH", sport, 22, 1, 1, 0x50, 0x10, 1000, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                     socket.inet_aton("10.204.0.1"), socket.inet_aton("10.204.0.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    # destination 00:00:00:00:00:00: BPF_PROG_TEST_RUN runs on lo, so the
    # skb is PACKET_HOST at tc (any other address would be OTHERHOST)
    eth = bytes(6) + bytes.fromhex(sm.replace(":", "")) + b"\x08\x00"
    open("%s/%s.bin" % (d, name), "wb").write(eth + ip + tcp)
PY

printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 9 -j DROP\nCOMMIT\n' >"$tmp/plain.rules"
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n' >"$tmp/ct.rules"

prog_id() {
	if [[ $1 == xdp ]]; then
		ip -n "$NS_B" -j link show dev ctbb | python3 -c \
			'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])'
	else
		ip netns exec "$NS_B" tc filter show dev ctbb ingress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n1
	fi
}
run_ns() {	# run_ns ID FRAME: avg ns of one run
	ip netns exec "$NS_B" bpftool prog run id "$1" data_in "$2" repeat "$REPEAT" |
		sed -n 's/^Return value: [0-9]*, duration[^:]*: \([0-9]*\)ns.*/\1/p'
}

echo "| hook | table | packet | ns/pkt (median of $rounds) |"
echo "|---|---|---|---|"
for hook in xdp tc; do
	sock=$tmp/$hook.sock
	ip netns exec "$NS_B" "$BPFILTER" daemon --iface ctbb --hook "$hook" \
		--socket "$sock" --state-dir "$tmp/st-$hook" >"$tmp/d-$hook.log" 2>&1 &
	pids+=($!)
	for ((i = 0; i < 50; i++)); do [[ -S $sock ]] && break; sleep 0.1; done
	for table in plain ct; do
		ip netns exec "$NS_B" "$BPFILTER" exec --socket "$sock" -- \
			iptables-legacy-restore <"$tmp/$table.rules"
		if [[ $table == ct ]]; then
			# a real connection A:40000 -> B:22, kept open
			ip netns exec "$NS_B" timeout 60 python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.204.0.2', 22)); s.listen(1); c, _ = s.accept(); time.sleep(50)" &
			pids+=($!)
			sleep 0.3
			ip netns exec "$NS_A" timeout 60 python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.204.0.1', 40000)); s.connect(('10.204.0.2', 22)); time.sleep(50)" &
			pids+=($!)
			sleep 0.5
		fi
		id=$(prog_id "$hook")
		for pkt in est none; do
			v=$(for ((r = 0; r < rounds; r++)); do run_ns "$id" "$tmp/$pkt.bin"; done | median)
			echo "| $hook | $table | $pkt | $v |"
		done
	done
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	pids=()
done
