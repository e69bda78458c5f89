#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Random rule sets and edge-biased packets for the differential campaign.

    rulegen.py [--seed S] [--count N] OUT_PREFIX

writes OUT_PREFIX.rules (an iptables-save filter table using every match
and inversion bpfilter translates, user chains, jumps, gotos, RETURNs and
policies) and OUT_PREFIX.pkts (N packet lines per chain in "--- CHAIN"
sections, the format of tests/diff/cases/). Everything is drawn from small
pools (addresses, masks, ports, devices, TTLs, lengths, ICMP types, TCP
options, MAC addresses) so that packets land on rule edges: prefix
boundaries and one bit beyond, range ends and one beyond, flag
combinations, fragments, truncated headers, odd TCP options.

As a module: RuleSet (generate(), render(), packets()) is what
campaign.py uses, and what its shrinker cuts down.
"""

import argparse
import ipaddress
import random

CHAINS = ("INPUT", "FORWARD", "OUTPUT")
NETS = ("10.1.2.0", "10.1.3.128", "172.16.0.0", "192.168.7.1", "10.200.9.9",
        "8.8.4.0")
ODD_MASKS = ("255.0.255.0", "255.255.0.255", "0.0.0.255", "255.255.255.254",
             "240.0.0.15", "0.0.0.0", "255.255.255.255")
PORTS = (0, 1, 22, 53, 80, 443, 1023, 1024, 8080, 65535)
IF_RULE = ("eth0", "eth1", "eth+", "e+", "+", "veth0", "eth10", "wan0")
IF_PKT = ("eth0", "eth1", "eth10", "eth2", "veth0", "wan0", "e", "et")
TTLS = (0, 1, 2, 63, 64, 65, 128, 254, 255)
LENGTHS = (20, 28, 40, 41, 60, 100, 576, 1500)
ICMP_TYPES = ((0, 0), (3, 0), (3, 3), (3, 13), (8, 0), (11, 0), (11, 1),
              (5, 1), (13, 0))
ICMP_NAMES = {"echo-request": (8, 0), "echo-reply": (0, 0),
              "port-unreachable": (3, 3), "destination-unreachable": (3, None),
              "time-exceeded": (11, None)}
TCP_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG")
FLAG_LETTER = dict(zip(TCP_FLAG_NAMES, "FSRPAU"))
TCP_OPTS = (1, 2, 3, 4, 5, 8, 30, 254)
MACS = ("02:00:00:00:00:02", "02:00:00:00:00:03", "0a:bb:cc:dd:ee:01")
PROTOS = ("tcp", "udp", "icmp", "47", "all")


def inv(rng, p=0.25):
    return rng.random() < p


class RuleSet:
    """policies: chain -> ACCEPT|DROP; chains: user chain names in order
    (a chain only targets chains after it: no loops); rules: list of
    (chain, parts, target) where parts is a list of token strings (one
    per match or ipt_ip field, deletable one by one) and target is
    "-j X", "-g X" or ""."""

    def __init__(self):
        self.policies = {}
        self.chains = []
        self.rules = []
        self.netns = []     # "# netns: CMD" lines (-m addrtype's routes)

    def copy(self):
        rs = RuleSet()
        rs.policies = dict(self.policies)
        rs.chains = list(self.chains)
        rs.rules = [(c, list(p), t) for c, p, t in self.rules]
        rs.netns = list(self.netns)
        return rs

    def text(self):
        """Every rule token and target, for feature tests."""
        return " ".join(" ".join(p) + " " + t for _, p, t in self.rules)

    def uses(self, what):
        """Does the rule set use -m mark / -m limit / -m addrtype?"""
        return ("-m %s " % what) in self.text() + " "

    def render(self):
        out = ["# netns: " + cmd for cmd in self.netns] + ["*filter"]
        for c in CHAINS:
            out.append(":%s %s [0:0]" % (c, self.policies[c]))
        for c in self.chains:
            out.append(":%s - [0:0]" % c)
        for chain, parts, target in self.rules:
            out.append(" ".join(["-A", chain] + parts +
                        ([target] if target else [])))
        out.append("COMMIT")
        return "\n".join(out) + "\n"

    def prune(self):
        """Drop user chains nothing targets any more (repeatedly)."""
        while True:
            used = {t.split()[1] for _, _, t in self.rules if t}
            gone = [c for c in self.chains if c not in used]
            if not gone:
                return
            self.chains = [c for c in self.chains if c in used]
            self.rules = [r for r in self.rules if r[0] not in gone]


class Pools:
    """What the rules mention, for the packet generator."""

    def __init__(self):
        self.addrs = set()  # (net int, mask int)
        self.ports = set(PORTS)
        self.ttls = set(TTLS)
        self.lengths = set(LENGTHS)
        self.icmp = set(ICMP_TYPES)
        self.opts = set(TCP_OPTS)
        self.macs = set(MACS)
        self.flags = {"S", "SA", "A", "FA", "R", "PA", "", "FSRPAU", "FSRPAUEC"}
        self.marks = set(MARKS)
        self.rts = {(0, 0, 0, 0), (2, 1, 2, 0), (4, 3, 4, 0)}
        # Which new features the rule set uses (packets follow them).
        self.mark = False
        self.rt = False
        self.features = set()
        # IPv6: -m frag ids, -m hbh/-m dst option lists, -m addrtype
        self.fhids = {0, 1, 0xffffffff}
        self.optlists = {"hop": [], "dst": []}
        self.addrtype6 = False


def ip2int(a):
    return int(ipaddress.IPv4Address(a))


def int2ip(n):
    return str(ipaddress.IPv4Address(n & 0xFFFFFFFF))


def gen_mask(rng):
    if rng.random() < 0.25:
        return rng.choice(ODD_MASKS)
    return str(rng.choice((0, 1, 8, 15, 16, 17, 23, 24, 25, 28, 31, 32)))


def mask_int(mask):
    if "." in mask:
        return ip2int(mask)
    return (0xFFFFFFFF << (32 - int(mask))) & 0xFFFFFFFF


def gen_addr(rng, pools):
    net = ip2int(rng.choice(NETS)) + rng.choice((0, 0, 0, 1, 255, 256))
    mask = gen_mask(rng)
    pools.addrs.add((net & 0xFFFFFFFF, mask_int(mask)))
    return "%s/%s" % (int2ip(net), mask)


def gen_port_spec(rng, pools, allow_range=True):
    a = rng.choice(PORTS) + rng.choice((0, 0, 0, 1, -1))
    a = min(max(a, 0), 65535)
    pools.ports.add(a)
    if allow_range and rng.random() < 0.4:
        b = min(max(rng.choice(PORTS) + rng.choice((0, 1, -1)), 0), 65535)
        lo, hi = min(a, b), max(a, b)
        pools.ports.update((lo, hi))
        if rng.random() < 0.1:
            return "%d:" % lo if rng.random() < 0.5 else ":%d" % hi
        return "%d:%d" % (lo, hi)
    return str(a)


def flags_list(rng):
    if rng.random() < 0.1:
        return rng.choice(("ALL", "NONE"))
    names = [n for n in TCP_FLAG_NAMES if rng.random() < 0.4]
    return ",".join(names) if names else "NONE"


def letters(spec):
    if spec == "ALL":
        return "FSRPAU"
    if spec == "NONE":
        return ""
    return "".join(FLAG_LETTER[n] for n in spec.split(","))


def gen_tcp(rng, pools):
    parts = []
    if rng.random() < 0.4:
        parts.append(("! " if inv(rng) else "") + "--sport " +
                 gen_port_spec(rng, pools))
    if rng.random() < 0.5:
        parts.append(("! " if inv(rng) else "") + "--dport " +
                 gen_port_spec(rng, pools))
    roll = rng.random()
    if roll < 0.2:
        parts.append(("! " if inv(rng) else "") + "--syn")
    elif roll < 0.5:
        mask, comp = flags_list(rng), flags_list(rng)
        pools.flags.update((letters(mask), letters(comp)))
        parts.append(("! " if inv(rng) else "") +
                 "--tcp-flags %s %s" % (mask, comp))
    if rng.random() < 0.2:
        opt = rng.choice(TCP_OPTS + (rng.randrange(1, 256),))
        pools.opts.add(opt)
        parts.append(("! " if inv(rng) else "") + "--tcp-option %d" % opt)
    return "-m tcp " + " ".join(parts) if parts else "-m tcp"


def gen_udp(rng, pools):
    parts = []
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--sport " +
                 gen_port_spec(rng, pools))
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--dport " +
                 gen_port_spec(rng, pools))
    return "-m udp " + " ".join(parts) if parts else "-m udp"


def gen_icmp(rng, pools):
    roll = rng.random()
    if roll < 0.1:
        spec = "any"
    elif roll < 0.3:
        spec = rng.choice(sorted(ICMP_NAMES))
    else:
        typ, code = rng.choice(ICMP_TYPES)
        typ = typ + rng.choice((0, 0, 0, 1))
        pools.icmp.add((typ, code))
        spec = str(typ) if rng.random() < 0.4 else "%d/%d" % (typ, code)
    return "-m icmp %s--icmp-type %s" % ("! " if inv(rng) else "", spec)


def gen_multiport(rng, pools):
    kind = rng.choice(("--sports", "--dports", "--ports"))
    items = []
    for _ in range(rng.randrange(1, 6)):
        items.append(gen_port_spec(rng, pools).replace(":", ":", 1))
    items = [i for i in items if not i.startswith(":") and not i.endswith(":")
             and (":" not in i or i.split(":")[0] != i.split(":")[1])]
    if not items:
        items = ["80"]
    return "-m multiport %s%s %s" % ("! " if inv(rng) else "", kind,
                      ",".join(items))


def gen_range(rng, pools):
    net = ip2int(rng.choice(NETS))
    a = net + rng.choice((0, 1, 5, 100, 255))
    b = a + rng.choice((0, 1, 4, 255, 65536))
    pools.addrs.add((a, 0xFFFFFFFF))
    pools.addrs.add((b, 0xFFFFFFFF))
    return "%s-%s" % (int2ip(a), int2ip(b))


def gen_iprange(rng, pools):
    parts = []
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--src-range " +
                 gen_range(rng, pools))
    if not parts or rng.random() < 0.4:
        parts.append(("! " if inv(rng) else "") + "--dst-range " +
                 gen_range(rng, pools))
    return "-m iprange " + " ".join(parts)


def gen_length(rng, pools):
    a = rng.choice(LENGTHS) + rng.choice((0, 0, 1, -1))
    pools.lengths.add(a)
    spec = str(a)
    if rng.random() < 0.6:
        b = a + rng.choice((0, 1, 8, 20, 100, 2000))
        pools.lengths.add(b)
        spec = "%d:%d" % (a, min(b, 65535))
    return "-m length %s--length %s" % ("! " if inv(rng) else "", spec)


def gen_ttl(rng, pools):
    val = rng.choice(TTLS)
    pools.ttls.update((val, max(val - 1, 0), min(val + 1, 255)))
    op = rng.choice(("eq", "eq", "lt", "gt"))
    neg = "! " if op == "eq" and inv(rng) else ""
    return "-m ttl %s--ttl-%s %d" % (neg, op, val)


def gen_pkttype(rng, pools):
    return "-m pkttype %s--pkt-type %s" % ("! " if inv(rng) else "",
        rng.choice(("unicast", "broadcast", "multicast")))


def gen_mac(rng, pools):
    mac = rng.choice(MACS)
    if rng.random() < 0.3:
        mac = mac[:-2] + "%02x" % (int(mac[-2:], 16) + 1)
    pools.macs.add(mac)
    return "-m mac %s--mac-source %s" % ("! " if inv(rng) else "", mac)


def gen_comment(rng, pools):
    return '-m comment --comment "%s"' % rng.choice(("x", "hello world",
                             "rule-%d" % rng.randrange(99)))


# Matches and targets whose verdict depends on more than the packet:
# -m mark (skb->mark: tc only, packets carry mark=), -m limit (a bucket
# per rule: rates so low nothing refills during a run, so only the burst
# counts and the kernel and bpfilter agree packet by packet in order),
# -m addrtype (the routes of ADDRTYPE_NETNS, set up in every namespace).
MARKS = (0, 1, 2, 0x10, 0xff, 0x100, 0xffffffff, 0x80000000)
LIMIT_RATES = ("1/hour", "2/hour", "1/day", "3/day", "1/minute")
ADDR_TYPES = ("UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST",
              "MULTICAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",
              "NAT", "XRESOLVE")
# Routes every namespace of a rule set with -m addrtype gets (the oracle's
# and `bpfilter test`'s): a local /24 and a broadcast address, never
# destinations at FORWARD or OUTPUT (the stack would deliver them
# locally), anywhere as sources and at INPUT (where every destination is
# local already: the oracle's local 0.0.0.0/0 route, ADDRTYPE_INPUT).
ADDRTYPE_NETNS = ("ip link set lo up",
                  "ip route add local 10.1.2.0/24 dev lo table local",
                  "ip route add broadcast 10.1.3.255 dev lo table local")
ADDRTYPE_INPUT = "ip route add local 0.0.0.0/0 dev lo table local"
ADDRTYPE_LOCAL = (0x0A010200, 0xFFFFFF00)
ADDRTYPE_BCAST = 0x0A0103FF
LOG_LEVELS = ("emerg", "alert", "crit", "error", "warning", "notice",
              "info", "debug", "0", "4", "7")
REJECT_WITH = ("icmp-net-unreachable", "icmp-host-unreachable",
               "icmp-port-unreachable", "icmp-proto-unreachable",
               "icmp-net-prohibited", "icmp-host-prohibited",
               "icmp-admin-prohibited")
REJECT_WITH6 = ("icmp6-no-route", "no-route", "icmp6-adm-prohibited",
                "adm-prohibited", "icmp6-addr-unreachable", "addr-unreach",
                "icmp6-port-unreachable")


def gen_mark(rng, pools):
    val = rng.choice(MARKS)
    pools.mark = True
    if rng.random() < 0.4:
        mask = rng.choice((0xf, 0xff, 0xff00, 0x80000000, 0xffffffff, 1))
        pools.marks.update((val & mask, (val & mask) ^ 1, val | ~mask & 0xf0))
        return "-m mark %s--mark 0x%x/0x%x" % ("! " if inv(rng) else "",
                                                val, mask)
    pools.marks.update((val, val ^ 1, val + 1 & 0xffffffff))
    return "-m mark %s--mark 0x%x" % ("! " if inv(rng) else "", val)


def gen_limit(rng, pools):
    """The kernel (and bpfilter) refuse a burst whose credits pass 32
    bits (seconds per packet * burst < 134217 at HZ 250): 1/day takes a
    burst of 1, 3/day up to 4."""
    rate = rng.choice(LIMIT_RATES)
    burst = rng.choice((1, 1, 2, 3, 5, 10))
    burst = min(burst, {"1/day": 1, "3/day": 4}.get(rate, burst))
    return "-m limit --limit %s --limit-burst %d" % (rate, burst)


def gen_addrtype(rng, pools, chain):
    """xt_addrtype rev 1; --limit-iface-in/out only where the chain's
    hook allows it (built-in chains: user chains may be called from any)."""
    parts = []
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--src-type " +
                     ",".join(rng.sample(ADDR_TYPES, rng.choice((1, 1, 2)))))
    if not parts or rng.random() < 0.5:
        parts.append(("! " if inv(rng) else "") + "--dst-type " +
                     ",".join(rng.sample(ADDR_TYPES, rng.choice((1, 1, 2)))))
    roll = rng.random()
    if chain in ("INPUT", "FORWARD") and roll < 0.2:
        parts.append("--limit-iface-in")
    elif chain in ("OUTPUT", "FORWARD") and roll < 0.4:
        parts.append("--limit-iface-out")
    pools.addrs.update((ADDRTYPE_LOCAL, (ADDRTYPE_BCAST, 0xFFFFFFFF)))
    return "-m addrtype " + " ".join(parts)


def gen_rt(rng, pools):
    """-m rt: type, segments left, length (ranges), --rt-0-res."""
    parts = []
    pools.rt = True
    typ = None
    if rng.random() < 0.6:
        typ = rng.choice((0, 0, 2, 3, 4, 255))
        neg = inv(rng)
        parts.append(("! " if neg else "") + "--rt-type %d" % typ)
        if neg:
            typ = None
    if rng.random() < 0.5:
        a = rng.choice((0, 1, 2, 3, 255))
        spec = str(a)
        if rng.random() < 0.4:
            spec = "%d:%d" % (a, min(a + rng.choice((0, 1, 5)), 255))
        parts.append(("! " if inv(rng) else "") + "--rt-segsleft " + spec)
        pools.rts.add((typ or 0, a, rng.choice((0, 1, 2)), 0))
    if rng.random() < 0.4:
        # --rt-len: the header's size in bytes, (length byte + 1) * 8.
        a = rng.choice((8, 16, 24, 40, 0, 2, 136))
        parts.append(("! " if inv(rng) else "") + "--rt-len %d" % a)
        pools.rts.add((typ or 0, 0, max(a // 8 - 1, 0), 0))
    if typ == 0 and rng.random() < 0.3:
        parts.append("--rt-0-res")
        pools.rts.add((0, 1, 2, 1))
    return "-m rt " + " ".join(parts)


def gen_log(rng):
    out = ["-j LOG"]
    if rng.random() < 0.5:
        out.append('--log-prefix "%s"' % rng.choice(("d: ", "x", "rule 7 ")))
    if rng.random() < 0.3:
        out.append("--log-level " + rng.choice(LOG_LEVELS))
    if rng.random() < 0.2:
        out.append(rng.choice(("--log-tcp-sequence", "--log-tcp-options",
                               "--log-ip-options")))
    return " ".join(out)


def gen_reject(rng, parts, family):
    """-j REJECT: tcp-reset only with -p tcp (not inverted)."""
    withs = REJECT_WITH if family == 4 else REJECT_WITH6
    if "-p tcp" in parts and rng.random() < 0.4:
        return "-j REJECT --reject-with tcp-reset"
    if rng.random() < 0.3:
        return "-j REJECT"
    return "-j REJECT --reject-with " + rng.choice(withs)


def gen_rule(rng, pools, chain, allow_mac=True):
    parts = []
    if rng.random() < 0.35:
        parts.append(("! " if inv(rng) else "") + "-s " + gen_addr(rng, pools))
    if rng.random() < 0.35:
        parts.append(("! " if inv(rng) else "") + "-d " + gen_addr(rng, pools))
    if chain != "OUTPUT" and rng.random() < 0.25:
        parts.append(("! " if inv(rng) else "") + "-i " + rng.choice(IF_RULE))
    if chain != "INPUT" and rng.random() < 0.25:
        parts.append(("! " if inv(rng) else "") + "-o " + rng.choice(IF_RULE))
    proto = None
    if rng.random() < 0.6:
        proto = rng.choice(PROTOS)
        neg = proto != "all" and inv(rng, 0.15)
        parts.append(("! " if neg else "") + "-p " + proto)
        if neg:
            proto = None
    if rng.random() < 0.12:
        parts.append(("! " if inv(rng, 0.5) else "") + "-f")
    if proto == "tcp" and rng.random() < 0.85:
        parts.append(gen_tcp(rng, pools))
    elif proto == "udp" and rng.random() < 0.85:
        parts.append(gen_udp(rng, pools))
    elif proto == "icmp" and rng.random() < 0.85:
        parts.append(gen_icmp(rng, pools))
    if proto in ("tcp", "udp") and rng.random() < 0.25:
        parts.append(gen_multiport(rng, pools))
    extra = [gen_iprange, gen_length, gen_ttl, gen_pkttype, gen_comment]
    if chain in ("INPUT", "FORWARD") and allow_mac:
        extra.append(gen_mac)
    for fn in extra:
        if rng.random() < 0.12:
            parts.append(fn(rng, pools))
    gen_new(rng, pools, chain, parts, allow_mac)
    return parts


def gen_new(rng, pools, chain, parts, builtin, family=4):
    """The matches whose verdict needs more than the packet, each in a
    rule set's share FEATURES[...] decides (generate())."""
    feat = pools.features
    if "mark" in feat and rng.random() < 0.15:
        parts.append(gen_mark(rng, pools))
    if "limit" in feat and rng.random() < 0.1:
        parts.append(gen_limit(rng, pools))
    if "addrtype" in feat and family == 4 and rng.random() < 0.2:
        parts.append(gen_addrtype(rng, pools, chain if builtin else "ANY"))
    if "rt" in feat and family == 6 and rng.random() < 0.3:
        parts.append(gen_rt(rng, pools))
    if "frag" in feat and family == 6 and rng.random() < 0.3:
        parts.append(gen_frag(rng, pools))
    if "opts" in feat and family == 6 and rng.random() < 0.3:
        parts.append(gen_opts(rng, pools, rng.choice(("hop", "dst"))))
    if "addrtype" in feat and family == 6 and rng.random() < 0.2:
        parts.append(gen_addrtype6(rng, pools, chain if builtin else "ANY"))


