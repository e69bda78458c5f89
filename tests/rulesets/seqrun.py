#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Play one packet sequence with real packets between network namespaces.

    seqrun.py --rules FILE --seq FILE --mode kernel|xdp|tc [--bpfilter PATH]

A host namespace (H) holds the rule set, loaded either with the kernel's
own iptables-legacy-restore / ip6tables-legacy-restore (--mode kernel) or
with `bpfilter exec -- iptables-legacy-restore` against a `bpfilter
daemon` attached to H's interfaces at XDP or tc. Each `net` line of the
sequence file adds an endpoint namespace joined to H by a veth pair; H
routes between them (FORWARD) and is itself a real host with listening
sockets (INPUT, OUTPUT). The endpoints' own kernels are silenced for TCP
RST and ICMP errors (their iptables-legacy OUTPUT): every packet they
"send" is written by this program with AF_PACKET, so the sequences control
seq/ack numbers, flags and addresses exactly, while H's kernel answers as
it would (SYN-ACK from a listener, RST from a closed port, ...).

One line of output per packet line of the sequence, in order:

    LINENO VERDICT [reply=SUMMARY]

VERDICT is accept (the packet reached H's socket layer for INPUT, or came
out of H at the destination endpoint for FORWARD/OUTPUT) or drop;
SUMMARY lists what came back to the sender for that flow (TCP flags, ICMP
type/code of errors quoting it, echo replies), e.g. reply=tcp:R or
reply=icmp:3/3. A line whose loading failed prints `refused: REASON` once
and exit status 3. See README.md for the sequence syntax.
"""

import argparse
import ctypes
import os
import select
import socket
import struct
import subprocess
import sys
import time

WINDOW = 0.12			# seconds to wait for a packet's effects
MARK_RUNNER = 0
PID = os.getpid()
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3
TCPF = "FSRPAUEC"


class SeqError(Exception):
	pass


def sh(*args, check=True, **kw):
	r = subprocess.run(args, capture_output=True, text=True, **kw)
	if check and r.returncode:
		raise SeqError("%s: %s" % (" ".join(args), r.stderr.strip()))
	return r


def csum(b):
	if len(b) % 2:
		b += b"\0"
	s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return ~s & 0xFFFF


class Netns:
	"""Enter a named netns (ip netns) for socket creation."""
	def __init__(self, name):
		self.name = name

	def __enter__(self):
		self.orig = os.open("/proc/self/ns/net", os.O_RDONLY)
		fd = os.open("/var/run/netns/" + self.name, os.O_RDONLY)
		if libc.setns(fd, CLONE_NEWNET):
			raise OSError(ctypes.get_errno(), "setns " + self.name)
		os.close(fd)

	def __exit__(self, *a):
		libc.setns(self.orig, CLONE_NEWNET)
		os.close(self.orig)


# ---- packets ---------------------------------------------------------------
def ip_bytes(fam, addr):
	return socket.inet_pton(socket.AF_INET if fam == 4 else socket.AF_INET6, addr)


def l4_csum(fam, src, dst, proto, l4):
	if fam == 4:
		ph = ip_bytes(4, src) + ip_bytes(4, dst) + struct.pack("!BBH", 0, proto, len(l4))
	else:
		ph = ip_bytes(6, src) + ip_bytes(6, dst) + struct.pack("!IxxxB", len(l4), proto)
	return csum(ph + l4)


def build_l4(fam, p):
	proto = p["proto"]
	data = p["data"]
	if proto == 6:
		flags = sum(1 << TCPF.index(c) for c in p["flags"])
		h = struct.pack("!HHIIBBHHH", p["sport"], p["dport"], p["seq"] & 0xFFFFFFFF,
		                p["ack"] & 0xFFFFFFFF, 5 << 4, flags, 64240, 0, 0)
		l4 = h + data
		c = l4_csum(fam, p["src"], p["dst"], 6, l4)
		return l4[:16] + struct.pack("!H", c) + l4[18:]
	if proto == 17:
		l4 = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(data), 0) + data
		c = l4_csum(fam, p["src"], p["dst"], 17, l4) or 0xFFFF
		return l4[:6] + struct.pack("!H", c) + l4[8:]
	# ICMP / ICMPv6: echo carries id/seq; errors carry the quoted packet
	rest = struct.pack("!HH", p["sport"], p["seq"] & 0xFFFF)
	if p["type"] not in (0, 8, 128, 129):
		rest = bytes(4)
	l4 = struct.pack("!BBH", p["type"], p["code"], 0) + rest + data
	c = csum(l4) if proto == 1 else l4_csum(fam, p["src"], p["dst"], 58, l4)
	return l4[:2] + struct.pack("!H", c) + l4[4:]


def build_ip(fam, p, ident):
	l4 = build_l4(fam, p)
	if fam == 4:
		h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0, p["ttl"],
		                p["proto"], 0, ip_bytes(4, p["src"]), ip_bytes(4, p["dst"]))
		return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4
	return struct.pack("!IHBB16s16s", (6 << 28) | (ident & 0xFFFFF), len(l4),
	                   p["proto"], p["ttl"], ip_bytes(6, p["src"]),
	                   ip_bytes(6, p["dst"])) + l4


def parse_ip(fam, b):
	"""IP packet bytes -> dict (None if not of this family)."""
	try:
		if fam == 4:
			if b[0] >> 4 != 4:
				return None
			ihl = (b[0] & 15) * 4
			d = {"src": socket.inet_ntop(socket.AF_INET, b[12:16]),
			     "dst": socket.inet_ntop(socket.AF_INET, b[16:20]),
			     "proto": b[9], "id": struct.unpack("!H", b[4:6])[0]}
			l4 = b[ihl:]
		else:
			if b[0] >> 4 != 6:
				return None
			d = {"src": socket.inet_ntop(socket.AF_INET6, b[8:24]),
			     "dst": socket.inet_ntop(socket.AF_INET6, b[24:40]),
			     "proto": b[6], "id": struct.unpack("!I", b[0:4])[0] & 0xFFFFF}
			l4 = b[40:]
	except (IndexError, struct.error, ValueError):
		return None
	return parse_l4(fam, d, l4)


def parse_l4(fam, d, l4):
	d["l4"] = bytes(l4[:16])
	if d["proto"] in (6, 17) and len(l4) >= 8:
		d["sport"], d["dport"] = struct.unpack("!HH", l4[:4])
	if d["proto"] == 6 and len(l4) >= 20:
		d["seq"], d["ack"] = struct.unpack("!II", l4[4:12])
		d["flags"] = "".join(c for i, c in enumerate(TCPF) if l4[13] >> i & 1)
		d["len"] = len(l4) - (l4[12] >> 4) * 4
	if d["proto"] in (1, 58) and len(l4) >= 8:
		d["type"], d["code"] = l4[0], l4[1]
		if d["type"] in (0, 8, 128, 129):
			d["sport"] = d["dport"] = struct.unpack("!H", l4[4:6])[0]
		else:
			d["sport"] = d["dport"] = 0
			d["inner"] = parse_ip(fam, bytes(l4[8:]))
	return d


# ---- the topology --------------------------------------------------------------
class Topo:
	def __init__(self, fam, nets, tag):
		self.fam = fam
		self.nets = nets		# name -> dict(addr, plen, haddr, ifname)
		self.host = "rs-h-%s" % tag
		self.ns = {n: "rs-%s-%s" % (n[:4], tag) for n in nets}
		self.created = []
		self.helpers = []	# processes to kill before the namespaces go

	def nsx(self, ns, *cmd, check=True):
		return sh("ip", "netns", "exec", ns, *cmd, check=check)

	def setup(self):
		v6 = self.fam == 6
		fl = ["-6"] if v6 else []
		sh("ip", "netns", "add", self.host)
		self.created.append(self.host)
		self.nsx(self.host, "ip", "link", "set", "lo", "up")
		self.nsx(self.host, "sysctl", "-qw", "net.ipv4.ip_forward=1")
		self.nsx(self.host, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
		self.nsx(self.host, "sysctl", "-qw", "net.ipv4.tcp_synack_retries=1")
		first = True
		for i, (name, n) in enumerate(self.nets.items()):
			ns = self.ns[name]
			sh("ip", "netns", "add", ns)
			self.created.append(ns)
			if v6:	# no MLD reports from the endpoints: H's INPUT would see them
				for t in ("131", "132", "143"):	# at random times (at XDP, bpfilter's too)
					self.nsx(ns, "ip6tables-legacy", "-w", "-A", "OUTPUT", "-p", "ipv6-icmp",
					         "-m", "icmp6", "--icmpv6-type", t, "-j", "DROP")
			sh("ip", "link", "add", "name", n["ifname"], "netns", self.host,
			   "address", "02:77:00:00:%02x:01" % i, "type", "veth", "peer",
			   "name", "ep0", "netns", ns, "address", "02:77:00:00:%02x:02" % i)
			for (x, ifn) in ((self.host, n["ifname"]), (ns, "ep0")):
				if v6:
					self.nsx(x, "sysctl", "-qw", "net.ipv6.conf.%s.accept_dad=0" % ifn)
					self.nsx(x, "sysctl", "-qw", "net.ipv6.conf.%s.router_solicitations=0" % ifn)
				self.nsx(x, "ip", "link", "set", ifn, "up")
			self.nsx(ns, "ip", "link", "set", "lo", "up")
			self.nsx(self.host, "ip", *fl, "addr", "add", "%s/%d" % (n["haddr"], n["plen"]),
			         "dev", n["ifname"], *(["nodad"] if v6 else []))
			if v6:
				self.nsx(ns, "ip", "-6", "addr", "add", "%s/%d" % (n["addr"], n["plen"]),
				         "dev", "ep0", "nodad")
			else:
				self.nsx(ns, "ip", "addr", "add", "%s/%d" % (n["addr"], n["plen"]), "dev", "ep0")
			self.nsx(ns, "ip", *fl, "route", "add", "default", "via", n["haddr"])
			n["hmac"] = self.mac(self.host, n["ifname"])
			n["mac"] = self.mac(ns, "ep0")
			self.nsx(self.host, "ip", *fl, "neigh", "replace", n["addr"], "lladdr",
			         n["mac"], "dev", n["ifname"], "nud", "permanent")
			self.nsx(ns, "ip", *fl, "neigh", "replace", n["haddr"], "lladdr",
			         n["hmac"], "dev", "ep0", "nud", "permanent")
			if first:	# spoofed sources are routed back to the first endpoint
				self.nsx(self.host, "ip", *fl, "route", "add", "default", "via", n["addr"])
				first = False
			ipt = "ip6tables-legacy" if v6 else "iptables-legacy"
			unreach = ["-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "destination-unreachable"] \
				if v6 else ["-p", "icmp", "--icmp-type", "destination-unreachable"]
			self.nsx(ns, ipt, "-w", "-A", "OUTPUT", "-p", "tcp", "--tcp-flags", "RST", "RST", "-j", "DROP")
			self.nsx(ns, ipt, "-w", "-A", "OUTPUT", *unreach, "-j", "DROP")

	def mac(self, ns, ifn):
		out = self.nsx(ns, "cat", "/sys/class/net/%s/address" % ifn).stdout
		return out.strip()

	def teardown(self):
		for h in self.helpers:
			h.kill()
			h.wait()
		for ns in self.created:
			sh("ip", "netns", "del", ns, check=False)


# ---- the player -------------------------------------------------------------------
class Player:
	def __init__(self, topo, fam, listen):
		self.t = topo
		self.fam = fam
		self.af = socket.AF_INET if fam == 4 else socket.AF_INET6
		self.ident = 0x100
		self.flows = {}		# (proto, a, ap, b, bp) -> {addr: next seq}
		self.conns = {}		# (sport, dport) -> real socket on H
		self.sniff = {}
		self.keep = []
		for name in topo.nets:
			with Netns(topo.ns[name]):
				s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
				s.bind(("ep0", 0))
				s.setblocking(False)
				self.sniff[name] = s
		self.raw = []
		with Netns(topo.host):
			for proto in (6, 17, 1 if fam == 4 else 58):
				r = socket.socket(self.af, socket.SOCK_RAW, proto)
				r.setblocking(False)
				self.raw.append(r)
			for proto, port in listen:
				kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
				s = socket.socket(self.af, kind)
				s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
				s.bind(("", port))
				if kind == socket.SOCK_STREAM:
					s.listen(64)
				self.keep.append(s)

	def join(self, groups):
		n = next(iter(self.t.nets.values()))
		for g in groups:
			with Netns(self.t.host):
				s = socket.socket(self.af, socket.SOCK_DGRAM)
			if self.fam == 4:
				mreq = ip_bytes(4, g) + ip_bytes(4, n["haddr"])
				s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
			else:
				with Netns(self.t.host):
					idx = socket.if_nametoindex(n["ifname"])
				mreq = ip_bytes(6, g) + struct.pack("@I", idx)
				s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
			self.keep.append(s)

	def addr(self, name):
		"""An endpoint name, 'host' (H's address on the first net) or an IP."""
		if name.startswith("host@") and name[5:] in self.t.nets:
			return self.t.nets[name[5:]]["haddr"]
		if name == "host" or name.startswith("host@"):
			return next(iter(self.t.nets.values()))["haddr"]
		if name in self.t.nets:
			return self.t.nets[name]["addr"]
		return name

	def drain(self):
		"""Everything the sniffers and H's raw sockets hold now."""
		got = {"raw": []}
		for name, s in self.sniff.items():
			got[name] = []
			while True:
				try:
					b, a = s.recvfrom(65535)
				except BlockingIOError:
					break
				if a[2] == socket.PACKET_OUTGOING:
					continue
				d = parse_ip(self.fam, b[14:])
				if d:
					got[name].append(d)
		for r in self.raw:
			while True:
				try:
					b = r.recv(65535)
				except BlockingIOError:
					break
				if self.fam == 4:
					d = parse_ip(4, b)
				else:
					d = parse_l4(6, {"proto": r.proto, "src": "", "dst": ""}, b)
				if d:
					got["raw"].append(d)
		return got

	def learn(self, d):
		"""Track the next sequence number of each side of a TCP flow."""
		if d.get("proto") != 6 or "seq" not in d:
			return
		k = self.fkey(6, d["src"], d["sport"], d["dst"], d["dport"])
		f = self.flows.setdefault(k, {})
		n = d["seq"] + d["len"] + ("S" in d["flags"]) + ("F" in d["flags"])
		f[(d["src"], d["sport"])] = n & 0xFFFFFFFF

	@staticmethod
	def fkey(proto, a, ap, b, bp):
		return (proto,) + tuple(sorted([(a, ap), (b, bp)]))

	# one line ------------------------------------------------------------------
	def play(self, ln):
		self.drain()
		hook, kind, p, opts = ln["hook"], ln["kind"], ln["pkt"], ln["opts"]
		sent = None
		if kind == "craft" and "repeat" in opts:
			return self.burst(ln)
		if kind == "craft":
			sent = self.craft(ln)
		elif kind == "connect":
			self.real_connect(p, opts)
		elif kind == "send":
			self.real_send(p, opts)
		elif kind == "rawout":
			sent = self.raw_out(ln)
		time.sleep(WINDOW)
		got = self.drain()
		for lst in got.values():
			for d in lst:
				self.learn(d)
		return self.judge(ln, sent, got)

	def burst(self, ln):
		"""repeat=N: N copies back to back (rate limits); verdict accept=K/N."""
		n = int(ln["opts"]["repeat"])
		sents = []
		for i in range(n):	# each copy a new flow: the next ICMP id / source port
			one = dict(ln, pkt=dict(ln["pkt"]))
			one["pkt"]["sport"] += i
			if one["pkt"]["proto"] in (1, 58):
				one["pkt"]["dport"] += i
			sents.append(self.craft(one))
		time.sleep(WINDOW)
		got = self.drain()
		key = "raw" if ln["hook"] == "INPUT" else ln["to"]
		k = sum(1 for x in sents if any(self.same(x, d, raw=(key == "raw")) for d in got[key]))
		return "accept=%d/%d" % (k, n)

	def craft(self, ln):
		p = dict(ln["pkt"])
		src_ep = ln["from"]
		n = self.t.nets[src_ep]
		if p["proto"] == 6:
			k = self.fkey(6, p["src"], p["sport"], p["dst"], p["dport"])
			f = self.flows.setdefault(k, {})
			me, peer = (p["src"], p["sport"]), (p["dst"], p["dport"])
			if me not in f:
				f[me] = 1000000 * (len(self.flows) + 1)
			p["seq"] = f[me] + p.get("seqoff", 0)
			p["ack"] = (f.get(peer, 0) + p.get("ackoff", 0)) if "A" in p["flags"] else 0
			if p.get("seqoff", 0) == 0:
				f[me] = (p["seq"] + len(p["data"]) + ("S" in p["flags"]) +
				         ("F" in p["flags"])) & 0xFFFFFFFF
		if "about" in p:
			q = p["about"]
			qp = {"proto": q["proto"], "src": q["src"], "dst": q["dst"], "sport": q["sport"],
			      "dport": q["dport"], "flags": "S", "seq": 0, "ack": 0, "data": b"",
			      "ttl": 63, "type": 8, "code": 0}
			k = self.fkey(q["proto"], q["src"], q["sport"], q["dst"], q["dport"])
			qp["seq"] = self.flows.get(k, {}).get((q["src"], q["sport"]), 0)
			if q["proto"] == 6:
				qp["flags"] = "A"
			p["data"] = build_ip(self.fam, qp, 1)[:(28 if self.fam == 4 else 48)]
		self.ident += 1
		pkt = build_ip(self.fam, p, self.ident)
		dmac = bytes.fromhex(n["hmac"].replace(":", ""))
		if ln["opts"].get("l2") == "bcast":
			dmac = b"\xff" * 6
		elif ln["opts"].get("l2") == "mcast":
			dmac = bytes.fromhex("01005e0000fb" if self.fam == 4 else "3333000000fb")
		eth = dmac + bytes.fromhex(n["mac"].replace(":", "")) + \
			(b"\x08\x00" if self.fam == 4 else b"\x86\xdd")
		self.sniff[src_ep].send(eth + pkt)
		return {"ident": self.ident, "l4": build_l4(self.fam, p)[:16], "pkt": p}

	def raw_out(self, ln):
		"""A packet H itself sends (OUTPUT) from a raw socket, mark set."""
		p = dict(ln["pkt"])
		p.setdefault("seq", 1)
		p.setdefault("ack", 0)
		self.ident += 1
		with Netns(self.t.host):
			if self.fam == 4:
				s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
			else:
				s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, p["proto"])
				if p["proto"] == 58:
					s.setsockopt(socket.IPPROTO_IPV6, 7, 2)	# IPV6_CHECKSUM offset
		if "mark" in ln["opts"]:
			s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, ln["opts"]["mark"])
		try:	# a DROP in OUTPUT answers EPERM
			if self.fam == 4:
				s.sendto(build_ip(4, p, self.ident), (p["dst"], 0))
			else:
				s.sendto(build_l4(6, p), (p["dst"], 0))
		except OSError:
			pass
		s.close()
		return {"ident": self.ident, "l4": build_l4(self.fam, p)[:16], "pkt": p,
		        "v6raw": self.fam == 6}

	def real_connect(self, p, opts):
		with Netns(self.t.host):
			kind = socket.SOCK_STREAM if p["proto"] == 6 else socket.SOCK_DGRAM
			s = socket.socket(self.af, kind)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		if "mark" in opts:
			s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, opts["mark"])
		s.bind(("", p["sport"]))
		s.setblocking(False)
		try:
			s.connect((p["dst"], p["dport"]))
		except OSError:	# EINPROGRESS, or EPERM from a DROP in OUTPUT
			pass
		self.conns[(p["sport"], p["dport"])] = s

	def real_send(self, p, opts):
		s = self.conns.get((p["sport"], p["dport"]))
		if s is None:
			self.real_connect(p, opts)
			s = self.conns[(p["sport"], p["dport"])]
		try:
			s.send(p["data"] or b"x")
		except OSError:
			pass

	# verdicts ----------------------------------------------------------------------
	def judge(self, ln, sent, got):
		p = ln["pkt"]
		hook = ln["hook"]
		if ln["to"] not in got:	# an address behind an endpoint: any of them
			got[ln["to"]] = [d for n in self.t.nets for d in got[n]]
		if hook == "INPUT":
			ok = any(self.same(sent, d, raw=True) for d in got["raw"])
		elif sent is not None:
			ok = any(self.same(sent, d) for d in got[ln["to"]])
		else:	# a real socket of H: anything of the flow at the endpoint
			ok = any(d.get("src") == p["src"] and d.get("dst") == p["dst"] and
			         d.get("proto") == p["proto"] and d.get("sport") == p["sport"] and
			         d.get("dport") == p["dport"] for d in got[ln["to"]])
		replies = []
		if hook != "OUTPUT":
			for d in got[ln["from"]]:
				r = self.reply_of(p, d)
				if r and r not in replies:
					replies.append(r)
		out = "accept" if ok else "drop"
		if replies:
			out += " reply=" + ",".join(sorted(replies))
		return out

	def same(self, sent, d, raw=False):
		if raw and self.fam == 6:
			return d["l4"] == sent["l4"] and d["proto"] == sent["pkt"]["proto"]
		if sent.get("v6raw"):
			return d["l4"][:4] == sent["l4"][:4] and d["l4"][4:] == sent["l4"][4:] \
				and d["proto"] == sent["pkt"]["proto"]
		return d.get("id") == sent["ident"] and d["l4"][4:] == sent["l4"][4:] \
			if self.fam == 4 else d.get("id") == sent["ident"]

	def reply_of(self, p, d):
		if d.get("dst") != p["src"]:
			return None
		if d["proto"] == p["proto"] and d.get("sport") == p["dport"] and \
				d.get("dport") == p["sport"]:
			if d["proto"] == 6:
				return "tcp:" + d["flags"]
			if d["proto"] in (1, 58):
				return "icmp:%d/%d" % (d["type"], d["code"])
			return "udp"
		inner = d.get("inner")
		if inner and inner.get("src") == p["src"] and inner.get("proto") == p["proto"] and \
				inner.get("sport") == p.get("sport") and inner.get("dport") == p.get("dport"):
			return "icmp:%d/%d" % (d["type"], d["code"])
		return None


