#!/usr/bin/env bash
# The main job on a default: two network namespaces joined by a veth, the
# bpfilter daemon on the receiving side, a sample rule set applied with the
# unmodified iptables-legacy-restore, real traffic, and what passed and what
# was dropped, with the counters `iptables-legacy -L -v -n` reads back from
# the BPF maps.  Usage: tests/demo/run.sh [--hook xdp|tc]
set -euo pipefail

hook=xdp
[[ "${1:-}" == "--hook" ]] && hook=${2:?--hook needs xdp or tc}
top=$(cd "$(dirname "$0")/../.." && pwd)
bpfilter=$top/build/bpfilter
rules=$top/tests/demo/sample.rules
tx=bfdemo-tx-$$ rx=bfdemo-rx-$$
run=$(mktemp -d /tmp/bfdemo.XXXXXX)
sock=$run/bpfilter.sock
daemon_pid=

cleanup() {
	[[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT
trap '[[ -f "$run/daemon.log" ]] && { echo "== daemon log"; cat "$run/daemon.log"; }' ERR

[[ $EUID -eq 0 ]] || { echo "demo: run as root" >&2; exit 1; }
[[ -x "$bpfilter" ]] || { echo "demo: build first (make)" >&2; exit 1; }

ip netns add "$tx"
ip netns add "$rx"
ip -n "$tx" link add veth0 type veth peer name veth1 netns "$rx"
ip -n "$tx" addr add 10.99.0.1/24 dev veth0
ip -n "$rx" addr add 10.99.0.2/24 dev veth1
ip -n "$tx" link set veth0 up
ip -n "$rx" link set veth1 up
ip -n "$tx" link set lo up
ip -n "$rx" link set lo up
# Native XDP on a veth receiver needs the peer to handle XDP frames too.
ip netns exec "$tx" ip link set veth0 xdp off 2>/dev/null || true

echo "== bpfilter daemon on $rx (veth1, hook $hook)"
ip netns exec "$rx" "$bpfilter" daemon --iface veth1 --hook "$hook" \
	--socket "$sock" --state-dir "$run/state" 2>"$run/daemon.log" &
daemon_pid=$!
for _ in $(seq 50); do [[ -S "$sock" ]] && break; sleep 0.1; done
[[ -S "$sock" ]] || { cat "$run/daemon.log"; echo "demo: daemon did not start" >&2; exit 1; }

echo "== iptables-legacy-restore < tests/demo/sample.rules (through bpfilter exec)"
ip netns exec "$rx" "$bpfilter" exec --socket "$sock" -- iptables-legacy-restore < "$rules"

# Listeners on the receiving side, bounded in time.
ip netns exec "$rx" timeout 20 python3 - <<'PY' &
import socket, select, time
socks = []
for port in (22, 8080, 9000):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.99.0.2", port)); s.listen(8); socks.append(s)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.99.0.2", 5353)); socks.append(u)
end = time.time() + 19
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        if s.type == socket.SOCK_STREAM:
            c, _ = s.accept(); c.close()
        else:
            d, a = s.recvfrom(100); s.sendto(d, a)
PY
listener=$!
sleep 0.5

probe() { # name, command (run in the sending namespace)
	local name=$1; shift
	if ip netns exec "$tx" timeout 3 "$@" >/dev/null 2>&1; then
		printf '  %-34s passed\n' "$name"
	else
		printf '  %-34s dropped\n' "$name"
	fi
}
tcp() { python3 -c "import socket,sys; s=socket.create_connection(('10.99.0.2',$1),timeout=1); s.close()"; }
udp() { python3 -c "import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b'x',('10.99.0.2',$1)); s.recv(10)"; }
export -f tcp udp

echo "== traffic from $tx (10.99.0.1) to $rx (10.99.0.2)"
probe "ping x3" ping -c 3 -i 0.2 -W 1 10.99.0.2
probe "tcp 8080 (SERVICES accepts)" bash -c "tcp 8080"
probe "tcp 22 from 10.99/16 (dropped)" bash -c "tcp 22"
probe "tcp 9000 (policy DROP)" bash -c "tcp 9000"
probe "udp 5353 (accepted)" bash -c "udp 5353"
probe "udp 9999 (policy DROP)" bash -c "udp 9999"

echo "== iptables-legacy -L -v -n (counters from the BPF maps)"
ip netns exec "$rx" "$bpfilter" exec --socket "$sock" -- iptables-legacy -L -v -n
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