def gen_target(rng, chain, users, parts=(), feat=(), family=4):
    later = users[users.index(chain) + 1:] if chain in users else users
    if "log" in feat and rng.random() < 0.12:
        return gen_log(rng)
    if "reject" in feat and rng.random() < 0.12:
        return gen_reject(rng, parts, family)
    roll = rng.random()
    if later and roll < 0.25:
        return "-j " + rng.choice(later)
    if later and roll < 0.35:
        return "-g " + rng.choice(later)
    if roll < 0.45:
        return "-j RETURN"
    if roll < 0.5:
        return ""
    return "-j " + rng.choice(("ACCEPT", "DROP"))


def reachable(rs, root):
    """The chains `root` can reach by jumps and gotos (itself included)."""
    seen, todo = {root}, [root]
    while todo:
        cur = todo.pop()
        for chain, _, target in rs.rules:
            if chain == cur and target and target.split()[1] in rs.chains:
                nxt = target.split()[1]
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return seen


def reject_output(rs):
    """bpfilter refuses REJECT with an ICMP error where OUTPUT reaches
    (tc egress; tcp-reset is supported): those become tcp-reset after
    -p tcp, else DROP (REJECT's verdict)."""
    out = reachable(rs, "OUTPUT")
    for n, (c, parts, t) in enumerate(rs.rules):
        if c in out and t.startswith("-j REJECT") and "tcp-reset" not in t:
            t = "-j REJECT --reject-with tcp-reset" if "-p tcp" in parts \
                else "-j DROP"
            rs.rules[n] = (c, parts, t)