# ---- the sequence file ---------------------------------------------------------------
def parse_seq(path):
	fam, nets, listen, lines, joins = 4, {}, [], [], []
	nats = []
	for no, raw in enumerate(open(path), 1):
		text = raw.split("#", 1)[0].strip()
		if not text:
			continue
		w = text.split()
		if w[0] == "family":
			fam = int(w[1])
		elif w[0] == "net":	# net NAME ADDR/PLEN host HADDR if IFNAME
			a, plen = w[2].split("/")
			nets[w[1]] = {"addr": a, "plen": int(plen), "haddr": w[4], "ifname": w[6]}
		elif w[0] == "listen":	# listen tcp|udp PORT...
			listen += [(w[1], int(x)) for x in w[2:]]
		elif w[0] == "route":	# route PREFIX NET: H routes PREFIX to NET's endpoint
			nets["__routes"] = nets.get("__routes", []) + [(w[1], w[2])]
		elif w[0] == "join":	# join GROUP...: H joins on its first interface
			joins += w[1:]
		elif w[0] == "nat":	# nat CMD...: run in H before the rules, every mode
			if len(w) < 2 or w[1] not in ("nft", "ip"):
				raise SeqError("%s:%d: nat takes an nft or ip command" % (path, no))
			nats.append(w[1:])
		elif w[0] in ("INPUT", "FORWARD", "OUTPUT"):
			lines.append((no, text))
		else:
			raise SeqError("%s:%d: unknown line '%s'" % (path, no, text))
	nets["__nat"] = nats
	return fam, nets, listen, lines, joins


