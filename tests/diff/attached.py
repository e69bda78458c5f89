#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""bpfilter's verdicts read from real frames through its attached program.

    attached.py [-6] --hook xdp|tc --chain INPUT|FORWARD|OUTPUT [-v] RULES < PACKETS

The packet lines and the output are those of oracle.py (one ACCEPT or DROP
per line, in order), so the three can be compared line by line: the
kernel's iptables-legacy (oracle.py), `bpfilter test` (BPF_PROG_TEST_RUN)
and this, the program that `bpfilter daemon` attached.

Everything happens in a fresh network namespace (unshare --net, "dut") and
a second one (its "peer", held by a child `sleep`), both gone at exit.
Every device the packet lines name is the dut end of a veth pair whose
other end is in the peer; `bpfilter daemon --iface ... --hook HOOK`
attaches to all of them and the rules go in through the unmodified
`iptables-legacy-restore` under `bpfilter exec`. Then:

  INPUT    frames go into the peer end of `iif`; every destination is local
           (a local default route), so bpf_fib_lookup says "not forwarded".
  FORWARD  frames go into the peer end of `iif`; ip_forward is on and the
           default route points out of `oif` through a permanent neighbour
           (as in oracle.py), so bpf_fib_lookup forwards them out of `oif`.
           ACCEPT, for both: a packet socket bound to ETH_P_IP on the dut's
           `iif` received the frame. Such sockets are served after XDP and
           after tc ingress, and before ip_rcv() (the device's
           ptype_specific list), so this is exactly what got past
           bpfilter's hook, whatever the IP stack does with it after.
  OUTPUT   the packet is sent from a raw IP_HDRINCL socket in dut, routed
           out of `oif` (tc egress); ACCEPT = the frame reached the peer
           end of `oif`.
