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
    tests/packet/kernel6.py --cases [CASE.rules6 ...]
        the expectations of the IPv6 packet cases (tests/packet/cases/
        *.rules6 + .pkts) against the kernel: a fourth namespace X loads
        the case with ip6tables-legacy-restore; a packet reached the hook
        when a mangle-table rule (priority -150) counted it and got
        through when a security-table rule (priority 50) did too. INPUT
        and FORWARD frames come from A into X's eth0, OUTPUT packets from
        a raw socket in X; every destination is local for INPUT (a local
        default route), routed out of oif for FORWARD and OUTPUT.
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


# ---- --cases: the packet cases' expectations against the kernel ----------

NEXT = {"hop": 0, "dst": 60, "rt": 43, "frag": 44, "ah": 51, "none": 59}
PROTO = {"tcp": 6, "udp": 17, "icmp6": 58, "ipv6-icmp": 58}
FLAGS = "FSRPAUEC"
COUNT = "-m hl --hl-gt 1 -m hl --hl-lt 255"	# not ND (255) nor MLD (1)


def pkt_spec(line):
    """bpfilter test -6's packet line (the keys the cases use)"""
    p = {"src": "fd00::2", "dst": "fd00::1", "proto": "tcp", "sport": "40000",
         "dport": "80", "flags": "S", "type": "128", "code": "0", "ttl": "64",
         "frag": "none", "pkttype": "unicast", "smac": "02:00:00:00:00:02",
         "iif": "", "oif": "", "ext": "", "rt": "0:0", "len": "",
         "fh": "1", "hopts": "", "dopts": ""}
    for tok in line.split():
        k, v = tok.split("=", 1)
        if k not in p:
            raise ValueError("key %s" % k)
        p[k] = v
    return p


