#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The kernel facts bpfilter's IPv6 program relies on (codegen/gen6.c),
measured on this machine with the kernel's own ip6tables-legacy: which
packets never reach netfilter, what the extension-header walk of
ip6_packet_match does, what FORWARD sees of the hop limit. TAP output.

Three private network namespaces: A (sender) -- B (router, the rules) --
C. Frames are written raw (AF_PACKET) from A with source MAC
02:00:00:00:00:01, which B's counting rules require (A's own neighbour
discovery and MLD traffic does not count); the verdict is read from the
counters of B's rules.

    tests/packet/kernel6.py        needs root; exit 4 = skipped
"""
import os
import socket
import struct
import subprocess
import sys
import time

PID = os.getpid()
NS = {n: "g6%s%d" % (n, PID) for n in "abc"}

RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i b0 -m mac --mac-source 02:00:00:00:00:01
-A INPUT -p tcp --dport 7777
-A INPUT -i b0 -m mac --mac-source 02:00:00:00:00:01
-A FORWARD -i b0 -m mac --mac-source 02:00:00:00:00:01
-A FORWARD -m hl --hl-eq 1
-A FORWARD -m hl --hl-eq 63
COMMIT
"""


def sh(cmd, ns=None, check=True, inp=None):
    if ns:
        cmd = "ip netns exec %s %s" % (NS[ns], cmd)
    r = subprocess.run(cmd, shell=True, input=inp, capture_output=True,
                       text=True, timeout=30)
    if check and r.returncode:
        raise RuntimeError("%s: %s" % (cmd, r.stderr.strip()))
    return r.stdout


def setup():
    for n in "abc":
        sh("ip netns add " + NS[n])
        sh("sysctl -qw net.ipv6.conf.all.accept_dad=0", n)
        sh("sysctl -qw net.ipv6.conf.default.accept_dad=0", n)
    sh("ip link add a0 netns %s type veth peer name b0 netns %s" % (NS["a"], NS["b"]))
    sh("ip link add b1 netns %s type veth peer name c0 netns %s" % (NS["b"], NS["c"]))
    for n, dev, addr in (("a", "a0", "fd00:1::2/64"), ("b", "b0", "fd00:1::1/64"),
                         ("b", "b1", "fd00:2::1/64"), ("c", "c0", "fd00:2::2/64")):
        sh("ip addr add %s dev %s nodad" % (addr, dev), n)
        sh("ip link set %s up" % dev, n)
    sh("sysctl -qw net.ipv6.conf.all.forwarding=1", "b")
    c_mac = sh("cat /sys/class/net/c0/address", "c").strip()
    sh("ip -6 neigh replace fd00:2::2 lladdr %s dev b1" % c_mac, "b")
    sh("ip6tables-legacy-restore", "b", inp=RULES)
    return sh("cat /sys/class/net/b0/address", "b").strip()


def cleanup():
    for n in "abc":
        sh("ip netns del " + NS[n], check=False)


