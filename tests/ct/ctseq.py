#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one bounded packet sequence from namespace A to B and print, after
every packet, which INPUT rule of B counted it (the counter vector read
with COUNTERS_CMD). Run inside A:

  ctseq.py IFACE SRC_MAC DST_MAC SRC DST 'COUNTERS_CMD' 'B_CMD_PREFIX' [CHAINS [SEQ]]

SEQ "main" (default) is tests/ct/run.sh's sequence, "nat" tests/ct/nat.sh's
(B DNATs tcp 2222 to its port 22 and SNATs its UDP to port 5301 to B2).

The same sequence, run against the kernel's iptables-legacy and against
bpfilter at XDP and at tc, must print the same lines (tests/ct/run.sh).
IPv6 addresses (SRC and DST with a ':') send the IPv6 sequence: the same
TCP and UDP packets, ICMPv6 errors, queries and the messages the kernel
leaves UNTRACKED (MLD, neighbour discovery), for ip6tables-legacy.
Packets are written with AF_PACKET (A's own stack never answers: A drops
its INPUT). B's real TCP stack answers SYNs on port 22; the SYN-ACK is
read back with AF_PACKET to learn B's sequence number.
"""
import os
import socket
import struct
import subprocess
import sys
import time

IFACE, SMAC, DMAC, SRC, DST, COUNTERS, BCMD = sys.argv[1:8]
V6 = ":" in SRC
AF = socket.AF_INET6 if V6 else socket.AF_INET
ICMP = 58 if V6 else 1
# the chains whose counters are compared, in print order
CHAINS = (sys.argv[8] if len(sys.argv) > 8 else "INPUT,OUTPUT").split(",")
SEQ = sys.argv[9] if len(sys.argv) > 9 else "main"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def ip6(proto, payload, src=SRC, dst=DST, hl=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, hl,
                       socket.inet_pton(AF, src), socket.inet_pton(AF, dst)) + payload


def ip4(proto, payload, src=SRC, dst=DST, ident=[1]):
    if V6:
        return ip6(proto, payload, src, dst)
    ident[0] += 1
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident[0], 0,
                    64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def l4sum(proto, seg, src, dst):
    if V6:
        ph = (socket.inet_pton(AF, src) + socket.inet_pton(AF, dst) +
              struct.pack("!IxxxB", len(seg), proto))
        return csum(ph + seg)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(ph + seg)


def tcp(sport, dport, seq, ack, flags, data=b"", win=64240, src=SRC, dst=DST):
    fl = 0
    for c, b in zip("FSRPAU", (1, 2, 4, 8, 16, 32)):
        if c in flags:
            fl |= b
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, fl, win, 0, 0) + data
    seg = seg[:16] + struct.pack("!H", l4sum(6, seg, src, dst)) + seg[18:]
    return ip4(6, seg, src, dst)


def udp(sport, dport, data=b"x", src=SRC, dst=DST):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    seg = seg[:6] + struct.pack("!H", l4sum(17, seg, src, dst) or 0xFFFF) + seg[8:]
    return ip4(17, seg, src, dst)


def icmp_msg(typ, code, rest=b"\0\0\0\0", body=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + body
    return m[:2] + struct.pack("!H", l4sum(58, m, SRC, DST) if V6 else csum(m)) + m[4:]


def icmp(typ, code, rest=b"\0\0\0\0", body=b""):
    return ip4(ICMP, icmp_msg(typ, code, rest, body))


def b_sends_icmp(msg):
    """B's own stack sends an ICMP message to A (a raw socket in B; ICMPv6:
    the kernel fills the checksum in)."""
    subprocess.run(BCMD + " python3 -c \"import socket; s=socket.socket(%d,3,%d); "
                   "s.sendto(bytes.fromhex('%s'),('%s',0))\"" % (AF, ICMP, msg.hex(), SRC),
                   shell=True, timeout=30)
    time.sleep(0.1)
    drain()


def icmp6_ext(typ, body, ext, hl=64):
    """ICMPv6 behind one extension header (`ext`: next header, then its bytes)."""
    m = struct.pack("!BBH", typ, 0, 0) + body
    m = m[:2] + struct.pack("!H", l4sum(58, m, SRC, DST)) + m[4:]
    return ip6(ext[0], bytes([58]) + ext[1:] + m, hl=hl)


ETYPE = 0x86DD if V6 else 0x0800
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETYPE))
s.bind((IFACE, 0))
s.settimeout(0.05)
ETH = mac(DMAC) + mac(SMAC) + struct.pack("!H", ETYPE)


def drain():
    got = []
    while True:
        try:
            got.append(s.recv(2048))
        except socket.timeout:
            return got


def counters():
    """{(chain, "policy" or "ruleN"): packets} for the CHAINS."""
    out = subprocess.run(COUNTERS, shell=True, capture_output=True, text=True,
                         timeout=30).stdout
    vec = {}
    chain = None
    for line in out.splitlines():
        f = line.split()
        if line.startswith("Chain "):
            chain = f[1]
            if chain in CHAINS:
                vec[(chain, "policy")] = f[4]
        elif chain in CHAINS and f and f[0].isdigit():
            vec[(chain, "rule" + f[0])] = f[1]
    return vec


last = None


def send(name, pkt):
    """Send one packet and print which counter moved."""
    global last
    assert len(name) <= 28, "run.sh compares the first 28 columns: " + name
    if last is None:
        last = counters()
    s.send(ETH + pkt)
    time.sleep(0.15)
    now = counters()
    hit = {}
    for k in sorted(now):
        if now[k] != last.get(k):
            hit.setdefault(k[0], []).append(k[1])
    last = now
    print("%-28s %s" % (name, " ".join("%s=%s" % (c, ",".join(hit.get(c, ["none"])))
                                       for c in CHAINS)), flush=True)
    return drain()


def synack_seq(frames, sport):
    for f in frames:
        ip = f[14:]
        if V6:
            if len(ip) < 60 or ip[6] != 6:
                continue
            th = ip[40:]
        elif len(ip) < 40 or ip[9] != 6:
            continue
        else:
            th = ip[(ip[0] & 15) * 4:]
        dp, = struct.unpack("!H", th[2:4])
        if dp == sport and th[13] & 0x12 == 0x12:
            return struct.unpack("!I", th[4:8])[0]
    return None


drain()


def nat_sequence():
    """--ctstate SNAT / DNAT: B's nft nat table made by tests/ct/nat.sh.
    UDP first: B's TCP server closes idle connections after 5 s, and its
    FIN must not land in a later packet's line."""
    b2 = os.environ["CT_NAT_B2"]
    sp = 40200
    # the counters' baseline, so that B's request shows in the next line
    send("udp to B2 before", udp(5303, 5300, b"u", dst=b2))
    subprocess.run(BCMD + " python3 -c \"import socket; s=socket.socket(2,2); "
                   "s.bind(('%s',5300)); s.sendto(b'q',('%s',5301))\"" % (DST, SRC),
                   shell=True, timeout=30)
    time.sleep(0.1)
    drain()
    send("udp reply to snat request", udp(5301, 5300, b"r", dst=b2))
    send("udp second reply snat", udp(5301, 5300, b"r", dst=b2))
    send("udp to B2 no entry", udp(5302, 5300, b"u", dst=b2))
    quoted = udp(5300, 5301, b"q", src=b2, dst=SRC)[:28]
    m = icmp_msg(3, 3, b"\0\0\0\0", quoted)
    send("icmp unreach snat flow", ip4(1, m, dst=b2))
    frames = send("tcp2222 SYN dnat", tcp(sp, 2222, 1000, 0, "S"))
    srv = synack_seq(frames, sp) or 0
    send("tcp2222 ACK dnat", tcp(sp, 2222, 1001, srv + 1, "A"))
    send("tcp2222 data dnat", tcp(sp, 2222, 1001, srv + 1, "PA", b"hello\n"))
    send("tcp22 SYN plain", tcp(sp + 1, 22, 5000, 0, "S"))
    # UNTRACKED: nft notrack rules in B's raw priority chains
    send("udp notrack at prerouting", udp(5301, 5556, b"n"))
    subprocess.run(BCMD + " python3 -c \"import socket; s=socket.socket(2,2); "
                   "s.sendto(b'n',('%s',5555))\"" % SRC, shell=True, timeout=30)
    time.sleep(0.1)
    drain()
    send("udp after B's notrack out", udp(5301, 5557, b"n"))


