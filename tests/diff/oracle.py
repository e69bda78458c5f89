#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The kernel as a verdict oracle for bpfilter's differential tests.

    oracle.py [-6] [-v] --chain INPUT|FORWARD|OUTPUT RULES < PACKETS

RULES is an iptables-save file (ip6tables-save with -6); it is loaded with
the kernel's own iptables-legacy-restore (ip6tables-legacy-restore) in a
fresh network namespace (unshare --net, gone when this process exits). PACKETS has one packet per line in the syntax of
`bpfilter test` (key=value tokens, see parse_packet()). One verdict per
line is printed, in input order:

    ACCEPT  the packet got through the chain
    DROP    it reached the chain's hook and did not get through
    NOHOOK  it never reached the hook (the IP stack held or dropped it
            first, e.g. a lone fragment at INPUT waiting for reassembly)

How each chain is observed (write() on a TAP fd returns only after the
receive path ran, so no waiting is needed for the positive answer):
  INPUT    the frame is written into TAP `iif`; every destination is local
           (a local default route); ACCEPT = a raw socket of the packet's
           protocol received it (raw sockets are served after LOCAL_IN).
  FORWARD  the frame is written into TAP `iif`; the default route points
           out of TAP `oif` through a permanent neighbour; ACCEPT = the
           packet came out of `oif`.
  OUTPUT   the packet is sent from a raw IP_HDRINCL socket, routed out of
           TAP `oif`; ACCEPT = it came out of `oif`.