# bpfilter takes at most 8 different -m frag/-m hbh/-m dst matches per
# table (it refuses more: "at most 8 supported").
MAX_XHDR_MATCHES = 8


def cap_ipv6_opts(rs):
    """Drop -m frag/hbh/dst matches past the 8th different one."""
    seen = set()
    out = []
    for c, parts, t in rs.rules:
        keep = []
        for p in parts:
            if p.startswith(("-m frag ", "-m hbh ", "-m dst ")):
                if p not in seen and len(seen) >= MAX_XHDR_MATCHES:
                    continue
                seen.add(p)
            keep.append(p)
        out.append((c, keep, t))
    rs.rules = out


def avoid(rs, what):
    """Strip matches that hit a known, not yet fixed bpfilter bug, so that
    a long campaign looks for new ones. "ttl-forward": -m ttl wherever
    FORWARD reaches (the kernel decrements the TTL before FORWARD; fixed
    in bpfilter since, kept as the example of the mechanism)."""
    if "ttl-forward" in what:
        fwd = reachable(rs, "FORWARD")
        rs.rules = [(c, [p for p in parts if not (c in fwd and
                                                   p.startswith("-m ttl"))], t)
                    for c, parts, t in rs.rules]
    return rs


# The share of rule sets using each feature (a rule set draws its own
# set: mark rule sets are judged at tc only, limit and addrtype ones are
# not sent through the attached program).
FEATURES = {"mark": 0.25, "limit": 0.25, "addrtype": 0.3, "rt": 0.4,
            "log": 0.35, "reject": 0.35, "frag": 0.4, "opts": 0.4}