With -6, IPv6 (ip6tables-legacy-restore, ETH_P_IPV6 sockets, a local ::/0
route, forwarding on), as oracle.py -6 does.
Frames are matched by IPv4 source, destination, id and protocol (IPv6:
source, destination, flow label). Every
packet not seen is sent once more (verdicts are stateless) before it is
called DROP, so a frame that came out late is not a false DROP.
"""

import argparse
import ctypes
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import oracle  # noqa: E402

BPFILTER = os.environ.get("BPFILTER", os.path.join(ROOT, "build", "bpfilter"))
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if LIBC.setns(fd, CLONE_NEWNET):
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def run(cmd, stdin=None, check=True):
    res = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, check=False)
    if check and res.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd),
                                       (res.stdout + res.stderr).strip()))
    return res


def sysctl(path, val):
    with open("/proc/sys/net/" + path, "w") as f:
        f.write(val)


class Bench:
    """dut (this process's netns), its peer, the veths, the daemon."""

    def __init__(self, chain, hook, tmp, family=4):
        self.chain, self.hook, self.tmp = chain, hook, tmp
        self.family = family
        self.devs = {}		# dut name -> (peer name, dut mac)
        self.route_oif = None
        self.daemon = None
        self.sock_path = os.path.join(tmp, "bpfilter.sock")
        self.own_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.peer = subprocess.Popen(["unshare", "--net", "sleep", "900"])
        peer_ns = "/proc/%d/ns/net" % self.peer.pid
        for _ in range(200):
            try:
                if os.readlink(peer_ns) != os.readlink("/proc/self/ns/net"):
                    break
            except OSError:
                pass
            time.sleep(0.01)
        else:
            raise RuntimeError("the peer namespace did not come up")
        self.peer_ns = os.open(peer_ns, os.O_RDONLY)
        run(["ip", "link", "set", "lo", "up"])
        for conf in ("all", "default"):
            sysctl("ipv4/conf/%s/rp_filter" % conf, "0")
            sysctl("ipv4/conf/%s/accept_local" % conf, "1")
            sysctl("ipv4/conf/%s/send_redirects" % conf, "0")
            if family == 4:
                sysctl("ipv6/conf/%s/disable_ipv6" % conf, "1")
            else:
                # Quiet devices (no link-local address, so no MLD or DAD).
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
        self.tx = None
        self.rx = {}		# dut name -> packet socket (ETH_P_IP, dut side)
        self.peer_tx = {}	# dut name -> packet socket on its peer end
        self.peer_rx = {}	# dut name -> packet socket (ETH_P_ALL, peer end)

    def in_peer(self, fn):
        setns(self.peer_ns)
        try:
            return fn()
        finally:
            setns(self.own_ns)

    def add_dev(self, name):
        if name in self.devs:
            return
        if name == "lo" or len(name) > 15:
            raise oracle.PacketError("cannot create interface '%s'" % name)
        peer = "p%d" % len(self.devs)
        idx = len(self.devs) + 1
        mac = bytes([2, 0, 0, 0, 2, idx])
        run(["ip", "link", "add", name, "address",
             ":".join("%02x" % b for b in mac), "type", "veth", "peer",
             "name", peer, "netns", str(self.peer.pid)])
        run(["ip", "link", "set", name, "up"])
        run(["nsenter", "-t", str(self.peer.pid), "-n", "ip", "link", "set",
             peer, "up"])
        if self.chain != "INPUT":
            run(["ip", "neigh", "replace", self.gw(), "lladdr",
                 oracle.GW_MAC, "dev", name, "nud", "permanent"])
        self.devs[name] = (peer, mac)

        def peer_socks():
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            tx.bind((peer, 0))
            rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
            rx.bind((peer, ETH_P_ALL))
            return tx, rx
        self.peer_tx[name], rx = self.in_peer(peer_socks)
        if self.chain == "OUTPUT":
            self.peer_rx[name] = self.nonblock(rx)
        else:
            rx.close()
            proto = ETH_P_IP if self.family == 4 else ETH_P_IPV6
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(proto))
            s.bind((name, proto))
            self.rx[name] = self.nonblock(s)

    def gw(self):
        return oracle.GW if self.family == 4 else oracle.GW6

    @staticmethod
    def nonblock(s):
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)	# SO_RCVBUFFORCE
        s.setblocking(False)
        return s

    def start_daemon(self):
        cmd = [BPFILTER, "daemon", "--hook", self.hook, "--socket",
               self.sock_path, "--state-dir", os.path.join(self.tmp, "state")]
        for name in self.devs:
            cmd += ["--iface", name]
        log = open(os.path.join(self.tmp, "daemon.log"), "w")
        self.daemon = subprocess.Popen(cmd, stdout=log, stderr=log)
        for _ in range(200):
            if self.daemon.poll() is not None:
                break
            if os.path.exists(self.sock_path) and not self.exec_ipt(
                    ["iptables-legacy", "-w", "-n", "-L", "INPUT"],
                    check=False).returncode:
                return
            time.sleep(0.05)
        with open(os.path.join(self.tmp, "daemon.log")) as f:
            raise RuntimeError("the daemon did not come up: " + f.read())

    def exec_ipt(self, cmd, stdin=None, check=True):
        return run([BPFILTER, "exec", "--socket", self.sock_path, "--"] + cmd,
                   stdin, check)

    def load(self, rules):
        with open(rules) as f:
            text = f.read()
        res = self.exec_ipt(["iptables-legacy-restore" if self.family == 4
                             else "ip6tables-legacy-restore", "-w"], text,
                            False)
        if res.returncode:
            raise RuntimeError("bpfilter exec iptables-legacy-restore refused "
                               "%s: %s" % (rules, (res.stdout + res.stderr)
                                           .strip()))

    def route_via(self, oif):
        if oif != self.route_oif:
            run(["ip", "-%d" % self.family, "route", "replace", "default",
                 "via", self.gw(), "dev", oif, "onlink"])
            self.route_oif = oif

    def close(self):
        if self.daemon:
            self.daemon.kill()
            self.daemon.wait()
        self.peer.kill()
        self.peer.wait()


def ident_of(ip):
    """The key a frame is matched by: IPv4 src, dst, id, proto; IPv6 src,
    dst, flow label."""
    if ip[0] >> 4 == 6:
        return (ip[8:40], ip[1] & 0xF, ip[2:4])
    return (ip[12:20], ip[4:6], ip[9])


def collect(socks, seen, timeout):
    """Read every frame waiting on socks into seen (a set of keys)."""
    end = time.monotonic() + timeout
    while True:
        got = False
        for s in socks:
            while True:
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                got = True
                if addr[2] == PACKET_OUTGOING:
                    continue
                if frame[12:14] == b"\x08\x00" and len(frame) >= 34 or \
                        frame[12:14] == b"\x86\xdd" and len(frame) >= 54:
                    seen.add(ident_of(frame[14:]))
        left = end - time.monotonic()
        if got:
            continue
        if left <= 0:
            return
        select.select(socks, [], [], left)