def opts_hdr(nxt, hexopts):
    """a hop-by-hop / destination header: hopts=/dopts= bytes after its
    first two, zero padded to 8-byte units; none: one PadN (bpfilter test -6)"""
    if not hexopts:
        return bytes([nxt, 0, 1, 4, 0, 0, 0, 0])
    o = bytes.fromhex(hexopts)
    n = (2 + len(o) + 7) // 8 * 8
    return bytes([nxt, n // 8 - 1]) + o + b"\0" * (n - 2 - len(o))


def pkt_ip6(p):
    """the IPv6 packet (header, extension headers, L4) of a spec"""
    proto = PROTO.get(p["proto"], None)
    proto = int(p["proto"]) if proto is None else proto
    exts = [e for e in p["ext"].split(",") if e]
    nonfirst = p["frag"] not in ("none", "first")
    if proto == 6:
        fl = sum(1 << i for i, c in enumerate(FLAGS) if c in p["flags"])
        l4 = struct.pack("!HHIIBBHHH", int(p["sport"]), int(p["dport"]), 1, 0,
                         5 << 4, fl, 1000, 0, 0)
    elif proto == 17:
        l4 = struct.pack("!HHHH", int(p["sport"]), int(p["dport"]), 8, 0)
    elif proto == 58:
        l4 = struct.pack("!BBHHH", int(p["type"]), int(p["code"]), 0, 1, 1)
    else:
        l4 = b""
    if nonfirst:
        l4 = b"\0" * 8
    body = b""
    types = [NEXT[e] for e in exts] + [proto]
    for i, e in enumerate(exts):
        nxt = types[i + 1]
        if e == "none":
            l4 = b""
            break
        if e in ("hop", "dst"):
            body += opts_hdr(nxt, p["hopts" if e == "hop" else "dopts"])
        elif e == "rt":
            rt = [int(x, 0) for x in p["rt"].split(":")] + [0, 0, 0]
            body += bytes([nxt, rt[2], rt[0], rt[1]]) + struct.pack("!I", rt[3])
            body += b"\0" * (rt[2] * 8)
        elif e == "frag":
            off = 1 if p["frag"] == "first" else (185 << 3 if nonfirst else 0)
            if p["frag"] not in ("none", "first", "nonfirst"):
                off = int(p["frag"], 0) << 3
            # fh=ID[:RES[:BITS[:M]]] (as bpfilter test -6)
            fh = [int(x, 0) for x in p["fh"].split(":")]
            if len(fh) == 4:
                off = (off & ~1) | fh[3]
            if len(fh) > 2:
                off |= fh[2] << 1
            res = fh[1] if len(fh) > 1 else 0
            body += bytes([nxt, res]) + struct.pack("!HI", off, fh[0])
        elif e == "ah":
            body += bytes([nxt, 2, 0, 0]) + struct.pack("!II", 1, 1) + b"\0" * 4
    body += l4
    if p["len"]:    # the whole packet, cut or zero padded
        n = int(p["len"]) - 40
        body = body[:n] + b"\0" * (n - len(body[:n]))
    return (struct.pack("!IHBB", 6 << 28, len(body), types[0], int(p["ttl"]))
            + addr(p["src"]) + addr(p["dst"]) + body)


def pkt_frame(p, xmac):
    dmac = {"unicast": xmac, "broadcast": "ff:ff:ff:ff:ff:ff",
            "multicast": "33:33:00:00:00:01"}[p["pkttype"]]
    return (bytes.fromhex(dmac.replace(":", "")) +
            bytes.fromhex(p["smac"].replace(":", "")) + b"\x86\xdd" + pkt_ip6(p))


def sections(pkts, chain):
    """[(expect, line, name)] of one chain, defaults applied (as run.sh)"""
    out, on, defs = [], False, []
    for raw in open(pkts):
        if raw.startswith("--- "):
            f = raw.split()
            on, defs = f[1] == chain, f[2:]
            continue
        line = raw.split("#", 1)
        name = line[1].strip() if len(line) > 1 else ""
        line = line[0].strip()
        if not on or not line:
            continue
        want, rest = line.split(None, 1) if " " in line else (line, "")
        keys = {t.split("=")[0] for t in rest.split()}
        rest = " ".join([rest] + [d for d in defs if d.split("=")[0] not in keys])
        out.append((want, rest.strip(), name or rest))
    return out


def xsetup():
    for n in ("a", "x", "c"):
        sh("ip netns add " + NS[n])
        sh("sysctl -qw net.ipv6.conf.all.accept_dad=0", n)
        sh("sysctl -qw net.ipv6.conf.default.accept_dad=0", n)
    sh("ip link add a0 netns %s type veth peer name eth0 netns %s" % (NS["a"], NS["x"]))
    for i in (1, 2):
        sh("ip link add eth%d netns %s type veth peer name c%d netns %s"
           % (i, NS["x"], i, NS["c"]))
        sh("ip link set c%d up" % i, "c")
    sh("sysctl -qw net.ipv6.conf.a0.disable_ipv6=1", "a")
    sh("ip link set a0 up", "a")
    for i in (0, 1, 2):
        sh("ip link set eth%d up" % i, "x")
        sh("ip addr add fd00:%d::1/64 dev eth%d nodad" % (10 + i, i), "x")
    sh("ip link set lo up", "x")
    sh("sysctl -qw net.ipv6.conf.all.forwarding=1", "x")
    for t in ("mangle", "security"):
        for ch in ("INPUT", "FORWARD", "OUTPUT"):
            sh("ip6tables-legacy -t %s -A %s %s" % (t, ch, COUNT), "x")
    return sh("cat /sys/class/net/eth0/address", "x").strip()


def xcount():
    res = {}
    for t in ("mangle", "security"):
        out = sh("ip6tables-legacy -t %s -L -v -x -n" % t, "x")
        ch = None
        for line in out.splitlines():
            f = line.split()
            if line.startswith("Chain "):
                ch = f[1]
            elif f and f[0].isdigit():
                res[(t, ch)] = int(f[0])
    return res


def xverdict(chain, p, xmac):
    sh("ip6tables-legacy -t mangle -Z", "x")
    sh("ip6tables-legacy -t security -Z", "x")
    if chain != "INPUT":
        sh("ip -6 route replace %s/128 dev %s" % (p["dst"], p["oif"]), "x")
        sh("ip -6 neigh replace %s lladdr 02:00:00:00:01:fe dev %s nud permanent"
           % (p["dst"], p["oif"]), "x")
    if chain == "OUTPUT":
        sh("python3 -c \"import socket;s=socket.socket(socket.AF_INET6,socket.SOCK_RAW,"
           "socket.IPPROTO_RAW);s.sendto(bytes.fromhex('%s'),('%s',0))\""
           % (pkt_ip6(p).hex(), p["dst"]), "x", check=False)
    else:
        send(pkt_frame(p, xmac))
    c = xcount()
    if not c.get(("mangle", chain)):
        return "NOHOOK"
    return "ACCEPT" if c.get(("security", chain)) else "DROP"


def run_cases(files):
    global N, FAILED
    xmac = xsetup()
    for rules in files:
        pkts = rules[:rules.rindex(".rules")] + ".pkts"
        if any(l.startswith("# netns: ") for l in open(rules)):
            # its routes would leak into the shared namespace X (and this
            # script's INPUT trick, a local ::/0 route, into its answers):
            # run.sh --kernel plays it in a namespace of its own, set up by
            # those lines, against the same ip6tables-legacy
            N += 1
            print("ok %d - %s: # SKIP has '# netns:' set-up lines: checked by "
                  "tests/packet/run.sh --kernel" % (N, os.path.basename(rules)))
            continue
        sh("ip6tables-legacy-restore", "x", inp=open(rules).read())
        for chain in ("INPUT", "FORWARD", "OUTPUT"):
            if chain == "INPUT":
                sh("ip -6 route replace local ::/0 dev lo table local", "x")
            else:
                sh("ip -6 route del local ::/0 dev lo table local", "x", check=False)
            for want, line, name in sections(pkts, chain):
                p = pkt_spec(line)
                got = xverdict(chain, p, xmac)
                N += 1
                label = "%s %s kernel: %s" % (os.path.basename(rules), chain, name)
                if got == want:
                    print("ok %d - %s" % (N, label))
                else:
                    FAILED += 1
                    print("not ok %d - %s: kernel %s, expected %s (%s)"
                          % (N, label, got, want, line))


def main_cases(files):
    if os.geteuid():
        print("1..0 # SKIP needs root")
        return 4
    if not files:
        here = os.path.dirname(os.path.abspath(__file__))
        files = sorted(os.path.join(here, "cases", f)
                       for f in os.listdir(os.path.join(here, "cases"))
                       if f.endswith(".rules6"))
    NS["x"] = "g6x%d" % PID
    try:
        run_cases(files)
    finally:
        for n in ("a", "x", "c"):
            sh("ip netns del " + NS[n], check=False)
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--cases":
        sys.exit(main_cases(sys.argv[2:]))
    sys.exit(main())