# What a family has no such thing for; campaign.py adds what bpfilter
# still refuses.
NO_FEATURES = {4: {"rt", "frag", "opts"}, 6: set()}


# IPv6-only features drawn for IPv6 rule sets only (IPv4 campaigns keep
# the rule sets their seeds gave before these came).
ONLY6 = {"frag", "opts"}


def pick_features(rng, family):
    return {f for f, share in sorted(FEATURES.items())
            if (family == 6 or f not in ONLY6) and rng.random() < share
            and f not in NO_FEATURES[family]}


def generate(rng, avoid_bugs=(), family=4):
    """A random RuleSet and the Pools its packets draw from."""
    rs = RuleSet()
    pools = Pools()
    pools.features = pick_features(rng, family)
    if family == 6:
        pools.lengths = set(LENGTHS6)
        pools.icmp = set(ICMP6_TYPES)
    rule = gen_rule if family == 4 else gen_rule6
    for c in CHAINS:
        rs.policies[c] = rng.choice(("ACCEPT", "DROP"))
    rs.chains = ["u%d" % i for i in range(rng.randrange(0, 5))]
    for chain in CHAINS + tuple(rs.chains):
        nrules = rng.randrange(1, 12 if chain in CHAINS else 6)
        for _ in range(nrules):
            # -i/-o are allowed in user chains (whatever hook calls
            # them); mac only where every caller can see it.
            kind = chain if chain in CHAINS else rng.choice(("INPUT", "FORWARD", "OUTPUT", "ANY"))
            parts = rule(rng, pools, "OUTPUT" if kind == "ANY" else kind,
                         chain in CHAINS)
            if kind == "ANY" and rng.random() < 0.2:
                parts.insert(0, ("! " if inv(rng) else "") + "-i " + rng.choice(IF_RULE))
            rs.rules.append((chain, parts, gen_target(rng, chain, rs.chains,
                                                      parts, pools.features,
                                                      family)))
    rs.prune()
    cap_ipv6_opts(rs)
    reject_output(rs)
    if family == 4 and rs.uses("addrtype"):
        rs.netns = list(ADDRTYPE_NETNS)
    if family == 6 and rs.uses("addrtype"):
        rs.netns = list(ADDRTYPE6_NETNS)
    avoid(rs, avoid_bugs)
    return rs, pools


# IPv6 rule sets (ip6tables-save): the same structure and matches where
# ip6tables has them, 128-bit prefixes and ranges, icmp6, hl, protocols
# that are extension headers (which ip6tables warns never match).

NETS6 = ("2001:db8::", "2001:db8:1::", "fd00::", "fd00:1::", "fd00:1:2:3::",
         "2a00:1450:4001::", "fe80::", "2001:db8:ffff:ffff:ffff:ffff:ffff:0")
PREFIXES6 = (0, 1, 8, 16, 31, 32, 33, 47, 48, 49, 63, 64, 65, 96, 112, 120,
             127, 128)
ODD_MASKS6 = ("ffff:0:ffff::", "::ffff", "ffff:ffff::ffff:ffff",
              "fff0::", "::")
LENGTHS6 = (40, 48, 56, 60, 61, 64, 100, 1280, 1500)
ICMP6_TYPES = ((1, 0), (1, 3), (1, 4), (2, 0), (3, 0), (3, 1), (4, 0),
               (128, 0), (129, 0), (133, 0), (135, 0), (136, 0))
ICMP6_NAMES = {"echo-request": (128, 0), "echo-reply": (129, 0),
               "destination-unreachable": (1, None),
               "port-unreachable": (1, 4), "packet-too-big": (2, 0),
               "time-exceeded": (3, None), "parameter-problem": (4, None)}
PROTOS6 = ("tcp", "udp", "ipv6-icmp", "icmpv6", "47", "all", "132", "50",
           "44", "0", "59", "51", "60", "43")
MASK128 = (1 << 128) - 1


def ip6int(a):
    return int(ipaddress.IPv6Address(a))


def int2ip6(n):
    return str(ipaddress.IPv6Address(n & MASK128))


def mask6_int(mask):
    if ":" in mask:
        return ip6int(mask)
    return (MASK128 << (128 - int(mask))) & MASK128


def gen_addr6(rng, pools):
    net = ip6int(rng.choice(NETS6)) + rng.choice((0, 0, 0, 1, 1 << 16,
                                                  1 << 64, 1 << 80))
    if rng.random() < 0.15:
        mask = rng.choice(ODD_MASKS6)
    else:
        mask = str(rng.choice(PREFIXES6))
    pools.addrs.add((net & MASK128, mask6_int(mask)))
    return "%s/%s" % (int2ip6(net), mask)


def gen_icmp6(rng, pools):
    roll = rng.random()
    if roll < 0.3:
        name = rng.choice(sorted(ICMP6_NAMES))
        typ, code = ICMP6_NAMES[name]
        pools.icmp.add((typ, code or 0))
        spec = name
    else:
        typ, code = rng.choice(ICMP6_TYPES)
        typ = typ + rng.choice((0, 0, 0, 1))
        pools.icmp.add((typ, code))
        spec = str(typ) if rng.random() < 0.4 else "%d/%d" % (typ, code)
    return "-m icmp6 %s--icmpv6-type %s" % ("! " if inv(rng) else "", spec)


def gen_range6(rng, pools):
    a = ip6int(rng.choice(NETS6)) + rng.choice((0, 1, 5, 255, 1 << 64))
    b = a + rng.choice((0, 1, 4, 255, 1 << 16, 1 << 64))
    pools.addrs.add((a & MASK128, MASK128))
    pools.addrs.add((b & MASK128, MASK128))
    return "%s-%s" % (int2ip6(a), int2ip6(b))


def gen_iprange6(rng, pools):
    parts = []
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--src-range " +
                     gen_range6(rng, pools))
    if not parts or rng.random() < 0.4:
        parts.append(("! " if inv(rng) else "") + "--dst-range " +
                     gen_range6(rng, pools))
    return "-m iprange " + " ".join(parts)


def gen_length6(rng, pools):
    a = rng.choice(LENGTHS6) + rng.choice((0, 0, 1, -1))
    pools.lengths.add(a)
    spec = str(a)
    if rng.random() < 0.6:
        b = a + rng.choice((0, 1, 8, 20, 100, 2000))
        pools.lengths.add(b)
        spec = "%d:%d" % (a, min(b, 65535))
    return "-m length %s--length %s" % ("! " if inv(rng) else "", spec)


def gen_hl(rng, pools):
    val = rng.choice(TTLS)
    pools.ttls.update((val, max(val - 1, 0), min(val + 1, 255)))
    op = rng.choice(("eq", "eq", "lt", "gt"))
    neg = "! " if op == "eq" and inv(rng) else ""
    return "-m hl %s--hl-%s %d" % (neg, op, val)


FRAG_IDS = (0, 1, 5, 100, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff)
# Option types for hop-by-hop headers: none the kernel's ip6_parse_tlv()
# drops before any hook (the two high bits 00; router alert only with
# length 2, PadN within 7 bytes of padding); destination options any.
HBH_TYPES = (0, 1, 5, 30, 31, 62)
DST_TYPES = (0, 1, 5, 30, 31, 62, 0x80, 0xc2, 255)