def counters():
    """{(chain, n): (packets, bytes)} of B's rules"""
    out = sh("ip6tables-legacy -L -v -x -n", "b")
    res, chain, n = {}, None, 0
    for line in out.splitlines():
        f = line.split()
        if line.startswith("Chain "):
            chain, n = f[1], 0
        elif f and f[0].isdigit():
            n += 1
            res[(chain, n)] = (int(f[0]), int(f[1]))
    return res


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def addr(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ext(kind, nxt, **kw):
    if kind in ("hop", "dst"):
        return bytes([nxt, 0, 1, 4]) + kw.get("pad", b"\0\0\0\0")
    if kind == "frag":
        return bytes([nxt, 0]) + struct.pack("!HI", kw["off"], 0x1234)
    raise ValueError(kind)


EXT_TYPE = {"hop": 0, "dst": 60, "frag": 44}


def frame(dmac, src, dst, proto, l4, exts=(), hl=64, plen=None):
    """exts: [(kind, kwargs)]; the last header's next is proto"""
    body = b""
    types = [EXT_TYPE[k] for k, _ in exts] + [proto]
    for i, (k, kw) in enumerate(exts):
        body += ext(k, types[i + 1], **kw)
    body += l4
    if plen is None:
        plen = len(body)
    ip = struct.pack("!IHBB", 6 << 28, plen, types[0], hl) + addr(src) + addr(dst)
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex("020000000001") + b"\x86\xdd"
    return eth + ip + body


def udp(src, dst, sport=1000, dport=9):
    pl = b"x" * 4
    h = struct.pack("!HHHH", sport, dport, 8 + len(pl), 0)
    ph = addr(src) + addr(dst) + struct.pack("!I3xB", 8 + len(pl), 17)
    c = csum(ph + h + pl) or 0xffff
    return struct.pack("!HHHH", sport, dport, 8 + len(pl), c) + pl


def tcp(dport=7777):
    return struct.pack("!HHIIBBHHH", 1000, dport, 1, 0, 5 << 4, 2, 1000, 0, 0)


def send(fr):
    # from namespace A: a child process enters it
    hexs = fr.hex()
    sh("python3 -c \"import socket;s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW);"
       "s.bind(('a0',0));s.send(bytes.fromhex('%s'))\"" % hexs, "a")
    time.sleep(0.05)


N = 0
FAILED = 0


def check(name, fr, want):
    """want: {(chain, rule): packets delta, or (packets, bytes)}"""
    global N, FAILED
    sh("ip6tables-legacy -Z", "b")
    send(fr)
    got = counters()
    bad = []
    for k, w in want.items():
        p, b = got.get(k, (None, None))
        if isinstance(w, tuple):
            if (p, b) != w:
                bad.append("%s#%d %s/%s want %s/%s" % (k[0], k[1], p, b, w[0], w[1]))
        elif p != w:
            bad.append("%s#%d %s want %s" % (k[0], k[1], p, w))
    N += 1
    if bad:
        FAILED += 1
        print("not ok %d - %s: %s" % (N, name, "; ".join(bad)))
    else:
        print("ok %d - %s" % (N, name))


def main():
    if os.geteuid():
        print("1..0 # SKIP needs root")
        return 4
    try:
        bmac = setup()
        run(bmac)
    finally:
        cleanup()
    print("1..%d" % N)
    return 1 if FAILED else 0


def run(bmac):
    A, B, C = "fd00:1::2", "fd00:1::1", "fd00:2::2"
    I1, I2, I3 = ("INPUT", 1), ("INPUT", 2), ("INPUT", 3)
    F1, F2, F3 = ("FORWARD", 1), ("FORWARD", 2), ("FORWARD", 3)
    u = udp(A, B)
    check("udp to B reaches INPUT, bytes = payload_len + 40",
          frame(bmac, A, B, 17, u), {I1: (1, 52), I3: 1})
    check("Ethernet padding is not counted",
          frame(bmac, A, B, 17, u) + b"\0" * 30, {I1: (1, 52)})
    check("payload_len past the frame: never reaches INPUT",
          frame(bmac, A, B, 17, u, plen=len(u) + 1), {I1: 0})
    check("v4-mapped source reaches INPUT (6.18 has no such check)",
          frame(bmac, "::ffff:10.0.0.1", B, 17, u), {I1: 1})
    check("::1 source: never reaches INPUT", frame(bmac, "::1", B, 17, u), {I1: 0})
    check("::1 destination: never reaches INPUT", frame(bmac, A, "::1", 17, u), {I1: 0})
    check("multicast source: never reaches INPUT",
          frame(bmac, "ff02::1", B, 17, u), {I1: 0})
    check("ff01::1 (interface-local) destination: never reaches INPUT",
          frame("33:33:00:00:00:01", A, "ff01::1", 17, u), {I1: 0})
    check("ff00::1 (scope 0) destination: never reaches INPUT",
          frame("33:33:00:00:00:01", A, "ff00::1", 17, u), {I1: 0})
    check("ff02::1 destination reaches INPUT",
          frame("33:33:00:00:00:01", A, "ff02::1", 17, u), {I1: 1})
    check("tcp behind hop-by-hop and destination options: -p tcp --dport matches",
          frame(bmac, A, B, 6, tcp(), [("hop", {}), ("dst", {})]), {I1: 1, I2: 1, I3: 1})
    check("non-first fragment reaches INPUT unreassembled; --dport never matches it",
          frame(bmac, A, B, 6, tcp(), [("frag", {"off": 8})]), {I1: 1, I2: 0, I3: 1})
    check("non-first fragment followed by an extension header: -p tcp hotdrops",
          frame(bmac, A, B, 6, tcp(), [("frag", {"off": 16}), ("dst", {})]),
          {I1: 1, I2: 0, I3: 0})
    check("9 destination options headers: -p tcp --dport still matches "
          "(bpfilter walks 8: designed difference)",
          frame(bmac, A, B, 6, tcp(), [("dst", {})] * 9), {I1: 1, I2: 1})
    check("hop-by-hop PadN with non-zero padding: never reaches INPUT "
          "(bpfilter does not check TLVs: designed difference)",
          frame(bmac, A, B, 17, u, [("hop", {"pad": b"\1\0\0\0"})]), {I1: 0})
    hb = frame(bmac, A, B, 17, u, [("hop", {})], plen=0) + b"\0" * 6
    check("payload_len 0 with hop-by-hop: not trimmed, counted as the frame",
          hb, {I1: (1, len(hb) - 14)})
    check("hop-by-hop header longer than the payload: never reaches INPUT",
          frame(bmac, A, B, 17, b"", [("hop", {})], plen=4), {I1: 0})
    uc = udp(A, C)
    check("forward, hop limit 1: dropped before FORWARD",
          frame(bmac, A, C, 17, uc, hl=1), {F1: 0})
    check("forward, hop limit 2: FORWARD sees 1",
          frame(bmac, A, C, 17, uc, hl=2), {F1: 1, F2: 1})
    check("forward, hop limit 64: FORWARD sees 63",
          frame(bmac, A, C, 17, uc, hl=64), {F1: 1, F3: 1})


if __name__ == "__main__":
    sys.exit(main())