def endpoint(tok):
	name, _, port = tok.partition(":")
	return name, int(port) if port else 0


def parse_line(pl, no, text):
	"""HOOK FROM>TO PROTO [key=value...] [=> EXPECT]"""
	text, _, expect = text.partition("=>")
	w = text.split()
	hook = w[0]
	a, b = w[1].split(">")
	(fn, sport), (tn, dport) = endpoint(a), endpoint(b)
	proto = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}[w[2]]
	opts = {}
	kind = "craft" if fn != "host" else "rawout"
	for t in w[3:]:
		if t in ("connect", "send"):
			kind = t
			continue
		k, _, v = t.partition("=")
		opts[k] = v
	p = {"proto": proto, "sport": sport, "dport": dport, "flags": opts.get("flags", "S"),
	     "data": b"d" * int(opts.get("data", "0")), "ttl": int(opts.get("ttl", "64")),
	     "type": int(opts.get("type", "8" if proto == 1 else "128")),
	     "code": int(opts.get("code", "0")), "seq": 0, "ack": 0}
	p["src"] = opts.get("src", pl.addr(fn if fn != "host" else "host@" + tn))
	p["dst"] = opts.get("dst", pl.addr(tn if tn != "host" else "host@" + fn))
	if proto in (1, 58) and p["type"] in (0, 8, 128, 129):
		p["sport"] = p["dport"] = int(opts.get("id", "77"))
	if proto in (1, 58) and kind == "craft":
		p["data"] += struct.pack("!I", no)
	if "seq" in opts:
		p["seqoff"] = int(opts["seq"])
	if "ack" in opts:
		p["ackoff"] = int(opts["ack"])
	if "mark" in opts:
		opts["mark"] = int(opts["mark"], 0)
	if "about" in opts:	# about=SRC:SPORT>DST:DPORT/PROTO
		fl, _, pr = opts["about"].partition("/")
		x, y = fl.split(">")
		(qs, qsp), (qd, qdp) = endpoint(x), endpoint(y)
		p["about"] = {"proto": {"tcp": 6, "udp": 17}[pr], "src": pl.addr(qs),
		              "dst": pl.addr(qd), "sport": qsp, "dport": qdp}
	return {"no": no, "hook": hook, "from": fn, "to": tn, "kind": kind, "pkt": p,
	        "opts": opts, "expect": expect.strip()}