def gen_frag(rng, pools):
    """-m frag (ip6t_frag): --fragid [!] a[:b] (ranges at the ends of 32
    bits, reversed ones too), --fraglen (never compared), --fragres,
    --fragfirst, --fragmore / --fraglast."""
    parts = []
    if rng.random() < 0.6:
        a = rng.choice(FRAG_IDS)
        spec = "%d" % a
        ends = [a]
        if rng.random() < 0.5:
            b = min(a + rng.choice((0, 1, 100, 1 << 20)), 0xffffffff)
            if rng.random() < 0.1:
                a, b = b, max(a - 1, 0)
            spec = "%d:%d" % (a, b)
            ends.append(b)
        for e in ends:
            pools.fhids.update(x & 0xffffffff for x in (e - 1, e, e + 1))
        parts.append(("! " if inv(rng) else "") + "--fragid " + spec)
    if rng.random() < 0.15:
        parts.append("--fraglen %d" % rng.choice((0, 8, 99, 1480)))
    if rng.random() < 0.25:
        parts.append("--fragres")
    if rng.random() < 0.3:
        parts.append("--fragfirst")
    roll = rng.random()
    if roll < 0.25:
        parts.append("--fragmore")
    elif roll < 0.5:
        parts.append("--fraglast")
    if not parts:
        parts.append("--fragid %d" % rng.choice(FRAG_IDS))
    return "-m frag " + " ".join(parts)


def gen_opts(rng, pools, kind):
    """-m hbh / -m dst (ip6t_opts): [!] --hbh-len/--dst-len (bytes),
    --hbh-opts/--dst-opts type[:len],... (the options in order)."""
    name = "hbh" if kind == "hop" else "dst"
    parts = []
    if rng.random() < 0.5:
        parts.append(("! " if inv(rng) else "") + "--%s-len %d" %
                     (name, rng.choice((8, 8, 16, 24, 0, 9))))
    if not parts or rng.random() < 0.7:
        types = HBH_TYPES if kind == "hop" else DST_TYPES
        opts = []
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            t = rng.choice(types)
            if t == 0:
                opts.append((0, None))
                continue
            ln = rng.choice((None, 0, 2, 2, 4)) if t != 5 else \
                rng.choice((None, 2))
            opts.append((t, ln))
        pools.optlists[kind].append(opts)
        parts.append("--%s-opts " % name + ",".join(
            str(t) if ln is None else "%d:%d" % (t, ln) for t, ln in opts))
    return "-m %s " % name + " ".join(parts)


# ip6tables -m addrtype: the types addrtype_mt_checkentry_v1() takes for
# IPv6 (BROADCAST, BLACKHOLE, PROHIBIT and up: EINVAL). LOCAL, ANYCAST and
# UNREACHABLE come from a route lookup (match_lookup_rt6()), in the routes
# of ROUTES6; bpfilter refuses them with --limit-iface-in/out (the kernel's
# lookup is then strict on the device), so those go without.
ADDR_TYPES6 = ("UNSPEC", "UNICAST", "LOCAL", "ANYCAST", "MULTICAST",
               "UNREACHABLE")
ADDR_LOOKUP6 = ("LOCAL", "ANYCAST", "UNREACHABLE")
# Routes of every namespace of an IPv6 rule set with -m addrtype (the
# oracle's, `bpfilter test`'s): (kind, prefix, table). Kinds: local (type
# local via lo), reject (unreachable/prohibit/blackhole), throw, dev (a
# connected route out of ADT6_DEV), gw (via a gateway), lo (a unicast
# route via lo: a reject route), anylo (an anycast route via lo: reject),
# anydev (a user's anycast route out of a device: a plain route; its
# prefix address is still the subnet-router anycast). Edges: prefix
# addresses (subnet-router anycast of routes shorter than /127), a /127
# and /128s (never anycast), a gateway /96 hiding a connected /64's prefix,
# a throw in local over a local /64 of main, reject routes in both tables,
# a throw in main (no route: UNREACHABLE).
ADT6_DEV = "adt6a"
ROUTES6 = (
    ("local", "2001:db8:1:5::/64", "main"),
    ("local", "2001:db8:1:6::7/128", "main"),
    ("local", "2001:db8:1:7::/64", "local"),
    ("throw", "2001:db8:1:5:8000::/65", "local"),
    ("unreachable", "2001:db8:1:9::/64", "main"),
    ("prohibit", "2001:db8:1:a::/64", "main"),
    ("blackhole", "2001:db8:1:b::/64", "main"),
    ("unreachable", "2001:db8:1:c::/64", "local"),
    ("throw", "2001:db8:1:d::/64", "main"),
    ("prohibit", "2001:db8:1:e::/64", "local"),
    ("dev", "2001:db8:1:30::/64", "main"),
    ("gw", "2001:db8:1:30::/96", "main"),
    ("gw", "2001:db8:1:20::/64", "main"),
    ("lo", "2001:db8:1:42::/64", "main"),
    ("anylo", "2001:db8:1:41::/64", "main"),
    ("anylo", "2001:db8:1:44::/64", "local"),
    ("anydev", "2001:db8:1:43::/64", "main"),
    ("dev", "2001:db8:1:50::/126", "main"),
    ("dev", "2001:db8:1:52::/127", "main"),
    ("dev", "2001:db8:1:54::1/128", "main"),
    ("dev", "fd00:1:2:3::/64", "main"),
    ("gw", "::/0", "main"),
)
# At INPUT the oracle's local ::/0 route (every destination is local);
# `bpfilter test` gets it too when the rules file has netns lines.
ADDRTYPE6_INPUT = "ip -6 route add local ::/0 dev lo table local"
ROUTE6_INPUT = ("local", "::/0", "local")


def route6_cmd(kind, prefix, table):
    """The ip command for a ROUTES6 entry: always with its table (ip puts
    local and anycast routes in table local when none is given)."""
    tab = " table " + table
    if prefix == "::/0":
        prefix = "default"
    if kind in ("unreachable", "prohibit", "blackhole", "throw"):
        return "ip -6 route add %s %s%s" % (kind, prefix, tab)
    via = {"local": "local %s dev lo", "dev": "%s dev " + ADT6_DEV,
           "gw": "%s via fe80::1 dev " + ADT6_DEV, "lo": "%s dev lo",
           "anylo": "anycast %s dev lo",
           "anydev": "anycast %s dev " + ADT6_DEV}[kind]
    return "ip -6 route add " + via % prefix + tab


ADDRTYPE6_NETNS = ("ip link set lo up",
                   "ip link add %s type veth peer name adt6b" % ADT6_DEV,
                   "ip link set adt6b up", "ip link set %s up" % ADT6_DEV) + \
    tuple(route6_cmd(*r) for r in ROUTES6)


def route6_of(addr, chain):
    """The route the kernel's lookup ends on for addr (table local, then
    main; a throw goes on): (kind, net, plen) or None (no route)."""
    routes = ROUTES6 + ((ROUTE6_INPUT,) if chain == "INPUT" else ())
    for table in ("local", "main"):
        best = None
        for kind, prefix, tab in routes:
            if tab != table:
                continue
            net, plen = prefix.split("/")
            plen = int(plen)
            mask = mask6_int(str(plen))
            if addr & mask == ip6int(net) and \
                    (best is None or plen > best[2]):
                best = (kind, ip6int(net), plen)
        if best and best[0] != "throw":
            return best
    return None


def route6_deliverable(addr, chain):
    """Can a packet to addr reach chain's hook in the oracle? INPUT: its
    route is local; FORWARD/OUTPUT: only the default route (the oracle's
    own, out of the packet's oif) covers it."""
    r = route6_of(addr, chain)
    if chain == "INPUT":
        return r is not None and r[0] == "local"
    return r is not None and r[2] == 0


def gen_addrtype6(rng, pools, chain):
    """-m addrtype in ip6tables: every type the kernel takes for IPv6,
    --limit-iface-in/out only with UNSPEC/UNICAST/MULTICAST."""
    parts = []
    pools.addrtype6 = True
    for net, plen in ((r[1].split("/")[0], r[1].split("/")[1])
                      for r in ROUTES6 if r[1] != "::/0"):
        pools.addrs.add((ip6int(net), mask6_int(plen)))
    if rng.random() < 0.6:
        parts.append(("! " if inv(rng) else "") + "--src-type " +
                     ",".join(rng.sample(ADDR_TYPES6, rng.choice((1, 1, 2)))))
    if not parts or rng.random() < 0.5:
        parts.append(("! " if inv(rng) else "") + "--dst-type " +
                     ",".join(rng.sample(ADDR_TYPES6, rng.choice((1, 1, 2)))))
    if any(t in p for p in parts for t in ADDR_LOOKUP6):
        return "-m addrtype " + " ".join(parts)
    roll = rng.random()
    if chain in ("INPUT", "FORWARD") and roll < 0.2:
        parts.append("--limit-iface-in")
    elif chain in ("OUTPUT", "FORWARD") and roll < 0.4:
        parts.append("--limit-iface-out")
    return "-m addrtype " + " ".join(parts)


