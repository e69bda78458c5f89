#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The kernel as a verdict oracle for bpfilter's differential tests.

    oracle.py [-v] --chain INPUT|FORWARD|OUTPUT RULES < PACKETS

RULES is an iptables-save file; it is loaded with the kernel's own
iptables-legacy-restore in a fresh network namespace (unshare --net, gone
when this process exits). PACKETS has one packet per line in the syntax of
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
# pkttype= names the Ethernet destination (umh/cli/pktline.h); unicast is
# the receiving tap's own address here.
L2_DST = {"broadcast": b"\xff" * 6, "multicast": bytes.fromhex("01005e000001")}


class PacketError(Exception):
    pass


def parse_packet(line, chain):
    """Parse one packet line into a dict of typed fields."""
    fields = dict(DEFAULTS)
    fields["iif"] = "" if chain == "OUTPUT" else "eth0"
    fields["oif"] = "" if chain == "INPUT" else "eth1"
    for tok in line.split():
        key, sep, val = tok.partition("=")
        if not sep or key not in KEYS:
            raise PacketError("bad token '%s'" % tok)
        fields[key] = val
    pkt = {}
    try:
        pkt["src"] = socket.inet_aton(fields["src"])
        pkt["dst"] = socket.inet_aton(fields["dst"])
    except OSError as exc:
        raise PacketError("bad address: %s" % exc) from None
    proto = fields["proto"]
    pkt["proto"] = PROTOS[proto] if proto in PROTOS else int(proto)
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
    if proto == 6:
        hdr = struct.pack("!HHIIBBHHH", pkt["sport"], pkt["dport"], 1, 0,
                          (5 + len(pkt["opts"]) // 4) << 4, pkt["flags"],
                          65535, 0, 0) + pkt["opts"]
    elif proto == 17:
        hdr = struct.pack("!HHHH", pkt["sport"], pkt["dport"], 8, 0)
    elif proto == 1:
        hdr = struct.pack("!BBHHH", pkt["type"], pkt["code"], 0, 1, 1)
        return hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    else:
        return b""
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(hdr))
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

    def __init__(self, chain):
        self.chain = chain
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
        if chain == "FORWARD":
            sysctl("ipv4/ip_forward", "1")
        if chain == "INPUT":
            run(["ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo",
                 "table", "local"])
        if chain == "OUTPUT":
            self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW,
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
            run(["ip", "neigh", "replace", GW, "lladdr", GW_MAC, "dev",
                 name, "nud", "permanent"])
        self.taps[name] = (fd, mac)
        return self.taps[name]

    def set_mark(self, mark):
        """skb->mark of the next packet: SO_MARK on the sender (OUTPUT),
        else a mangle PREROUTING MARK rule (before filter's hooks)."""
        if mark == self.mark:
            return
        if self.chain == "OUTPUT":
            self.tx.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
        else:
            run(["iptables-legacy", "-w", "-t", "mangle", "-F", "PREROUTING"])
            if mark:
                run(["iptables-legacy", "-w", "-t", "mangle", "-A", "PREROUTING",
                     "-j", "MARK", "--set-mark", "0x%x" % mark])
        self.mark = mark

    def route_via(self, oif):
        if oif != self.route_oif:
            run(["ip", "route", "replace", "default", "via", GW, "dev", oif,
                 "onlink"])
            self.route_oif = oif

    def raw_sock(self, proto):
        if proto not in self.raw:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
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
    """Is IPv4 datagram `ip` the test packet `want` (src, dst, id, proto)?"""
    return len(ip) >= 20 and ip[12:20] == want[12:20] and \
        ip[4:6] == want[4:6] and ip[9] == want[9]


def saw_on_raw(sock, want, timeout):
    end_wait = timeout
    while True:
        try:
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
        if frame[12:14] == b"\x08\x00" and same_packet(frame[14:], want):
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
    out = run(["iptables-legacy", "-w", "-t", "security", "-nvxL", chain])
    for line in out.splitlines():
        if "bpfilter-oracle" in line:
            return int(line.split()[0])
    raise RuntimeError("the oracle's counting rule is missing")


def policy_count(chain):
    """Packets the chain's policy counted so far."""
    out = run(["iptables-legacy", "-w", "-nvxL", chain])
    head = out.splitlines()[0]	# Chain INPUT (policy ACCEPT 3 packets, 0 bytes)
    return int(head.split("policy ACCEPT ")[1].split()[0])


def send_one(ns, chain, pkt, ident, timeout):
    """Send one packet; True if it got through the chain."""
    ip = build_ip(pkt, ident)
    ns.set_mark(pkt["mark"])
    if pkt["wait"]:
        time.sleep(pkt["wait"] / 1000.0)	# time-based matches (-m limit)
    if chain == "OUTPUT":
        ofd, _ = ns.tap(pkt["oif"])
        ns.route_via(pkt["oif"])
        try:
            ns.tx.sendto(ip, (socket.inet_ntoa(pkt["dst"]), 0))
        except PermissionError:
            return False
        return saw_on_tap(ofd, ip, timeout)
    ifd, mac = ns.tap(pkt["iif"])
    if chain == "FORWARD":
        ofd, _ = ns.tap(pkt["oif"])
        ns.route_via(pkt["oif"])
    else:
        sock = ns.raw_sock(pkt["proto"])
    os.write(ifd, (pkt["l2dst"] or mac) + pkt["smac"] + b"\x08\x00" + ip)
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
    subprocess.run(["iptables-legacy-restore", "-w"], input=EMPTY.encode(),
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


def judge_each(ns, chain, pkts, order):
    """Both passes, a counter read after every packet that did not get
    through (slow, exact: the reference for judge_batch())."""
    with open(ns.rules, "rb") as f:
        subprocess.run(["iptables-legacy-restore", "-w"], stdin=f, check=True)
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
        subprocess.run(["iptables-legacy-restore", "-w"], input=EMPTY.encode(),
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


def inner(args):
    chain = args.chain
    pkts = []
    for num, line in enumerate(sys.stdin, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            pkts.append((num, text, parse_packet(text, chain)))
        except (PacketError, ValueError, KeyError) as exc:
            sys.exit("oracle: line %d: %s" % (num, exc))
    ns = Netns(chain)
    # Create every device before the rules go in, as a user would have.
    for _, _, pkt in pkts:
        for name in (pkt["iif"], pkt["oif"]):
            if name:
                ns.tap(name)
        if chain == "INPUT":
            ns.raw_sock(pkt["proto"])
    # "# netns: CMD" lines of the rules file: routes and addresses the
    # rules need (-m addrtype), run here as tests/packet/run.sh runs them
    # before `bpfilter test`.
    with open(args.rules) as f:
        for line in f:
            if line.startswith("# netns: "):
                run(["sh", "-c", line[len("# netns: "):].strip()])
    with open(args.rules, "rb") as f:
        res = subprocess.run(["iptables-legacy-restore", "-w"], stdin=f,
                             stderr=subprocess.PIPE, check=False)
    if res.returncode:
        sys.exit("oracle: iptables-legacy-restore refused %s: %s" %
                 (args.rules, res.stderr.decode().strip()))
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
    run(["iptables-legacy", "-w", "-t", "security", "-A", chain] + count_rule)
    order = sorted(range(len(pkts)), key=lambda k: pkts[k][2]["oif"])
    ns.rules = args.rules
    if not args.exact:
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
    sys.exit(subprocess.run(cmd, check=False).returncode)


if __name__ == "__main__":
    main()