# ---- loading the rules --------------------------------------------------------------
def tag_rules(rules, tag, tmp):
	"""A copy of RULES whose LOG prefixes start with TAG (verdicts unchanged)."""
	out = os.path.join(tmp, "rules.tagged")
	with open(out, "w") as f:
		f.write(open(rules).read().replace('--log-prefix "', '--log-prefix "' + tag))
	return out


def log_lines(tag):
	"""The kernel log lines carrying TAG, as 'LEVEL TEXT' without the tag."""
	r = sh("dmesg", "-x", check=False)
	out = []
	for x in r.stdout.splitlines():
		if tag not in x:
			continue
		head, _, text = x.partition("] ")
		level = head.split(":")[1].strip() if head.count(":") >= 2 else "?"
		out.append("%s %s" % (level, text.replace(tag, "", 1).strip()))
	return out


def load_kernel(topo, fam, rules):
	tool = "ip6tables-legacy-restore" if fam == 6 else "iptables-legacy-restore"
	r = subprocess.run(["ip", "netns", "exec", topo.host, tool], stdin=open(rules),
	                   capture_output=True, text=True, timeout=30)
	if r.returncode:
		raise SeqError("kernel %s: %s" % (tool, r.stderr.strip()))


def start_bpfilter(topo, fam, rules, hook, bpfilter, tmp):
	sock = os.path.join(tmp, "sock")
	log = open(os.path.join(tmp, "daemon.log"), "w")
	cmd = ["ip", "netns", "exec", topo.host, bpfilter, "daemon", "--hook", hook,
	       "--socket", sock, "--state-dir", os.path.join(tmp, "state")]
	for n in topo.nets.values():
		cmd += ["--iface", n["ifname"]]
	d = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
	for _ in range(100):
		if os.path.exists(sock) or d.poll() is not None:
			break
		time.sleep(0.1)
	if hook == "xdp":
		# veth hands XDP_TX frames (REJECT at XDP) only to a peer with an
		# XDP program: a pass-all bpfilter (no rules) on each endpoint.
		for name, ns in topo.ns.items():
			ep = subprocess.Popen(["ip", "netns", "exec", ns, bpfilter, "daemon", "--iface", "ep0",
			                       "--hook", "xdp", "--socket", os.path.join(tmp, name + ".sock"),
			                       "--state-dir", os.path.join(tmp, name + ".state")],
			                      stdout=log, stderr=subprocess.STDOUT)
			topo.helpers.append(ep)
		for _ in range(50):
			if all(os.path.exists(os.path.join(tmp, n + ".sock")) for n in topo.ns):
				break
			time.sleep(0.1)
	tool = "ip6tables-legacy-restore" if fam == 6 else "iptables-legacy-restore"
	r = subprocess.run(["ip", "netns", "exec", topo.host, "timeout", "60", bpfilter, "exec",
	                    "--socket", sock, "--", tool], stdin=open(rules),
	                   capture_output=True, text=True)
	if r.returncode:
		why = r.stderr.strip().splitlines()
		dl = open(os.path.join(tmp, "daemon.log")).read().splitlines()
		reason = [x for x in dl if "not supported" in x or "refused" in x]
		tool_says = [x for x in why if "Couldn't load" in x]
		warned = [x for x in why if "not supported" in x]
		msg = (tool_says[0] if tool_says else reason[-1] if reason else
		       warned[0] if warned else why[0] if why else "exit %d" % r.returncode)
		if "(legacy): " in msg:		# iptables' own "Couldn't load match" line
			msg = msg[msg.index("(legacy): ") + 10:]
		if "chain " in msg:	# the rule and the reason, not the pid
			msg = msg[msg.index("chain "):]
		if "cannot reach the helper" in msg and dl:	# why the daemon is gone
			msg += " (daemon %s: %s)" % ("exit %d" % d.poll() if d.poll() is not None
			                             else "running", dl[-1].strip())
		return d, msg.strip()
	return d, None