def gen_rule6(rng, pools, chain, allow_mac=True):
    parts = []
    # -m addrtype rule sets: some rules with nothing else, so that the
    # route lookup decides verdicts often (among the other matches of a
    # rule, its answers are mostly hidden).
    if "addrtype" in pools.features and rng.random() < 0.15:
        return [gen_addrtype6(rng, pools, chain if allow_mac else "ANY")]
    if rng.random() < 0.4:
        parts.append(("! " if inv(rng) else "") + "-s " + gen_addr6(rng, pools))
    if rng.random() < 0.4:
        parts.append(("! " if inv(rng) else "") + "-d " + gen_addr6(rng, pools))
    if chain != "OUTPUT" and rng.random() < 0.25:
        parts.append(("! " if inv(rng) else "") + "-i " + rng.choice(IF_RULE))
    if chain != "INPUT" and rng.random() < 0.25:
        parts.append(("! " if inv(rng) else "") + "-o " + rng.choice(IF_RULE))
    proto = None
    if rng.random() < 0.6:
        proto = rng.choice(PROTOS6)
        neg = proto not in ("all", "0") and inv(rng, 0.15)
        parts.append(("! " if neg else "") + "-p " + proto)
        if neg:
            proto = None
    if proto == "tcp" and rng.random() < 0.85:
        parts.append(gen_tcp(rng, pools))
    elif proto == "udp" and rng.random() < 0.85:
        parts.append(gen_udp(rng, pools))
    elif proto in ("ipv6-icmp", "icmpv6") and rng.random() < 0.85:
        parts.append(gen_icmp6(rng, pools))
    if proto in ("tcp", "udp") and rng.random() < 0.25:
        parts.append(gen_multiport(rng, pools))
    extra = [gen_iprange6, gen_length6, gen_hl, gen_pkttype, gen_comment]
    if chain in ("INPUT", "FORWARD") and allow_mac:
        extra.append(gen_mac)
    for fn in extra:
        if rng.random() < 0.12:
            parts.append(fn(rng, pools))
    gen_new(rng, pools, chain, parts, allow_mac, 6)
    return parts


# Packets.

def martian(addr):
    first = addr >> 24
    return first in (0, 127) or first >= 224 or addr == 0xC00002FE


def pick_addr(rng, pools):
    while True:
        roll = rng.random()
        if pools.addrs and roll < 0.85:
            net, mask = rng.choice(sorted(pools.addrs))
            rnd = rng.getrandbits(32)
            edge = rng.random()
            if edge < 0.25:
                host = 0
            elif edge < 0.5:
                host = 0xFFFFFFFF
            else:
                host = rnd
            addr = (net & mask) | (host & ~mask & 0xFFFFFFFF)
            if rng.random() < 0.3:
                addr ^= 1 << rng.randrange(32)
            elif rng.random() < 0.2:
                addr += rng.choice((1, -1))
            addr &= 0xFFFFFFFF
        else:
            addr = rng.getrandbits(32)
        if not martian(addr):
            return int2ip(addr)


def pick_port(rng, pools):
    if rng.random() < 0.9:
        return min(max(rng.choice(sorted(pools.ports)) +
                   rng.choice((-1, 0, 0, 0, 1)), 0), 65535)
    return rng.randrange(65536)


def pick_opts(rng, pools):
    """TCP option bytes, sometimes malformed (length 0/1, overlong,
    kinds after EOL)."""
    out = b""
    for _ in range(rng.randrange(1, 5)):
        kind = rng.choice(sorted(pools.opts) + [0])
        roll = rng.random()
        if kind in (0, 1):
            out += bytes([kind])
        elif roll < 0.1:
            out += bytes([kind, rng.choice((0, 1))])
        elif roll < 0.15:
            out += bytes([kind, 40])
        elif roll < 0.2:
            out += bytes([kind])
        else:
            ln = {2: 4, 3: 3, 4: 2, 8: 10}.get(kind, rng.randrange(2, 7))
            out += bytes([kind, ln]) + bytes(rng.getrandbits(8)
                             for _ in range(ln - 2))
    return out[:40].hex()


def addrtype_local(addr):
    """Is addr local or broadcast by ADDRTYPE_NETNS's routes?"""
    n = ip2int(addr)
    return n & ADDRTYPE_LOCAL[1] == ADDRTYPE_LOCAL[0] or n == ADDRTYPE_BCAST


def pick_mark(rng, pools, toks):
    """mark= for rule sets with -m mark (a few values per rule set, so
    the oracle changes its MARK rule rarely)."""
    if pools.mark and rng.random() < 0.6:
        if not hasattr(pools, "mark_pick"):
            vals = sorted(pools.marks)
            pools.mark_pick = rng.sample(vals, min(6, len(vals)))
        toks.append("mark=0x%x" % rng.choice(pools.mark_pick))