def send(bench, pkt, ip):
    chain = bench.chain
    if pkt.get("wait"):
        time.sleep(pkt["wait"] / 1000.0)	# time-based matches (-m limit)
    if chain == "OUTPUT":
        bench.tx.setsockopt(socket.SOL_SOCKET, oracle.SO_MARK,
                            struct.pack("=I", pkt["mark"]))
        bench.route_via(pkt["oif"])
        af = socket.AF_INET if pkt["family"] == 4 else socket.AF_INET6
        try:
            bench.tx.sendto(ip, (socket.inet_ntop(af, pkt["dst"]), 0))
        except PermissionError:
            pass
        return
    if chain == "FORWARD":
        bench.route_via(pkt["oif"])
    _, mac = bench.devs[pkt["iif"]]
    frame = (pkt["l2dst"] or mac) + pkt["smac"] + \
        (b"\x08\x00" if pkt["family"] == 4 else b"\x86\xdd") + ip
    bench.peer_tx[pkt["iif"]].send(frame)


def judge(bench, pkts):
    socks = list(bench.rx.values()) + list(bench.peer_rx.values())
    order = sorted(range(len(pkts)), key=lambda k: pkts[k][2]["oif"])
    ips = {k: oracle.build_datagram(pkts[k][2], 1 + k % 65535)
           for k in order}
    seen = set()
    todo = order
    for wait in (0.05, 0.2):
        for k in todo:
            send(bench, pkts[k][2], ips[k])
            collect(socks, seen, 0)
        collect(socks, seen, wait)
        todo = [k for k in todo if ident_of(ips[k]) not in seen]
        if not todo:
            break
    return ["ACCEPT" if ident_of(ips[k]) in seen else "DROP"
            for k in range(len(pkts))]


def inner(args):
    pkts = []
    for num, line in enumerate(sys.stdin, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            pkts.append((num, text, oracle.parse_packet(text, args.chain,
                                                        args.family)))
        except (oracle.PacketError, ValueError, KeyError) as exc:
            sys.exit("attached: line %d: %s" % (num, exc))
    if args.chain != "OUTPUT" and any(p[2]["mark"] for p in pkts):
        sys.exit("attached: mark= only at OUTPUT (SO_MARK): a received frame "
                 "carries no mark")
    if len(pkts) > 65535:
        sys.exit("attached: at most 65535 packets (the IP id tells them apart)")
    with tempfile.TemporaryDirectory(prefix="bpfilter-attached.") as tmp:
        bench = Bench(args.chain, args.hook, tmp, args.family)
        try:
            for _, _, pkt in pkts:
                for name in (pkt["iif"], pkt["oif"]):
                    if name:
                        bench.add_dev(name)
            if not bench.devs:
                bench.add_dev("eth0")
            if args.chain == "OUTPUT":
                bench.tx = socket.socket(
                    socket.AF_INET if args.family == 4 else socket.AF_INET6,
                    socket.SOCK_RAW, socket.IPPROTO_RAW)
            bench.start_daemon()
            bench.load(args.rules)
            verdicts = judge(bench, pkts)
        except (RuntimeError, OSError, oracle.PacketError) as exc:
            sys.exit("attached: %s" % exc)
        finally:
            bench.close()
    for (_, text, _), verdict in zip(pkts, verdicts):
        print("%-6s %s" % (verdict, text) if args.verbose else verdict)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chain", choices=oracle.CHAINS, default="INPUT")
    ap.add_argument("--hook", choices=("xdp", "tc"), default="xdp")
    ap.add_argument("-6", dest="family", action="store_const", const=6,
                    default=4, help="IPv6: ip6tables-legacy, IPv6 packets")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("rules")
    args = ap.parse_args()
    if args.chain == "OUTPUT" and args.hook == "xdp":
        sys.exit("attached: XDP sees no outgoing packets: OUTPUT needs --hook tc")
    if args.inner:
        inner(args)
        return
    if os.geteuid() != 0:
        sys.exit("attached: needs root (network namespaces, BPF)")
    cmd = ["unshare", "--net", sys.executable, os.path.abspath(__file__),
           "--inner", "--chain", args.chain, "--hook", args.hook,
           os.path.abspath(args.rules)]
    if args.verbose:
        cmd.insert(-1, "-v")
    if args.family == 6:
        cmd.insert(-1, "-6")
    sys.exit(subprocess.run(cmd, check=False).returncode)


if __name__ == "__main__":
    main()