def sysctl_set(path, value):
	"""Write VALUE to the sysctl PATH and read it back; SeqError if it did not take.

	The value goes with its newline: kernel.printk_devkmsg's handler takes
	"on\\n" but refuses a bare "on" with EINVAL (it wants the string and
	exactly one more byte), and a Python file closed by the garbage collector
	drops that error. That is how the ufw run lost its 11th LOG line: the
	setting silently stayed "ratelimit" (10 lines per 5 s per writer).
	"""
	with open(path, "w") as f:
		f.write(value + "\n")
	got = open(path).read().strip()
	if got != value:
		raise SeqError("%s is %r after writing %r" % (path, got, value))


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--rules", required=True)
	ap.add_argument("--seq", required=True)
	ap.add_argument("--mode", choices=("kernel", "xdp", "tc"), required=True)
	ap.add_argument("--bpfilter", default="build/bpfilter")
	ap.add_argument("--tmp", default="/tmp")
	ap.add_argument("--log-tag", default="",
	                help="prefix LOG lines with this tag and print them at the end")
	a = ap.parse_args()
	fam, nets, listen, lines, joins = parse_seq(a.seq)
	routes = nets.pop("__routes", [])
	nats = nets.pop("__nat", [])
	tag = "%d%s" % (PID, a.mode[0])
	topo = Topo(fam, nets, tag)
	daemon = None
	rc = 0
	rules = a.rules
	allns = "/proc/sys/net/netfilter/nf_log_all_netns"
	allns_old = None
	devkmsg = "/proc/sys/kernel/printk_devkmsg"
	devkmsg_old = None
	try:
		if a.log_tag:
			os.makedirs(a.tmp, exist_ok=True)
			rules = tag_rules(a.rules, a.log_tag, a.tmp)
			if a.mode == "kernel":	# the kernel logs nothing from a netns otherwise
				allns_old = open(allns).read().strip()
				sysctl_set(allns, "1")
			else:	# /dev/kmsg's default "ratelimit" passes 10 lines per 5 s per
				# writer (docs/design-notes.md); the kernel's LOG has no limit
				devkmsg_old = open(devkmsg).read().strip()
				sysctl_set(devkmsg, "on")
		topo.setup()
		for pfx, via in routes:
			topo.nsx(topo.host, "ip", "-%d" % fam, "route", "add", pfx, "via", nets[via]["addr"])
		# the nat set-up (an nft nat table, an address for SNAT): the same
		# in the kernel and the bpfilter runs, the kernel applies it in
		# both (bpfilter reads the entries' SNAT/DNAT status); it goes
		# with H's namespace
		for cmd in nats:
			topo.nsx(topo.host, *cmd)
		if a.mode == "kernel":
			load_kernel(topo, fam, rules)
		else:
			daemon, why = start_bpfilter(topo, fam, rules, a.mode, a.bpfilter, a.tmp)
			if why:
				print("refused: %s" % why)
				return 3
		pl = Player(topo, fam, listen)
		pl.join(joins)
		for no, text in lines:
			ln = parse_line(pl, no, text)
			print("%d %s" % (no, pl.play(ln)), flush=True)
		if a.log_tag:
			time.sleep(0.5)
			for x in log_lines(a.log_tag):
				print("log " + x)
	except SeqError as e:
		print("error: %s" % e)
		rc = 2
	finally:
		if allns_old is not None:
			sysctl_set(allns, allns_old)
		if devkmsg_old is not None:
			sysctl_set(devkmsg, devkmsg_old)
		if daemon:
			daemon.kill()
			daemon.wait()
		topo.teardown()
	return rc


if __name__ == "__main__":
	sys.exit(main())