def packet(rng, pools, chain):
    dst = pick_addr(rng, pools)
    # At FORWARD and OUTPUT the stack would deliver these locally.
    while "addrtype" in pools.features and chain != "INPUT" and \
            addrtype_local(dst):
        dst = pick_addr(rng, pools)
    toks = ["src=" + pick_addr(rng, pools), "dst=" + dst]
    proto = rng.choice(("tcp", "tcp", "tcp", "udp", "udp", "icmp", "icmp",
                "47", "132"))
    toks.append("proto=" + proto)
    hdr = 20
    if proto in ("tcp", "udp"):
        toks += ["sport=%d" % pick_port(rng, pools),
             "dport=%d" % pick_port(rng, pools)]
        hdr += 8
    if proto == "tcp":
        hdr += 12
        flags = rng.choice(sorted(pools.flags))
        if rng.random() < 0.3:
            flags = "".join(c for c in "FSRPAUEC" if rng.random() < 0.35)
        toks.append("flags=" + (flags or "none"))
        if rng.random() < 0.2:
            opts = pick_opts(rng, pools)
            toks.append("opts=" + opts)
            hdr += (len(opts) // 2 + 3) // 4 * 4
    if proto == "icmp":
        hdr += 8
        typ, code = rng.choice(sorted(pools.icmp))
        if rng.random() < 0.3:
            code = code + 1 if code is not None else 0
        if rng.random() < 0.1:
            typ = rng.randrange(256)
        toks += ["type=%d" % typ, "code=%d" % (code or 0)]
    if chain != "OUTPUT":
        toks.append("iif=" + rng.choice(IF_PKT))
    if chain != "INPUT":
        toks.append("oif=" + rng.choice(IF_PKT))
    if rng.random() < 0.3:
        ttl = rng.choice(sorted(pools.ttls))
        if chain == "FORWARD" and ttl < 2 and rng.random() < 0.8:
            ttl = 2
        toks.append("ttl=%d" % ttl)
    roll = rng.random()
    frag = False
    if chain != "INPUT" and roll < 0.08:
        toks.append("frag=" + rng.choice(("first", "nonfirst", "1", "2",
                          "8191")))
        frag = True
    elif chain == "INPUT" and roll < 0.01:
        toks.append("frag=" + rng.choice(("first", "nonfirst")))
        frag = True
    roll = rng.random()
    if roll < 0.1 and not frag:
        toks.append("len=%d" % rng.randrange(20, max(hdr, 21)))
    elif roll < 0.25:
        ln = rng.choice(sorted(pools.lengths)) + rng.choice((-1, 0, 1))
        if ln >= 20 and ln <= 1500:
            toks.append("len=%d" % ln)
    if chain != "OUTPUT":
        roll = rng.random()
        if roll < 0.1 and chain == "INPUT":
            toks.append("pkttype=" + rng.choice(("broadcast", "multicast")))
        elif roll < 0.02:
            toks.append("pkttype=" + rng.choice(("broadcast", "multicast")))
        if rng.random() < 0.3:
            toks.append("smac=" + rng.choice(sorted(pools.macs)))
    pick_mark(rng, pools, toks)
    return " ".join(toks)


def martian6(addr, chain):
    """Addresses ip6_rcv_core() / ip6_forward() drop before any hook:
    ::, ::1, ::ffff:0:0/96, multicast; link-local at FORWARD."""
    if addr in (0, 1) or addr >> 32 == 0xFFFF or addr >> 120 == 0xFF:
        return True
    return chain != "INPUT" and addr >> 118 == 0x3FA	# fe80::/10


def link_local(addr):
    return addr >> 118 == 0x3FA


def pick_addr6(rng, pools, chain, role):
    while True:
        if pools.addrs and rng.random() < 0.85:
            net, mask = rng.choice(sorted(pools.addrs))
            edge = rng.random()
            if edge < 0.25:
                host = 0
            elif edge < 0.5:
                host = MASK128
            else:
                host = rng.getrandbits(128)
            addr = (net & mask) | (host & ~mask & MASK128)
            roll = rng.random()
            if roll < 0.3:
                # one bit beyond: around the prefix boundary mostly
                plen = bin(mask).count("1")
                bit = 127 - min(127, max(0, plen - 1 + rng.choice((0, 1, -1))))
                addr ^= 1 << (bit if rng.random() < 0.7 else
                              rng.randrange(128))
            elif roll < 0.45:
                addr += rng.choice((1, -1))
            addr &= MASK128
        else:
            addr = ip6int(rng.choice(NETS6)) | rng.getrandbits(64)
        # Link-local: never as destination (INPUT's local ::/0 route does
        # not cover another link's; a raw socket needs a scope to send to
        # one), as source only where nothing is forwarded.
        if martian6(addr, chain):
            continue
        if link_local(addr) and (role == "dst" or chain == "FORWARD"):
            continue
        return int2ip6(addr)


EXT_CHOICES = ("hop", "dst", "rt", "frag", "ah")


def pick_ext(rng, chain):
    """ext= (and frag=): extension header chains, hop-by-hop only first."""
    exts = []
    if rng.random() < 0.45:
        return exts, None
    if rng.random() < 0.35:
        exts.append("hop")
    for _ in range(rng.randrange(0, 3)):
        # hop-by-hop past the first place: the kernel filters it (only
        # ip6_input_finish() refuses it, after LOCAL_IN)
        exts.append(rng.choice(EXT_CHOICES[1:] if rng.random() < 0.9
                               else EXT_CHOICES))
    if not exts:
        exts.append(rng.choice(EXT_CHOICES))
    frag = None
    if "frag" in exts:
        # only one fragment header
        first = exts.index("frag")
        exts = [e for i, e in enumerate(exts) if e != "frag" or i == first]
        frag = rng.choice(("first", "nonfirst", "none", "1", "2", "8191"))
    if rng.random() < 0.1:
        exts.append("none")
    return exts, frag


def rt_cut(exts, ln):
    """Does an IPv6 datagram of ln bytes cut a routing header of ext=
    short of 4 bytes?"""
    off = 40
    for e in exts:
        if e == "none":
            break
        if e == "rt" and off < ln < off + 4:
            return True
        off += 16 if e == "ah" else 8
    return False


def hbh_ok(opts):
    """Would the kernel's ip6_parse_tlv() pass a hop-by-hop header with
    these option bytes (and the Pad1 bytes filling it to 8)?"""
    n = (2 + len(opts) + 7) // 8 * 8
    hdr = b"\0\0" + opts + b"\0" * (n - 2 - len(opts))
    off, pad, count = 2, 0, 0
    while off < n:
        t = hdr[off]
        if t == 0:
            pad += 1
            off += 1
            if pad > 7:
                return False
            continue
        if off + 1 >= n or off + 2 + hdr[off + 1] > n:
            return False
        ln = hdr[off + 1] + 2
        if t == 1:
            pad += ln
            if pad > 7 or any(hdr[off + 2:off + ln]):
                return False
        else:
            pad = 0
            count += 1
            if t >> 6 or (t == 5 and ln != 4):
                return False
        off += ln
    return count <= 8


def opt_bytes(rng, spec):
    out = b""
    for t, ln in spec:
        if t == 0:
            out += b"\0"
            continue
        if ln is None:
            ln = 2 if t == 5 else rng.choice((0, 2, 4))
        out += bytes([t, ln]) + b"\0" * ln
    return out


def pick_xopts(rng, pools, kind):
    """hopts=/dopts= for a rule set's option lists: the list itself, one
    type or length off, an option less or more, (destination options) an
    option running past the header's end; hop-by-hop ones only as the
    kernel's ip6_parse_tlv() passes them."""
    types = HBH_TYPES if kind == "hop" else DST_TYPES
    for _ in range(5):
        spec = list(rng.choice(pools.optlists[kind]))
        roll = rng.random()
        i = rng.randrange(len(spec))
        t, ln = spec[i]
        if roll < 0.45:
            pass
        elif roll < 0.6:
            spec[i] = (rng.choice(types), ln)
        elif roll < 0.75:
            spec[i] = (t, max((ln if ln is not None else 2) +
                              rng.choice((-1, 1)), 0))
        elif roll < 0.85:
            if rng.random() < 0.5 and len(spec) > 1:
                spec.pop()
            else:
                spec.append((rng.choice(types), rng.choice((None, 0))))
        out = opt_bytes(rng, spec)
        if kind == "dst" and roll >= 0.85:
            n = (2 + len(out) + 7) // 8 * 8
            out += bytes([30, n - len(out) + rng.choice((-2, -1, 0, 4))])
        if len(out) > 60:
            continue
        if kind == "dst" or hbh_ok(out):
            return out.hex()
    return None


def xhdr_len(kind, toks):
    """The size of ext= header kind in packet6's tokens."""
    key = {"hop": "hopts=", "dst": "dopts="}.get(kind)
    for t in toks:
        if key and t.startswith(key):
            return (2 + len(t) // 2 - 3 + 7) // 8 * 8
    return 16 if kind == "ah" else 8


def pick_fh(rng, pools, exts, frag, toks):
    """-m frag rule sets: a fragment header (first, non-first, last,
    atomic) with ids at the rules' range ends, reserved fields set; fh=
    on every packet with one."""
    if rng.random() < 0.5 and "frag" not in exts:
        at = 1 if exts[:1] == ["hop"] else 0
        exts.insert(rng.randrange(at, len(exts) + 1)
                    if exts[-1:] != ["none"] else at, "frag")
        frag = rng.choice(("first", "nonfirst", "none", "1", "8191"))
    # Always fh=: without it the oracle's fragment id is the packet's
    # ident, `bpfilter test`'s 1 (campaign rg2c/22, rg2c/31).
    if "frag" in exts:
        f = [rng.choice(sorted(pools.fhids))]
        if rng.random() < 0.3:
            f.append(rng.choice((0, 0, 1, 255)))
            if rng.random() < 0.6:
                f.append(rng.choice((0, 1, 2, 3)))
                if rng.random() < 0.5:
                    f.append(rng.choice((0, 1)))
        toks.append("fh=" + ":".join(str(x) for x in f))
    return frag


def addr6_extra(rng, pools, chain, toks):
    """-m addrtype rule sets: the unspecified source (INPUT), IPv4-mapped
    and -compatible sources, a multicast destination at INPUT, a mapped
    one at OUTPUT."""
    roll = rng.random()
    if roll < 0.1 and chain == "INPUT":
        toks[0] = "src=::"
    elif roll < 0.2:
        toks[0] = "src=::ffff:10.0.0.%d" % rng.choice((0, 2))
    elif roll < 0.25:
        toks[0] = "src=::10.0.0.2"
    roll = rng.random()
    if roll < 0.12 and chain == "INPUT":
        toks[1] = "dst=ff02::1"
        return True
    if roll < 0.2 and chain == "OUTPUT":
        toks[1] = "dst=::ffff:10.0.0.1"
    return False


def route6_edges():
    """Each ROUTES6 prefix's first address (the subnet-router anycast of
    those shorter than /127), its neighbours and its last address."""
    out = set()
    for _, prefix, _ in ROUTES6:
        net, plen = prefix.split("/")
        if plen == "0":
            continue
        lo = ip6int(net)
        hi = lo | (~mask6_int(plen) & MASK128)
        out.update((lo, lo - 1, lo + 1, hi, hi + 1))
    return sorted(out)


def addr6_routes(rng, pools, chain, toks):
    """-m addrtype rule sets: sources on ROUTES6's edges; destinations too
    where the packet still reaches the hook, and never one the stack would
    not bring to it (route6_deliverable())."""
    edges = route6_edges()
    if rng.random() < 0.3:
        addr = rng.choice(edges)
        if not martian6(addr, chain) and not link_local(addr):
            toks[0] = "src=" + int2ip6(addr)
    if rng.random() < 0.3:
        addr = rng.choice(edges)
        if route6_deliverable(addr, chain) and not martian6(addr, chain):
            toks[1] = "dst=" + int2ip6(addr)
    for _ in range(100):
        if route6_deliverable(ip6int(toks[1][4:]), chain):
            return
        toks[1] = "dst=" + pick_addr6(rng, pools, chain, "dst")
    toks[1] = "dst=2001:db8:ffff::1"


def packet6(rng, pools, chain, avoid_bugs=()):
    toks = ["src=" + pick_addr6(rng, pools, chain, "src"),
            "dst=" + pick_addr6(rng, pools, chain, "dst")]
    if pools.addrtype6:
        addr6_routes(rng, pools, chain, toks)
    proto = rng.choice(("tcp", "tcp", "tcp", "udp", "udp", "icmp6", "icmp6",
                        "47", "132", "50"))
    toks.append("proto=" + proto)
    l4 = 0
    if proto in ("tcp", "udp"):
        toks += ["sport=%d" % pick_port(rng, pools),
                 "dport=%d" % pick_port(rng, pools)]
        l4 = 8
    if proto == "tcp":
        l4 = 20
        flags = rng.choice(sorted(pools.flags))
        if rng.random() < 0.3:
            flags = "".join(c for c in "FSRPAUEC" if rng.random() < 0.35)
        toks.append("flags=" + (flags or "none"))
        if rng.random() < 0.2:
            opts = pick_opts(rng, pools)
            toks.append("opts=" + opts)
            l4 += (len(opts) // 2 + 3) // 4 * 4
    if proto == "icmp6":
        l4 = 8
        typ, code = rng.choice(sorted(pools.icmp))
        if rng.random() < 0.3:
            code = code + 1 if code is not None else 0
        if rng.random() < 0.1:
            typ = rng.randrange(256)
        toks += ["type=%d" % typ, "code=%d" % (code or 0)]
    if chain != "OUTPUT":
        toks.append("iif=" + rng.choice(IF_PKT))
    if chain != "INPUT":
        toks.append("oif=" + rng.choice(IF_PKT))
    if rng.random() < 0.3:
        ttl = rng.choice(sorted(pools.ttls))
        if chain == "FORWARD" and ttl < 2 and rng.random() < 0.8:
            ttl = 2
        toks.append("ttl=%d" % ttl)
    exts, frag = pick_ext(rng, chain)
    if pools.rt and rng.random() < 0.3 and "rt" not in exts:
        exts.insert(1 if exts[:1] == ["hop"] else 0, "rt")
    mcast = pools.addrtype6 and addr6_extra(rng, pools, chain, toks)
    xtoks = []
    if "frag" in pools.features:
        frag = pick_fh(rng, pools, exts, frag, xtoks)
    for kind, name in (("hop", "hopts"), ("dst", "dopts")):
        if not pools.optlists[kind] or rng.random() < 0.2:
            continue
        if kind not in exts and rng.random() < 0.6:
            if kind == "hop":
                exts.insert(0, "hop")
            else:
                exts.insert(rng.randrange(1 if exts[:1] == ["hop"] else 0,
                                          len(exts) + 1)
                            if exts[-1:] != ["none"] else 0, "dst")
        if kind in exts:
            opts = pick_xopts(rng, pools, kind)
            if opts:
                xtoks.append("%s=%s" % (name, opts))
    if exts:
        toks.append("ext=" + ",".join(exts))
    toks += xtoks
    if "rt" in exts and pools.rt and rng.random() < 0.8:
        typ, segs, hlen, res = rng.choice(sorted(pools.rts))
        if rng.random() < 0.3:
            segs = min(segs + rng.choice((-1, 1)), 255) if segs else 1
        toks.append("rt=%d:%d:%d:%d" % (typ, segs, hlen, res))
    if frag:
        toks.append("frag=" + frag)
    ext_len = sum(xhdr_len(e, toks) for e in exts if e != "none")
    rt_tok = [t for t in toks if t.startswith("rt=")]
    if rt_tok:
        ext_len += 8 * int(rt_tok[0].split(":")[2])
    # ip6_rcv_core() parses only a first hop-by-hop header.
    hop = 40 + xhdr_len("hop", toks) if exts and exts[0] == "hop" else 40
    roll = rng.random()
    ln = None
    cut = [e for e in exts if e in ("frag", "dst") and
           ("frag" in pools.features or pools.optlists["dst"])]
    if cut and "none" not in exts and rng.random() < 0.15:
        # Cut inside (or just before / after) a fragment or destination
        # options header.
        kind = rng.choice(cut)
        off = 40
        for e in exts[:exts.index(kind)]:
            off += xhdr_len(e, toks)
        ln = off + rng.randrange(0, xhdr_len(kind, toks) + 1)
        roll = 1
        if ln < hop:
            ln = None
    if roll < 0.12:
        # Cut anywhere after the hop-by-hop header (ip6_rcv_core() drops
        # a cut one before any hook): into other headers, into L4.
        ln = rng.randrange(hop, max(40 + ext_len + l4, hop + 1))
    elif roll < 0.25:
        ln = rng.choice(sorted(pools.lengths)) + rng.choice((-1, 0, 1))
        if not hop <= ln <= 1500:
            ln = None
    # "rt-trunc": a routing header cut short of 4 bytes (bpfilter's walk
    # reads 2, the kernel's 4: tests/diff/cases/ip6-rt-trunc).
    if ln is not None and not ("rt-trunc" in avoid_bugs and rt_cut(exts, ln)):
        toks.append("len=%d" % ln)
    if chain != "OUTPUT":
        roll = rng.random()
        if roll < 0.1 and chain == "INPUT":
            toks.append("pkttype=" + rng.choice(("broadcast", "multicast")))
        elif roll < 0.02:
            toks.append("pkttype=" + rng.choice(("broadcast", "multicast")))
        if rng.random() < 0.3:
            toks.append("smac=" + rng.choice(sorted(pools.macs)))
    if mcast and not any(t.startswith("pkttype=") for t in toks):
        toks.append("pkttype=multicast")
    pick_mark(rng, pools, toks)
    return " ".join(toks)


def packets(rng, pools, chain, count, family=4, avoid_bugs=()):
    if family == 4:
        return [packet(rng, pools, chain) for _ in range(count)]
    return [packet6(rng, pools, chain, avoid_bugs) for _ in range(count)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="bpfilter")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("-6", dest="family", action="store_const", const=6,
                    default=4, help="an ip6tables rule set, IPv6 packets")
    ap.add_argument("out")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rs, pools = generate(rng, (), args.family)
    with open(args.out + ".rules", "w") as f:
        f.write("# rulegen.py --seed %s\n" % args.seed)
        f.write(rs.render())
    with open(args.out + ".pkts", "w") as f:
        for chain in CHAINS:
            f.write("--- %s\n" % chain)
            for line in packets(rng, pools, chain, args.count, args.family):
                f.write(line + "\n")


if __name__ == "__main__":
    main()