A packet that did not get through but that a counting rule in the
security table (same hook, priority 50, after filter) saw is ACCEPT too.
IPv6 (-6): ip6tables-legacy, a local ::/0 route at INPUT, forwarding on at
FORWARD, devices without addresses (no MLD or DAD of their own). Each
packet carries its own flow label (no match reads it), and the security
table holds one u32 rule per packet matching it: pass 1 counts what got
through the filter chain, pass 2 (an empty filter table) what reached the
hook, one counter read per pass and nothing to wait for (judge_ident()).
Packets that did not get through are sent again with an empty filter
table: those that get through then, or that the chain's policy counter
counts, were dropped by the chain (DROP); the others never reached it
(NOHOOK). Everything here is stateless, so the second pass sees what the
first one did.
"""

import argparse
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

CHAINS = ("INPUT", "FORWARD", "OUTPUT")
PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}
TCP_FLAGS = "FSRPAUEC"		# bit 0 .. bit 7 of TCP byte 13
FRAG_OFF = 185			# non-first fragments: offset 1480 bytes
GW = "192.0.2.254"		# FORWARD/OUTPUT next hop (permanent neighbour)
GW_MAC = "02:00:00:00:01:fe"
SRC_MAC = bytes.fromhex("020000000002")	# bpfilter test's default smac=

GW6 = "fe80::1"
IPV6_FLOWINFO = 11		# <linux/in6.h>; Python's socket module lacks it
EXT_HDRS = {"hop": 0, "rt": 43, "frag": 44, "ah": 51, "none": 59, "dst": 60}

# The kernel's tools for the family (inner() switches them for -6).
TOOLS = {"ipt": "iptables-legacy", "restore": "iptables-legacy-restore"}

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

# Defaults for fields a packet line leaves out: those of `bpfilter test`
# (umh/cli/pktline.h), except that the kernel needs real devices: iif/oif
# default per chain to INPUT eth0/-, FORWARD eth0/eth1, OUTPUT -/eth1.
DEFAULTS = {"src": "10.0.0.2", "dst": "10.0.0.1", "proto": "tcp",
            "sport": "40000", "dport": "80", "flags": "S", "type": "8",
            "code": "0", "ttl": "64", "frag": "none"}
KEYS = set(DEFAULTS) | {"iif", "oif", "len", "pkttype", "smac", "opts", "mark",
                        "wait"}
SO_MARK = 36
# IPv6 (`bpfilter test -6`): the same keys and ext=; ttl= is the hop limit.
DEFAULTS6 = dict(DEFAULTS, src="fd00::2", dst="fd00::1", type="128")
KEYS6 = KEYS | {"ext", "rt", "fh", "hopts", "dopts"}
PROTOS6 = {"tcp": 6, "udp": 17, "icmp6": 58, "icmpv6": 58}
# pkttype= names the Ethernet destination (umh/cli/pktline.h); unicast is
# the receiving tap's own address here.
L2_DST = {"broadcast": b"\xff" * 6, "multicast": bytes.fromhex("01005e000001")}


class PacketError(Exception):
    pass


def parse_packet(line, chain, family=4):
    """Parse one packet line into a dict of typed fields."""
    fields = dict(DEFAULTS if family == 4 else DEFAULTS6)
    fields["iif"] = "" if chain == "OUTPUT" else "eth0"
    fields["oif"] = "" if chain == "INPUT" else "eth1"
    for tok in line.split():
        key, sep, val = tok.partition("=")
        if not sep or key not in (KEYS if family == 4 else KEYS6):
            raise PacketError("bad token '%s'" % tok)
        fields[key] = val
    pkt = {"family": family}
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    try:
        pkt["src"] = socket.inet_pton(af, fields["src"])
        pkt["dst"] = socket.inet_pton(af, fields["dst"])
    except OSError as exc:
        raise PacketError("bad address: %s" % exc) from None
    proto = fields["proto"]
    names = PROTOS if family == 4 else PROTOS6
    pkt["proto"] = names[proto] if proto in names else int(proto)
    ext = fields.get("ext", "")
    pkt["ext"] = [e for e in ext.split(",") if e] if ext else []
    for e in pkt["ext"]:
        if e not in EXT_HDRS:
            raise PacketError("bad extension header '%s'" % e)
    # rt=TYPE:SEGS[:HDRLEN[:RESERVED]], the routing header of ext=rt (as
    # `bpfilter test -6`): HDRLEN 8-byte units follow its first 8 bytes.
    try:
        rt = [int(x, 0) for x in fields.get("rt", "0:0").split(":")]
    except ValueError:
        raise PacketError("bad rt '%s'" % fields["rt"]) from None
    if not 2 <= len(rt) <= 4 or any(v < 0 for v in rt) or \
       max(rt[:3]) > 255 or (len(rt) == 4 and rt[3] > 0xFFFFFFFF):
        raise PacketError("bad rt '%s'" % fields.get("rt"))
    pkt["rt"] = (rt + [0, 0])[:4]
    # fh=ID[:RES[:BITS[:M]]] and hopts=/dopts=HEX (as `bpfilter test -6`)
    try:
        fh = [int(x, 0) for x in fields["fh"].split(":")] if "fh" in fields else None
        pkt["hopts"] = bytes.fromhex(fields.get("hopts", ""))
        pkt["dopts"] = bytes.fromhex(fields.get("dopts", ""))
    except ValueError:
        raise PacketError("bad fh/hopts/dopts") from None
    if fh is not None and not 1 <= len(fh) <= 4:
        raise PacketError("bad fh '%s'" % fields["fh"])
    pkt["fh"] = fh
    for key in ("sport", "dport", "type", "code", "ttl"):
        pkt[key] = int(fields[key], 0)
    flags = 0
    for letter in "" if fields["flags"] == "none" else fields["flags"]:
        if letter not in TCP_FLAGS:
            raise PacketError("bad TCP flag '%s'" % letter)
        flags |= 1 << TCP_FLAGS.index(letter)
    pkt["flags"] = flags
    frag = fields["frag"]
    if frag == "nonfirst":
        frag = FRAG_OFF
    elif frag not in ("none", "first"):
        frag = int(frag, 0)
        if not 1 <= frag <= 0x1FFF:
            raise PacketError("bad frag offset %d" % frag)
    pkt["frag"] = frag
    if family == 6 and frag != "none" and "frag" not in pkt["ext"]:
        # As `bpfilter test -6`: a fragment header, before a final none.
        at = len(pkt["ext"]) - (pkt["ext"][-1:] == ["none"])
        pkt["ext"].insert(at, "frag")
    pkt["iif"] = fields["iif"]
    pkt["oif"] = fields["oif"]
    pkt["len"] = int(fields["len"], 0) if "len" in fields else None
    try:
        pkt["mark"] = int(fields.get("mark", "0"), 0)
    except ValueError:
        raise PacketError("bad mark '%s'" % fields["mark"]) from None
    if not 0 <= pkt["mark"] <= 0xFFFFFFFF:
        raise PacketError("bad mark '%s'" % fields["mark"])
    try:
        pkt["wait"] = int(fields.get("wait", "0"))
    except ValueError:
        raise PacketError("bad wait '%s'" % fields["wait"]) from None
    pkttype = fields.get("pkttype", "unicast")
    if pkttype != "unicast" and pkttype not in L2_DST:
        raise PacketError("bad pkttype '%s'" % pkttype)
    if pkttype != "unicast" and chain == "OUTPUT":
        raise PacketError("OUTPUT packets are locally generated: pkttype is unicast")
    pkt["l2dst"] = L2_DST.get(pkttype)
    if family == 6 and pkttype == "multicast":
        pkt["l2dst"] = bytes.fromhex("333300000001")	# as bpfilter test -6
    try:
        pkt["smac"] = (bytes.fromhex(fields["smac"].replace(":", ""))
                       if "smac" in fields else SRC_MAC)
    except ValueError:
        raise PacketError("bad smac '%s'" % fields["smac"]) from None
    if len(pkt["smac"]) != 6:
        raise PacketError("bad smac '%s'" % fields["smac"])
    opts = fields.get("opts", "none")
    try:
        pkt["opts"] = b"" if opts == "none" else bytes.fromhex(opts)
    except ValueError:
        raise PacketError("bad opts '%s'" % opts) from None
    if len(pkt["opts"]) > 40 or (opts != "none" and not pkt["opts"]):
        raise PacketError("bad opts '%s'" % opts)
    pkt["opts"] += b"\0" * (-len(pkt["opts"]) % 4)
    if chain == "INPUT" and (not pkt["iif"] or pkt["oif"]):
        raise PacketError("INPUT needs iif= and no oif=")
    if chain == "FORWARD" and (not pkt["iif"] or not pkt["oif"]):
        raise PacketError("FORWARD needs iif= and oif=")
    if chain == "OUTPUT" and (pkt["iif"] or not pkt["oif"]):
        raise PacketError("OUTPUT needs oif= and no iif=")
    return pkt


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def l4_header(pkt):
    src, dst, proto = pkt["src"], pkt["dst"], pkt["proto"]
    if pkt["family"] == 6 and proto == 58:
        hdr = struct.pack("!BBHHH", pkt["type"], pkt["code"], 0, 1, 1)
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr), 58)
        return hdr[:2] + struct.pack("!H", csum(pseudo + hdr)) + hdr[4:]
    if proto == 6:
        hdr = struct.pack("!HHIIBBHHH", pkt["sport"], pkt["dport"], 1, 0,
                          (5 + len(pkt["opts"]) // 4) << 4, pkt["flags"],
                          65535, 0, 0) + pkt["opts"]
    elif proto == 17:
        hdr = struct.pack("!HHHH", pkt["sport"], pkt["dport"], 8, 0)
    elif proto == 1 and pkt["family"] == 4:
        hdr = struct.pack("!BBHHH", pkt["type"], pkt["code"], 0, 1, 1)
        return hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    else:
        return b""
    if pkt["family"] == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(hdr))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr), proto)
    ck = csum(pseudo + hdr)
    off = 16 if proto == 6 else 6
    return hdr[:off] + struct.pack("!H", ck) + hdr[off + 2:]


def build_ip(pkt, ident):
    """The IPv4 datagram for a packet line (header checksum filled)."""
    if isinstance(pkt["frag"], int):
        body = b"\xa5" * 8
        fragw = pkt["frag"]
    else:
        body = l4_header(pkt)
        fragw = 0x2000 if pkt["frag"] == "first" else 0
    total = 20 + len(body) if pkt["len"] is None else pkt["len"]
    if total < 20 or total > 1500:
        raise PacketError("len=%d out of range 20..1500" % total)
    body = (body + b"\0" * total)[:total - 20]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, fragw,
                      pkt["ttl"], pkt["proto"], 0, pkt["src"], pkt["dst"])
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body


def ext_header(kind, nexthdr, pkt, ident):
    """One IPv6 extension header (8 bytes, AH 16) announcing nexthdr."""
    if kind in ("hop", "dst"):
        opts = pkt.get("hopts" if kind == "hop" else "dopts")
        if not opts:
            return bytes([nexthdr, 0, 1, 4, 0, 0, 0, 0])	# PadN
        n = (2 + len(opts) + 7) // 8 * 8
        return bytes([nexthdr, n // 8 - 1]) + opts + b"\0" * (n - 2 - len(opts))
    if kind == "rt":
        rtype, segs, hdrlen, res = pkt["rt"]
        return bytes([nexthdr, hdrlen, rtype, segs]) + struct.pack("!I", res) + \
            b"\0" * (hdrlen * 8)
    if kind == "frag":
        frag = pkt["frag"]
        if isinstance(frag, int):
            word = frag << 3
        else:
            word = 1 if frag == "first" else 0
        fh = pkt.get("fh")
        if not fh:
            return struct.pack("!BBHI", nexthdr, 0, word, ident)
        if len(fh) == 4:
            word = (word & ~1) | fh[3]
        if len(fh) > 2:
            word |= fh[2] << 1
        return struct.pack("!BBHI", nexthdr, fh[1] if len(fh) > 1 else 0,
                           word, fh[0])
    # AH: 12 bytes of header and a 4-byte ICV, length in 4-byte units - 2.
    return struct.pack("!BBHII", nexthdr, 2, 0, 1, 1) + b"\0" * 4


def build_ip6(pkt, ident):
    """The IPv6 datagram for a packet line: the extension headers in order
    (ext=), then the L4 header, or 8 payload bytes after a non-first
    fragment; payload_len always what is there; the flow label is ident."""
    exts = pkt["ext"]
    if "none" in exts:
        exts = exts[:exts.index("none") + 1]
    nonfirst = isinstance(pkt["frag"], int)
    if nonfirst:
        # 8 payload bytes, as `bpfilter test -6` (BF_PKT_NONFIRST_LEN),
        # also after a final ext=...,none
        body = b"\xa5" * 8
    elif exts and exts[-1] == "none":
        body = b""
    else:
        body = l4_header(pkt)
    nxt = pkt["proto"]
    for kind in reversed(exts):
        if kind == "none":
            nxt = 59
            continue
        body = ext_header(kind, nxt, pkt, ident) + body
        nxt = EXT_HDRS[kind]
    total = 40 + len(body) if pkt["len"] is None else pkt["len"]
    if total < 40 or total > 1500:
        raise PacketError("len=%d out of range 40..1500" % total)
    body = (body + b"\0" * total)[:total - 40]
    hdr = struct.pack("!IHBB16s16s", 6 << 28 | (ident & 0xFFFFF), len(body),
                      nxt, pkt["ttl"], pkt["src"], pkt["dst"])
    return hdr + body


def build_datagram(pkt, ident):
    return build_ip(pkt, ident) if pkt["family"] == 4 else build_ip6(pkt, ident)


def run(cmd, check=True):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    if check and res.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), res.stderr.strip()))
    return res.stdout


def sysctl(path, val):
    with open("/proc/sys/net/" + path, "w") as f:
        f.write(val)


class Netns:
    """The namespace this process runs in after unshare --net."""

    def __init__(self, chain, family=4):
        self.chain = chain
        self.family = family
        self.taps = {}		# name -> (fd, mac bytes)
        self.route_oif = None
        self.tx = None
        self.raw = {}
        self.mark = 0
        run(["ip", "link", "set", "lo", "up"])
        for conf in ("all", "default"):
            sysctl("ipv4/conf/%s/rp_filter" % conf, "0")
            sysctl("ipv4/conf/%s/accept_local" % conf, "1")
            sysctl("ipv4/conf/%s/send_redirects" % conf, "0")
            if family == 6:
                # Quiet taps: no link-local address (so no MLD report for
                # its solicited-node group, no DAD), no router
                # solicitation. The kernel's own packets would move
                # OUTPUT's counters.
                sysctl("ipv6/conf/%s/addr_gen_mode" % conf, "1")
                sysctl("ipv6/conf/%s/accept_dad" % conf, "0")
                sysctl("ipv6/conf/%s/router_solicitations" % conf, "0")
                sysctl("ipv6/conf/%s/accept_ra" % conf, "0")
        if chain == "FORWARD":
            sysctl("ipv4/ip_forward", "1")
            if family == 6:
                sysctl("ipv6/conf/all/forwarding", "1")
        if chain == "INPUT":
            run(["ip", "-%d" % family, "route", "add", "local",
                 "0.0.0.0/0" if family == 4 else "::/0", "dev", "lo",
                 "table", "local"])
        if chain == "OUTPUT":
            self.tx = socket.socket(socket.AF_INET if family == 4 else
                                    socket.AF_INET6, socket.SOCK_RAW,
                                    socket.IPPROTO_RAW)

    def tap(self, name):
        if name in self.taps:
            return self.taps[name]
        if name == "lo" or len(name) > 15:
            raise PacketError("cannot create interface '%s'" % name)
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        ifr = struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr + b"\0" * 22)
        idx = len(self.taps) + 1
        mac = bytes([2, 0, 0, 0, 2, idx])
        run(["ip", "link", "set", "dev", name, "address",
             ":".join("%02x" % b for b in mac), "up"])
        if self.chain != "INPUT":
            run(["ip", "neigh", "replace", GW if self.family == 4 else GW6,
                 "lladdr", GW_MAC, "dev", name, "nud", "permanent"])
        self.taps[name] = (fd, mac)
        return self.taps[name]

    def set_mark(self, mark):
        """skb->mark of the next packet: SO_MARK on the sender (OUTPUT),
        else a mangle PREROUTING MARK rule (before filter's hooks)."""
        if mark == self.mark:
            return
        if self.chain == "OUTPUT":
            self.tx.setsockopt(socket.SOL_SOCKET, SO_MARK,
                               struct.pack("=I", mark))
        else:
            run([TOOLS["ipt"], "-w", "-t", "mangle", "-F", "PREROUTING"])
            if mark:
                run([TOOLS["ipt"], "-w", "-t", "mangle", "-A", "PREROUTING",
                     "-j", "MARK", "--set-mark", "0x%x" % mark])
        self.mark = mark

    def route_via(self, oif):
        if oif != self.route_oif:
            run(["ip", "-%d" % self.family, "route", "replace", "default",
                 "via", GW if self.family == 4 else GW6, "dev", oif,
                 "onlink"])
            self.route_oif = oif

    def raw_sock(self, proto):
        if proto not in self.raw:
            if self.family == 4:
                sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
            else:
                sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto)
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO, 1)
            sock.setblocking(False)
            self.raw[proto] = sock
        return self.raw[proto]

    def drain(self):
        for fd, _ in self.taps.values():
            while True:
                try:
                    os.read(fd, 65536)
                except BlockingIOError:
                    break
        for sock in self.raw.values():
            while True:
                try:
                    sock.recv(65536)
                except BlockingIOError:
                    break