if SEQ == "nat":
    nat_sequence()
    sys.exit(0)
# --- TCP: handshake, data, out of window, FIN, RST ---------------------
SP = 40100
frames = send("tcp22 SYN", tcp(SP, 22, 1000, 0, "S"))
srv = synack_seq(frames, SP)
if srv is None:
    srv = 0
    print("# no SYN-ACK seen", flush=True)
send("tcp22 SYN retransmit", tcp(SP, 22, 1000, 0, "S"))
drain()
send("tcp22 ACK", tcp(SP, 22, 1001, srv + 1, "A"))
send("tcp22 data", tcp(SP, 22, 1001, srv + 1, "PA", b"hello\n"))
send("tcp22 data out-of-window", tcp(SP, 22, 1007 + 5000000, srv + 1, "PA", b"x"))
send("tcp22 ACK of unsent data", tcp(SP, 22, 1007, srv + 1 + 100000, "A"))
send("tcp22 data retransmitted", tcp(SP, 22, 1001, srv + 1, "PA", b"hello\n"))
send("tcp22 seq far below window", tcp(SP, 22, 1001 - 3000000, srv + 1, "PA", b"y"))
send("tcp22 RST+ACK ack 0 bad seq", tcp(SP, 22, 1007 + 5000000, 0, "RA"))
send("tcp22 SYN in ESTABLISHED", tcp(SP, 22, 99999, 0, "S"))
send("tcp22 SYN-ACK from client", tcp(SP, 22, 1007, srv + 1, "SA"))
send("tcp22 FIN", tcp(SP, 22, 1007, srv + 1, "FA"))
send("tcp22 RST", tcp(SP, 22, 1008, 0, "R"))
# --- TCP without an entry ----------------------------------------------
send("tcp80 SYN (not allowed)", tcp(SP + 1, 80, 5000, 0, "S"))
send("tcp22 ACK no entry (loose)", tcp(SP + 2, 22, 7000, 1, "A"))
send("tcp22 FIN no entry", tcp(SP + 3, 22, 7000, 1, "FA"))
send("tcp22 SYN-ACK no entry", tcp(SP + 4, 22, 7000, 1, "SA"))
send("tcp22 SYN+FIN", tcp(SP + 5, 22, 7000, 0, "SF"))
send("tcp22 no flags", tcp(SP + 6, 22, 7000, 0, ""))
# --- UDP: B asks, A answers -------------------------------------------
subprocess.run(BCMD + " python3 -c \"import socket; s=socket.socket(%d,2); "
               "s.bind(('%s',5300)); s.sendto(b'q',('%s',53))\"" % (AF, DST, SRC),
               shell=True, timeout=30)