def same_packet(ip, want):
    """Is datagram `ip` the test packet `want`? IPv4: src, dst, id, proto;
    IPv6: src, dst, flow label."""
    if want[0] >> 4 == 6:
        return len(ip) >= 40 and ip[8:40] == want[8:40] and \
            ip[0] >> 4 == 6 and (ip[1] & 0xF) == (want[1] & 0xF) and \
            ip[2:4] == want[2:4]
    return len(ip) >= 20 and ip[12:20] == want[12:20] and \
        ip[4:6] == want[4:6] and ip[9] == want[9]


def raw6_key(sock):
    """One datagram from an IPv6 raw socket (which gives the payload
    only): (source address, flow label), or None if none is waiting."""
    data, anc, _, addr = sock.recvmsg(65536, 256)
    flow = None
    for level, kind, val in anc:
        if level == socket.IPPROTO_IPV6 and kind == IPV6_FLOWINFO:
            flow = struct.unpack("!I", val[:4])[0] & 0xFFFFF
    return socket.inet_pton(socket.AF_INET6, addr[0].split("%")[0]), flow


def saw_on_raw(sock, want, timeout):
    end_wait = timeout
    v6 = want[0] >> 4 == 6
    if v6:
        key = (want[8:24], struct.unpack("!I", want[0:4])[0] & 0xFFFFF)
    while True:
        try:
            if v6:
                if raw6_key(sock) == key:
                    return True
                continue
            data = sock.recv(65536)
        except BlockingIOError:
            if end_wait <= 0:
                return False
            select.select([sock], [], [], end_wait)
            end_wait = 0
            continue
        if same_packet(data, want):
            return True