time.sleep(0.1)
drain()
send("udp reply to B's request", udp(53, 5300, b"r"))
send("udp second reply", udp(53, 5300, b"r"))
send("udp unsolicited", udp(54, 5301, b"u"))


def icmp4_part():
    quoted = udp(5300, 53, b"q", src=DST, dst=SRC)[:28]
    send("icmp port-unreach RELATED", icmp(3, 3, b"\0\0\0\0", quoted))
    unknown = udp(5999, 53, b"q", src=DST, dst=SRC)[:28]
    send("icmp port-unreach unknown", icmp(3, 3, b"\0\0\0\0", unknown))
    quoted_tcp = tcp(22, SP + 2, 1, 7000, "A", src=DST, dst=SRC)[:28]
    send("icmp unreach about tcp flow", icmp(3, 1, b"\0\0\0\0", quoted_tcp))
    send("icmp echo request", icmp(8, 0, b"\x12\x34\0\1"))
    send("icmp echo request again", icmp(8, 0, b"\x12\x34\0\2"))
    send("icmp echo reply unsolicited", icmp(0, 0, b"\x43\x21\0\1"))
    send("icmp type 42", icmp(42, 0))
    # ICMP queries B sends: A's replies (the ICMP query tracker)
    b_sends_icmp(icmp_msg(8, 0, b"\x51\x51\0\1"))
    send("icmp echo reply to B's ping", icmp(0, 0, b"\x51\x51\0\1"))
    send("icmp echo reply wrong id", icmp(0, 0, b"\x51\x52\0\1"))
    send("icmp echo reply wrong code", icmp(0, 1, b"\x51\x51\0\1"))
    send("icmp echo reply again", icmp(0, 0, b"\x51\x51\0\2"))
    send("icmp echo request A same id", icmp(8, 0, b"\x51\x51\0\3"))
    # ICMP errors quoting B's echo request: RELATED to the tracked query
    qping = ip4(1, icmp_msg(8, 0, b"\x51\x51\0\1"), src=DST, dst=SRC)[:28]
    send("icmp err quoting B's ping", icmp(3, 1, b"\0\0\0\0", qping))
    qother = ip4(1, icmp_msg(8, 0, b"\x59\x98\0\1"), src=DST, dst=SRC)[:28]
    send("icmp err quoting other ping", icmp(3, 1, b"\0\0\0\0", qother))
    b_sends_icmp(icmp_msg(13, 0, b"\x52\x52\0\1", bytes(12)))
    send("icmp timestamp reply to B", icmp(14, 0, b"\x52\x52\0\1", bytes(12)))
    send("icmp echo reply to timestamp", icmp(0, 0, b"\x52\x52\0\1"))
    # B's nf_conntrack_icmp_timeout is CT_ICMP_TIMEOUT seconds (tests/ct/run.sh)
    b_sends_icmp(icmp_msg(8, 0, b"\x53\x53\0\1"))
    time.sleep(float(os.environ.get("CT_ICMP_TIMEOUT", "5")) + 1.5)
    send("icmp echo reply timed out", icmp(0, 0, b"\x53\x53\0\1"))