def saw_on_tap(fd, want, timeout):
    end_wait = timeout
    while True:
        try:
            frame = os.read(fd, 65536)
        except BlockingIOError:
            if end_wait <= 0:
                return False
            select.select([fd], [], [], end_wait)
            end_wait = 0
            continue
        if frame[12:14] in (b"\x08\x00", b"\x86\xdd") and \
                same_packet(frame[14:], want):
            return True


# Pass 2's table: only the policy counters count, and never the kernel's
# own replies over loopback.
EMPTY = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
COMMIT
"""


def after_filter_count(chain):
    """Packets that got past the filter chain (the security table's rule)."""
    out = run([TOOLS["ipt"], "-w", "-t", "security", "-nvxL", chain])
    for line in out.splitlines():
        if "bpfilter-oracle" in line:
            return int(line.split()[0])
    raise RuntimeError("the oracle's counting rule is missing")


def policy_count(chain):
    """Packets the chain's policy counted so far."""
    out = run([TOOLS["ipt"], "-w", "-nvxL", chain])
    head = out.splitlines()[0]	# Chain INPUT (policy ACCEPT 3 packets, 0 bytes)
    return int(head.split("policy ACCEPT ")[1].split()[0])


def upper_proto(pkt):
    """The protocol an IPv6 raw socket receives the packet as: the last
    header's (59 after ext=...,none)."""
    if pkt["family"] == 6 and "none" in pkt["ext"]:
        return 59
    return pkt["proto"]


def send_one(ns, chain, pkt, ident, timeout):
    """Send one packet; True if it got through the chain."""
    ip = build_datagram(pkt, ident)
    v6 = pkt["family"] == 6
    ns.set_mark(pkt["mark"])
    if pkt["wait"]:
        time.sleep(pkt["wait"] / 1000.0)	# time-based matches (-m limit)
    if chain == "OUTPUT":
        ofd, _ = ns.tap(pkt["oif"])
        ns.route_via(pkt["oif"])
        try:
            ns.tx.sendto(ip, (socket.inet_ntop(socket.AF_INET6 if v6 else
                                               socket.AF_INET, pkt["dst"]), 0))
        except PermissionError:
            return False
        return saw_on_tap(ofd, ip, timeout)
    ifd, mac = ns.tap(pkt["iif"])
    if chain == "FORWARD":
        ofd, _ = ns.tap(pkt["oif"])
        ns.route_via(pkt["oif"])
    else:
        sock = ns.raw_sock(upper_proto(pkt))
    os.write(ifd, (pkt["l2dst"] or mac) + pkt["smac"] +
             (b"\x86\xdd" if v6 else b"\x08\x00") + ip)
    if chain == "FORWARD":
        return saw_on_tap(ofd, ip, timeout)
    return saw_on_raw(sock, ip, timeout)


def debug(msg):
    if os.environ.get("ORACLE_DEBUG"):
        print("oracle: " + msg, file=sys.stderr)


def find_counted(ns, chain, pkts, idxs, count):
    """Which of the packets idxs (none of them seen getting through) does
    the counter `count` count when sent? Groups are sent and halved while
    the counter moves: a read per group, not per packet. A packet seen
    getting through when sent again (its first copy came out late, after
    the look) is counted as well: verdicts are stateless."""
    found = set()
    todo = [list(idxs)] if idxs else []
    while todo:
        grp = todo.pop()
        before = count(chain)
        seen = 0
        for k in grp:
            if send_one(ns, chain, pkts[k][2], 1 + k % 65535, 0):
                found.add(k)
                seen += 1
        ns.drain()
        if count(chain) - before - seen <= 0:
            continue
        if len(grp) == 1:
            found.add(grp[0])
            continue
        half = len(grp) // 2
        todo += [grp[:half], grp[half:]]
    return found


def judge_batch(ns, chain, pkts, order):
    """Both passes without a counter read per packet: every packet once,
    no waiting (a write into the TAP returns after the receive path ran),
    then the counter once per pass. If the counter moved more than the
    packets seen (accepted by the chain but dropped by the stack after
    it, e.g. an ICMP header too short for raw ICMP sockets), the packets
    not seen are sent again in halving groups to find which (find_counted).
    judge_each() is the slow, per-packet reference (--exact)."""
    passed = {}
    ns.drain()
    last = after_filter_count(chain)
    for k in order:
        try:
            passed[k] = send_one(ns, chain, pkts[k][2], 1 + k % 65535, 0)
        except PacketError as exc:
            sys.exit("oracle: line %d: %s" % (pkts[k][0], exc))
    ns.drain()
    if after_filter_count(chain) - last != sum(passed.values()):
        debug("pass 1 counter moved more than seen: searching")
        for k in find_counted(ns, chain, pkts,
                              [k for k in order if not passed[k]],
                              after_filter_count):
            passed[k] = True
    reached = {}
    if all(passed.values()):
        return passed, reached
    subprocess.run([TOOLS["restore"], "-w"], input=EMPTY.encode(),
                   check=True)
    before = policy_count(chain)
    for k in order:
        if not passed[k]:
            reached[k] = send_one(ns, chain, pkts[k][2], 1 + k % 65535, 0)
    ns.drain()
    if policy_count(chain) - before != sum(reached.values()):
        debug("pass 2 counter moved more than seen: searching")
        for k in find_counted(ns, chain, pkts,
                              [k for k in order
                               if not passed[k] and not reached[k]],
                              policy_count):
            reached[k] = True
    return passed, reached


def ident_counts(chain):
    """IPv6: packets each per-packet rule of the security table counted,
    by ident (its flow label)."""
    out = run([TOOLS["ipt"], "-w", "-t", "security", "-nvxL", chain])
    counts = {}
    for line in out.splitlines():
        if "bpfilter-oracle-" in line:
            ident = int(line.split("bpfilter-oracle-")[1].split()[0])
            counts[ident] = int(line.split()[0])
    return counts


def judge_ident(ns, chain, pkts, order, count_rule):
    """IPv6, both passes exact without a look at what came out: the
    security table (same hook, after filter) holds one counting rule per
    packet, matching its flow label with u32; a packet counted there got
    through the filter chain. Pass 2 (an empty filter table): a packet
    counted there reached the hook. No raw socket, tap or timing is
    involved, so first fragments waiting for reassembly, AH the kernel
    cannot verify or ICMPv6 with a cut checksum are judged like the rest."""
    idents = {k: 1 + k % 65535 for k in order}
    rules = ["*security"]
    for k in order:
        rules.append(" ".join(["-A", chain] + count_rule[:-4] + [
            "-m", "u32", "--u32", "\"0&0xFFFFF=%d\"" % idents[k],
            "-m", "comment", "--comment", "bpfilter-oracle-%d" % idents[k]]))
    rules.append("COMMIT\n")
    subprocess.run([TOOLS["restore"], "-w"], input="\n".join(rules).encode(),
                   check=True)

    def one_pass(todo):
        run([TOOLS["ipt"], "-w", "-t", "security", "-Z", chain])
        for k in todo:
            try:
                send_one(ns, chain, pkts[k][2], idents[k], 0)
            except PacketError as exc:
                sys.exit("oracle: line %d: %s" % (pkts[k][0], exc))
            ns.drain()
        counts = ident_counts(chain)
        return {k: counts.get(idents[k], 0) > 0 for k in todo}

    passed = one_pass(order)
    reached = {}
    todo = [k for k in order if not passed[k]]
    if todo:
        subprocess.run([TOOLS["restore"], "-w"], input=EMPTY.encode(),
                       check=True)
        reached = one_pass(todo)
    return passed, reached


def judge_each(ns, chain, pkts, order):
    """Both passes, a counter read after every packet that did not get
    through (slow, exact: the reference for judge_batch())."""
    load_rules(ns.rules)
    passed = {}
    ns.drain()
    last = after_filter_count(chain)
    seen_since = 0
    for k in order:
        num, _, pkt = pkts[k]
        try:
            passed[k] = send_one(ns, chain, pkt, 1 + k % 65535, 0.005)
        except PacketError as exc:
            sys.exit("oracle: line %d: %s" % (num, exc))
        ns.drain()
        if passed[k]:
            seen_since += 1
            continue
        now = after_filter_count(chain)
        passed[k] = now - last - seen_since >= 1
        last, seen_since = now, 0
    # Pass 2: an empty table. What did not get through before but does
    # now was dropped by the chain. What still does not, reached the hook
    # if the chain's policy counter moved (e.g. an ICMP header too short
    # for raw ICMP sockets), else it never reached it.
    reached = {}
    if not all(passed.values()):
        subprocess.run([TOOLS["restore"], "-w"], input=EMPTY.encode(),
                       check=True)
        for k in order:
            if passed[k]:
                continue
            before = policy_count(chain)
            reached[k] = send_one(ns, chain, pkts[k][2], 1 + k % 65535, 0.05)
            ns.drain()
            if not reached[k]:
                reached[k] = policy_count(chain) > before
    return passed, reached


def load_rules(path):
    """Restore the rule set, then let loopback through first: the
    kernel's own replies to the test packets (echo replies, RSTs, port
    unreachables, REJECT's) come back over lo, and must not take tokens
    of a -m limit rule (or anything else) the test packets are judged by.
    No test packet comes in or goes out over lo."""
    with open(path, "rb") as f:
        res = subprocess.run([TOOLS["restore"], "-w"], stdin=f,
                             stderr=subprocess.PIPE, check=False)
    if res.returncode:
        sys.exit("oracle: iptables-legacy-restore refused %s: %s" %
                 (path, res.stderr.decode().strip()))
    run([TOOLS["ipt"], "-w", "-I", "INPUT", "1", "-i", "lo", "-j", "ACCEPT"])
    run([TOOLS["ipt"], "-w", "-I", "OUTPUT", "1", "-o", "lo", "-j", "ACCEPT"])


def inner(args):
    chain = args.chain
    pkts = []
    for num, line in enumerate(sys.stdin, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            pkts.append((num, text, parse_packet(text, chain, args.family)))
        except (PacketError, ValueError, KeyError) as exc:
            sys.exit("oracle: line %d: %s" % (num, exc))
    if args.family == 6:
        TOOLS.update(ipt="ip6tables-legacy", restore="ip6tables-legacy-restore")
    ns = Netns(chain, args.family)
    # Create every device before the rules go in, as a user would have.
    for _, _, pkt in pkts:
        for name in (pkt["iif"], pkt["oif"]):
            if name:
                ns.tap(name)
        if chain == "INPUT":
            ns.raw_sock(upper_proto(pkt))
    # "# netns: CMD" lines of the rules file: routes and addresses the
    # rules need (-m addrtype), run here as tests/packet/run.sh runs them
    # before `bpfilter test`.
    with open(args.rules) as f:
        for line in f:
            if line.startswith("# netns: "):
                run(["sh", "-c", line[len("# netns: "):].strip()])
    load_rules(args.rules)
    # Pass 1: the rules in force. A packet that got through is ACCEPT; one
    # that did not but that the security table (LOCAL_IN/FORWARD/LOCAL_OUT
    # priority 50, after filter's 0) counted was accepted by the chain and
    # dropped by the stack after it (e.g. an ICMP header too short for raw
    # ICMP sockets): ACCEPT too. Packets are sent grouped by output device
    # (fewer route changes); verdicts come out in input order.
    count_rule = ["-m", "comment", "--comment", "bpfilter-oracle"]
    if chain == "INPUT":
        count_rule = ["!", "-i", "lo"] + count_rule
    elif chain == "OUTPUT":
        count_rule = ["!", "-o", "lo"] + count_rule
    run([TOOLS["ipt"], "-w", "-t", "security", "-A", chain] + count_rule)
    order = sorted(range(len(pkts)), key=lambda k: pkts[k][2]["oif"])
    ns.rules = args.rules
    if args.family == 6:
        passed, reached = judge_ident(ns, chain, pkts, order, count_rule)
    elif not args.exact:
        passed, reached = judge_batch(ns, chain, pkts, order)
    else:
        passed, reached = judge_each(ns, chain, pkts, order)
    for k, (_, text, _) in enumerate(pkts):
        if passed[k]:
            verdict = "ACCEPT"
        else:
            verdict = "DROP" if reached[k] else "NOHOOK"
        if args.verbose:
            print("%-6s %s" % (verdict, text))
        else:
            print(verdict)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chain", choices=CHAINS, default="INPUT")
    ap.add_argument("-6", dest="family", action="store_const", const=6,
                    default=4, help="IPv6: ip6tables-legacy, IPv6 packets")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print each packet line after its verdict")
    ap.add_argument("--exact", action="store_true",
                    help="read the counters after every packet (slow)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("rules")
    args = ap.parse_args()
    if args.inner:
        inner(args)
        return
    if os.geteuid() != 0:
        sys.exit("oracle: needs root (network namespaces, iptables)")
    cmd = ["unshare", "--net", sys.executable, os.path.abspath(__file__),
           "--inner", "--chain", args.chain, args.rules]
    if args.verbose:
        cmd.insert(-1, "-v")
    if args.exact:
        cmd.insert(-1, "--exact")
    if args.family == 6:
        cmd.insert(-1, "-6")
    sys.exit(subprocess.run(cmd, check=False).returncode)


if __name__ == "__main__":
    main()