def icmp6_part():
    # errors (type < 128) about the UDP flow B opened and the TCP flows
    quoted = udp(5300, 53, b"q", src=DST, dst=SRC)[:48]
    send("icmp6 port-unreach RELATED", icmp(1, 4, b"\0\0\0\0", quoted))
    unknown = udp(5999, 53, b"q", src=DST, dst=SRC)[:48]
    send("icmp6 port-unreach unknown", icmp(1, 4, b"\0\0\0\0", unknown))
    wrong_way = udp(53, 5300, b"r", src=SRC, dst=DST)[:48]
    send("icmp6 error quoting reply", icmp(1, 4, b"\0\0\0\0", wrong_way))
    quoted_tcp = tcp(22, SP + 2, 1, 7000, "A", src=DST, dst=SRC)[:48]
    send("icmp6 unreach about tcp flow", icmp(1, 1, b"\0\0\0\0", quoted_tcp))
    send("icmp6 too big about tcp flow", icmp(2, 0, struct.pack("!I", 1280), quoted_tcp))
    send("icmp6 time exceeded udp flow", icmp(3, 0, b"\0\0\0\0", quoted))
    send("icmp6 param problem udp flow", icmp(4, 0, struct.pack("!I", 6), quoted))
    send("icmp6 type 100 about udp", icmp(100, 0, b"\0\0\0\0", quoted))
    send("icmp6 error cut short", icmp(1, 4, b"\0\0\0\0", quoted[:30]))
    # queries: A's, and the replies to B's (the ICMP query tracker)
    send("icmp6 echo request", icmp(128, 0, b"\x12\x34\0\1"))
    send("icmp6 echo reply unsolicited", icmp(129, 0, b"\x43\x21\0\1"))
    b_sends_icmp(icmp_msg(128, 0, b"\x51\x51\0\1"))
    send("icmp6 echo reply to B's ping", icmp(129, 0, b"\x51\x51\0\1"))
    send("icmp6 echo reply wrong id", icmp(129, 0, b"\x51\x52\0\1"))
    send("icmp6 echo reply wrong code", icmp(129, 1, b"\x51\x51\0\1"))
    send("icmp6 echo reply again", icmp(129, 0, b"\x51\x51\0\2"))
    send("icmp6 echo request same id", icmp(128, 0, b"\x51\x51\0\3"))
    # ICMPv6 errors quoting B's echo request: RELATED to the tracked query
    qping = ip6(58, icmp_msg(128, 0, b"\x51\x51\0\1"), src=DST, dst=SRC)
    send("icmp6 err quoting B's ping", icmp(1, 3, b"\0\0\0\0", qping))
    qother = ip6(58, icmp_msg(128, 0, b"\x59\x98\0\1"), src=DST, dst=SRC)
    send("icmp6 err quoting other ping", icmp(1, 3, b"\0\0\0\0", qother))
    # B's nf_conntrack_icmpv6_timeout is CT_ICMP_TIMEOUT seconds (run.sh)
    b_sends_icmp(icmp_msg(128, 0, b"\x53\x53\0\1"))
    time.sleep(float(os.environ.get("CT_ICMP_TIMEOUT", "5")) + 1.5)
    send("icmp6 echo reply timed out", icmp(129, 0, b"\x53\x53\0\1"))
    send("icmp6 type 200", icmp(200, 0))
    send("icmp6 redirect", icmp(137, 0, b"\0\0\0\0", bytes(32)))
    # what the kernel leaves UNTRACKED: MLD, neighbour and router discovery
    group = socket.inet_pton(AF, "ff02::1:ff00:2")
    send("icmp6 mld query", icmp(130, 0, b"\x03\xe8\0\0", bytes(16)))
    send("icmp6 mld report", icmp(131, 0, b"\0\0\0\0", group))
    send("icmp6 mld done", icmp(132, 0, b"\0\0\0\0", group))
    send("icmp6 mldv2 report", icmp(143, 0, b"\0\0\0\0"))
    send("icmp6 mldv2 via hbh RA", icmp6_ext(143, b"\0\0\0\0",
                                              bytes([0, 0, 5, 2, 0, 0, 1, 0]), hl=1))
    send("icmp6 router solicitation", icmp(133, 0))
    send("icmp6 neighbour solicit", icmp(135, 0, b"\0\0\0\0", socket.inet_pton(AF, DST)))
    send("icmp6 mrd solicitation", icmp(152, 0))
    send("icmp6 short", ip6(58, b"\x80\0\0\0"))
    # the walk: no next header; a TCP flow behind a destination options header
    send("ipv6 no next header", ip6(59, b""))
    dopt = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    syn = tcp(SP + 10, 22, 3000, 0, "S")[40:]
    frames = send("tcp22 SYN behind dstopts", ip6(60, dopt + syn))
    seq = synack_seq(frames, SP + 10)
    ack = tcp(SP + 10, 22, 3001, (seq or 0) + 1, "A")[40:]
    send("tcp22 ACK behind dstopts", ip6(60, dopt + ack))
    # errors about that established TCP flow, quoting B's segment
    quoted_est = tcp(22, SP + 10, (seq or 0) + 1, 3001, "A", src=DST, dst=SRC)[:60]
    send("icmp6 too big, tcp flow", icmp(2, 0, struct.pack("!I", 1280), quoted_est))
    send("icmp6 unreach, tcp flow", icmp(1, 1, b"\0\0\0\0", quoted_est))
    inner = quoted_est[40:]
    quoted_dopt = ip6(60, dopt + inner, src=DST, dst=SRC)
    send("icmp6 error quoting dstopts", icmp(1, 1, b"\0\0\0\0", quoted_dopt))
    frag0 = bytes([6, 0, 0, 1, 0, 0, 0, 7])  # offset 0, more fragments
    quoted_frag = ip6(44, frag0 + inner, src=DST, dst=SRC)
    send("icmp6 error quoting 1st frag", icmp(3, 1, b"\0\0\0\0", quoted_frag))
    frag1 = bytes([6, 0, 0, 0x11, 0, 0, 0, 7])  # offset 16: no ports
    quoted_frag1 = ip6(44, frag1 + inner, src=DST, dst=SRC)
    send("icmp6 error quoting 2nd frag", icmp(3, 1, b"\0\0\0\0", quoted_frag1))
    big = bytes([6, 1]) + bytes([1, 12]) + bytes(12)  # 16 bytes: beyond the copy
    quoted_big = ip6(60, big + inner, src=DST, dst=SRC)
    send("icmp6 error quoting 16B dst", icmp(1, 1, b"\0\0\0\0", quoted_big))


if V6:
    icmp6_part()
else:
    icmp4_part()
