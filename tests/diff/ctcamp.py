#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Stateful differential campaign: random rule sets with -m conntrack /
-m state (and REJECT, LOG, ports, addresses, devices, user chains) and
random packet sequences, played with real packets through the kernel's
own iptables-legacy and through the program `bpfilter daemon` attached
at XDP and at tc (tests/rulesets/seqrun.py: one host namespace H between
two endpoint namespaces, INPUT, FORWARD and OUTPUT, H's kernel answering
as a real host).

    ctcamp.py [--family 4|6] [--sets N] [--seed S] [--jobs J]
              [--hooks xdp,tc] [--out DIR] [-v]

--family 6 (CT_FAMILY=6) plays the same scenarios with ip6tables-legacy
and IPv6 packets: ICMPv6 echo (128/129) and errors (type 1, 3) about a
flow, REJECT with the ICMPv6 --reject-with values, -m icmp6.

Rule set i and its sequence come from seed "S/i". A sequence interleaves
short scenarios: TCP handshakes (to a listener, to a closed port), data,
out-of-window segments, FIN, RST and segments after them, stray ACKs,
UDP request and answer, ICMP errors about a flow (and about none),
pings, H's own connections out, and the same through FORWARD. Every
line's verdict and the replies the sender got (reply=: the SYN-ACK, RST,
ICMP error, REJECT's answer) must be the kernel's; OUTPUT lines at XDP
are not compared (XDP sees no locally generated packets). A line that
differs is played again (both sides, the whole sequence): if it then
agrees it was a flake (timing under load), counted and printed;
otherwise the rule set and the sequence cut after that line are written
to DIR (NAME.rules, NAME.seq) as the reproducer.

Exit: 0 no mismatch and no error, 1 otherwise, 4 skipped (not root).
"""

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEQRUN = os.path.join(ROOT, "tests", "rulesets", "seqrun.py")
BPFILTER = os.environ.get("BPFILTER", os.path.join(ROOT, "build", "bpfilter"))

STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED")
TCP_PORTS = ("22", "80", "81", "8080", "1024:65535", "22:80")

# What differs between the families: the sequence's head, the rules'
# addresses, protocol and ICMP match, REJECT's values, and the ICMP
# types/codes of the sequences (echo request/reply; "port unreachable"
# and friends, about a flow).
FAMILIES = {
    4: {
        "head": """family 4
net peer 10.77.1.2/24 host 10.77.1.1 if eth0
net far 10.77.2.2/24 host 10.77.2.1 if eth1
listen tcp 22 80
listen udp 53
""",
        "addrs": ("10.77.1.0/24", "10.77.2.0/24", "10.77.1.2", "10.77.2.2",
                  "10.77.1.1", "10.77.2.1", "10.0.0.0/8"),
        "proto": "icmp",
        "icmp_match": "-m icmp %s--icmp-type %s",
        "icmp_types": ("echo-request", "echo-reply",
                       "destination-unreachable", "3/3"),
        "reject": ("icmp-port-unreachable", "icmp-host-prohibited",
                   "icmp-net-unreachable", "icmp-admin-prohibited"),
        "seqproto": "icmp",
        "echo": (8, 0),
        "unreach": 3,
        "unreach_codes": (3, 1, 13),
        "port_unreach": "type=3 code=3",
        "iptables": "iptables",
    },
    6: {
        "head": """family 6
net peer fd77:1::2/64 host fd77:1::1 if eth0
net far fd77:2::2/64 host fd77:2::1 if eth1
listen tcp 22 80
listen udp 53
""",
        "addrs": ("fd77:1::/64", "fd77:2::/64", "fd77:1::2", "fd77:2::2",
                  "fd77:1::1", "fd77:2::1", "fd77::/16"),
        "proto": "ipv6-icmp",
        "icmp_match": "-m icmp6 %s--icmpv6-type %s",
        "icmp_types": ("echo-request", "echo-reply",
                       "destination-unreachable", "port-unreachable",
                       "1/4", "time-exceeded"),
        # not at OUTPUT: bpfilter refuses ICMPv6 REJECT there
        "reject": ("icmp6-port-unreachable", "icmp6-adm-prohibited",
                   "icmp6-addr-unreachable", "icmp6-no-route"),
        "seqproto": "icmp6",
        "echo": (128, 129),
        "unreach": 1,
        # port, administratively prohibited, address unreachable, no route
        "unreach_codes": (4, 1, 3, 0),
        "port_unreach": "type=1 code=4",
        "iptables": "ip6tables",
    },
}
F = FAMILIES[4]		# the family of this run (set in one_set())


def inv(rng, p=0.2):
    return "! " if rng.random() < p else ""


def gen_state(rng):
    states = rng.sample(F.get("states", STATES), rng.choice((1, 1, 1, 2, 3)))
    if rng.random() < 0.3:	# -m state has no UNTRACKED, SNAT, DNAT
        states = [s for s in states if s not in ("UNTRACKED", "SNAT", "DNAT")] \
            or ["NEW"]
        return "-m state %s--state %s" % (inv(rng), ",".join(states))
    return "-m conntrack %s--ctstate %s" % (inv(rng), ",".join(states))


def gen_rule(rng, chain):
    parts = []
    if rng.random() < 0.2:
        parts.append("%s-s %s" % (inv(rng), rng.choice(F["addrs"])))
    if rng.random() < 0.2:
        parts.append("%s-d %s" % (inv(rng), rng.choice(F["addrs"])))
    if chain in ("INPUT", "FORWARD") and rng.random() < 0.15:
        parts.append("%s-i %s" % (inv(rng), rng.choice(("eth0", "eth1", "eth+"))))
    if chain in ("OUTPUT", "FORWARD") and rng.random() < 0.15:
        parts.append("%s-o %s" % (inv(rng), rng.choice(("eth0", "eth1", "eth+"))))
    proto = None
    if rng.random() < 0.5:
        proto = rng.choice(("tcp", "tcp", "udp", F["proto"]))
        parts.append("-p " + proto)
        if proto == "tcp" and rng.random() < 0.7:
            sub = []
            if rng.random() < 0.6:
                sub.append("%s--dport %s" % (inv(rng), rng.choice(TCP_PORTS)))
            if rng.random() < 0.3:
                sub.append("%s--sport %s" % (inv(rng), rng.choice(TCP_PORTS)))
            if rng.random() < 0.3:
                sub.append(rng.choice(("--syn", "! --syn",
                                       "--tcp-flags SYN,ACK,FIN,RST ACK",
                                       "--tcp-flags RST RST")))
            parts.append("-m tcp " + " ".join(sub))
        elif proto == "udp" and rng.random() < 0.6:
            parts.append("-m udp %s--%s %s" % (
                inv(rng), rng.choice(("dport", "sport")),
                rng.choice(("53", "5000", "1024:65535"))))
        elif proto == F["proto"] and rng.random() < 0.6:
            parts.append(F["icmp_match"] % (inv(rng),
                                            rng.choice(F["icmp_types"])))
    if rng.random() < 0.7:
        parts.append(gen_state(rng))
    return parts, proto


def gen_target(rng, chain, proto, users, output):
    later = users[users.index(chain) + 1:] if chain in users else users
    roll = rng.random()
    if later and roll < 0.15:
        return "-j " + rng.choice(later)
    if roll < 0.22:
        return '-j LOG --log-prefix "ct "'
    if roll < 0.35:
        if proto == "tcp" and rng.random() < 0.5:
            return "-j REJECT --reject-with tcp-reset"
        if output:
            return "-j DROP"	# bpfilter refuses ICMP REJECT at OUTPUT
        return "-j REJECT --reject-with " + rng.choice(F["reject"])
    if chain in users and roll < 0.45:
        return "-j RETURN"
    return "-j " + rng.choice(("ACCEPT", "ACCEPT", "DROP"))


def gen_rules(rng):
    users = ["c%d" % i for i in range(rng.randrange(0, 3))]
    out = ["*filter"]
    for c in ("INPUT", "FORWARD", "OUTPUT"):
        pol = rng.choice(("ACCEPT", "DROP")) if c != "OUTPUT" else \
            rng.choice(("ACCEPT", "ACCEPT", "DROP"))
        out.append(":%s %s [0:0]" % (c, pol))
    for u in users:
        out.append(":%s - [0:0]" % u)
    # A designed difference: the kernel's conntrack confirms a locally
    # generated connection's first packet before tc egress, so when
    # bpfilter's OUTPUT drops it the entry stays (the kernel's OUTPUT
    # drops it before the confirmation: no entry, the answer is INVALID,
    # not ESTABLISHED). OUTPUT lets NEW through first.
    # The same for the replies REJECT sends (RELATED, nf_ct_attach()):
    # the kernel's pass OUTPUT, bpfilter's skip it (docs/design-notes.md,
    # "Targets: LOG and REJECT").
    out.append("-A OUTPUT -m conntrack --ctstate NEW,RELATED -j ACCEPT")
    if F is FAMILIES[6]:
        # Neighbour discovery first: H's kernel resolves its neighbours
        # with NS/NA (ND is UNTRACKED in both, ip6tables filters it like any
        # packet). A random DROP of it would make H unable to answer or
        # forward at all, so the lines after it would test no state.
        for t in ("135", "136"):
            for c in ("INPUT", "OUTPUT"):
                out.append("-A %s -p ipv6-icmp -m icmp6 --icmpv6-type %s "
                           "-j ACCEPT" % (c, t))
    # user chains may be reached from OUTPUT: no ICMP REJECT there
    for chain in ("INPUT", "FORWARD", "OUTPUT") + tuple(users):
        for _ in range(rng.randrange(1, 7 if chain not in users else 4)):
            parts, proto = gen_rule(rng, chain if chain not in users else "ANY")
            tgt = gen_target(rng, chain, proto, users,
                             chain == "OUTPUT" or chain in users)
            out.append(" ".join(["-A", chain] + parts + [tgt]))
    out.append("COMMIT")
    return "\n".join(out) + "\n"


# Scenarios: lists of sequence lines (without "=>"), played in order;
# several are interleaved. P is a client port unique to the scenario.

def sc_tcp_in(rng, p):
    port = rng.choice((22, 80, 81))
    f = "INPUT peer:%d>host:%d tcp" % (p, port)
    lines = [f + " flags=S"]
    if rng.random() < 0.8:
        lines.append(f + " flags=A")
        if rng.random() < 0.7:
            lines.append(f + " flags=PA data=20")
        if rng.random() < 0.3:
            lines.append(f + " flags=PA data=10 seq=300000000")
        if rng.random() < 0.2:
            lines.append(f + " flags=S")	# a SYN in an established flow
        end = rng.choice(("FA", "R", "RA", None))
        if end:
            lines.append(f + " flags=" + end)
            if rng.random() < 0.5:
                lines.append(f + " flags=PA data=10")
    return lines


def sc_stray(rng, p):
    return ["INPUT peer:%d>host:%d tcp flags=%s" % (
        p, rng.choice((22, 80, 81)), rng.choice(("A", "PA data=5", "R", "FA",
                                                 "SA", "F")))]


def sc_udp_in(rng, p):
    port = rng.choice((53, 53, 5000))
    lines = ["INPUT peer:%d>host:%d udp data=12" % (p, port)]
    if rng.random() < 0.4:
        lines.append("INPUT peer:%d>host:%d udp data=12" % (p, port))
    return lines


def sc_udp_out(rng, p):
    lines = ["OUTPUT host:%d>peer:53 udp send data=12" % p]
    roll = rng.random()
    if roll < 0.6:
        lines.append("INPUT peer:53>host:%d udp data=40" % p)
    if rng.random() < 0.4:
        lines.append("INPUT peer>host %s type=%d code=%d "
                     "about=host:%d>peer:53/udp" %
                     (F["seqproto"], F["unreach"],
                      rng.choice(F["unreach_codes"]), p))
    if F is FAMILIES[6] and rng.random() < 0.15:	# time exceeded
        lines.append("INPUT peer>host icmp6 type=3 code=0 "
                     "about=host:%d>peer:53/udp" % p)
    return lines


def sc_icmp_unknown(rng, p):
    return ["INPUT peer>host %s %s about=host:%d>peer:53/udp" %
            (F["seqproto"], F["port_unreach"], p)]


def sc_ping(rng, p):
    req, rep = F["echo"]
    lines = ["INPUT peer>host %s type=%d id=%d" % (F["seqproto"], req,
                                                   p % 60000)]
    if rng.random() < 0.3:
        lines.append("INPUT peer>host %s type=%d id=%d" % (F["seqproto"], rep,
                                                           p % 60000))
    return lines


def sc_tcp_out(rng, p):
    f = "INPUT far:8080>host:%d tcp" % p
    lines = ["OUTPUT host:%d>far:8080 tcp connect" % p, f + " flags=SA"]
    if rng.random() < 0.4:
        lines.append(f + " flags=PA data=10")
    if rng.random() < 0.3:
        lines.append(f + " flags=" + rng.choice(("R", "FA")))
    return lines


def sc_fwd_tcp(rng, p):
    a = "FORWARD peer:%d>far:80 tcp" % p
    b = "FORWARD far:80>peer:%d tcp" % p
    lines = [a + " flags=S"]
    if rng.random() < 0.8:
        lines.append(b + " flags=SA")
        lines.append(a + " flags=A")
        if rng.random() < 0.6:
            lines.append(a + " flags=PA data=10")
        if rng.random() < 0.3:
            lines.append(b + " flags=PA data=10 seq=300000000")
        if rng.random() < 0.5:
            lines.append(rng.choice((a, b)) + " flags=" + rng.choice(("R", "FA")))
            if rng.random() < 0.4:
                lines.append(a + " flags=PA data=5")
    elif rng.random() < 0.5:
        lines.append(b + " flags=R")
    return lines


def sc_fwd_udp(rng, p):
    lines = ["FORWARD peer:%d>far:53 udp data=8" % p]
    if rng.random() < 0.7:
        lines.append("FORWARD far:53>peer:%d udp data=20" % p)
    if rng.random() < 0.4:
        lines.append("FORWARD far>peer %s %s about=peer:%d>far:53/udp"
                     % (F["seqproto"], F["port_unreach"], p))
    return lines


def sc_fwd_ping(rng, p):
    req, rep = F["echo"]
    lines = ["FORWARD peer>far %s type=%d id=%d" % (F["seqproto"], req,
                                                    p % 60000)]
    if rng.random() < 0.6:
        lines.append("FORWARD far>peer %s type=%d id=%d" % (
            F["seqproto"], rep, p % 60000))
    return lines


SCENARIOS = (sc_tcp_in, sc_tcp_in, sc_stray, sc_udp_in, sc_udp_out,
             sc_icmp_unknown, sc_ping, sc_tcp_out, sc_fwd_tcp, sc_fwd_tcp,
             sc_fwd_udp, sc_fwd_ping)


# --nat (IPv4): H's nft nat table DNATs TCP to its port 9000 to its port
# 9001 (a listener) and SNATs its own TCP to far:8081 and UDP to far:5353
# to a second address, 10.77.2.3. The kernel applies it in every run;
# bpfilter only reads the entries' status (--ctstate SNAT/DNAT). Both
# ports and addresses are chosen so that no rule of the set can tell the
# original from the translated value (9000 and 9001 are in the same port
# ranges, 10.77.2.1 is left out of the addresses): bpfilter sees the
# packet before PREROUTING's DNAT and after POSTROUTING's SNAT, the
# kernel's filter the other way round.
SNAT_ADDR = "10.77.2.3"
NAT_HEAD = """listen tcp 9001
nat ip addr add %s/24 dev eth1
nat nft add table ip ctcnat
nat nft add chain ip ctcnat pre { type nat hook prerouting priority -100 ; }
nat nft add chain ip ctcnat post { type nat hook postrouting priority 100 ; }
nat nft add rule ip ctcnat pre ip daddr 10.77.1.1 tcp dport 9000 dnat to 10.77.1.1:9001
nat nft add rule ip ctcnat post ip daddr 10.77.2.2 tcp dport 8081 snat to %s
nat nft add rule ip ctcnat post ip daddr 10.77.2.2 udp dport 5353 snat to %s
""" % (SNAT_ADDR, SNAT_ADDR, SNAT_ADDR)


def sc_dnat_in(rng, p):
    f = "INPUT peer:%d>host:9000 tcp" % p
    lines = [f + " flags=S"]
    if rng.random() < 0.85:
        lines.append(f + " flags=A")
        if rng.random() < 0.7:
            lines.append(f + " flags=PA data=20")
        end = rng.choice(("FA", "R", None))
        if end:
            lines.append(f + " flags=" + end)
    return lines


def sc_snat_tcp(rng, p):
    f = "INPUT far:8081>host:%d tcp dst=%s" % (p, SNAT_ADDR)
    # src=: what far sees (judges H's packet), the socket binds as ever
    lines = ["OUTPUT host:%d>far:8081 tcp connect src=%s" % (p, SNAT_ADDR),
             f + " flags=SA"]
    if rng.random() < 0.5:
        lines.append(f + " flags=PA data=10")
    if rng.random() < 0.3:
        lines.append(f + " flags=" + rng.choice(("R", "FA")))
    return lines


def sc_snat_udp(rng, p):
    lines = ["OUTPUT host:%d>far:5353 udp send data=12 src=%s" % (p, SNAT_ADDR)]
    if rng.random() < 0.7:
        lines.append("INPUT far:5353>host:%d udp data=40 dst=%s" % (p, SNAT_ADDR))
    if rng.random() < 0.4:
        lines.append("INPUT far>host icmp type=3 code=3 dst=%s "
                     "about=%s:%d>far:5353/udp" % (SNAT_ADDR, SNAT_ADDR, p))
    return lines


NAT4 = dict(FAMILIES[4])
NAT4.update({
    "head": FAMILIES[4]["head"] + NAT_HEAD,
    "addrs": tuple(a for a in FAMILIES[4]["addrs"] if a != "10.77.2.1"),
    "states": STATES + ("SNAT", "DNAT"),
    "scenarios": SCENARIOS + (sc_dnat_in, sc_dnat_in, sc_snat_tcp,
                              sc_snat_udp),
    "nat": True,
})


def gen_seq(rng):
    scen = []
    for k in range(rng.randrange(3, 8)):
        port = 40000 + 100 * k + rng.randrange(100)
        scen.append(list(rng.choice(F.get("scenarios", SCENARIOS))(rng,
                                                                  port)))
    lines = []
    while any(scen):
        live = [s for s in scen if s]
        # mostly one after the other, sometimes interleaved
        s = live[0] if rng.random() < 0.6 else rng.choice(live)
        lines.append(s.pop(0) + " => accept")
    return F["head"] + "\n".join(lines) + "\n"


def play(rules, seq, mode, tmp):
    """seqrun.py's lines: {line number: verdict and replies}, or an
    error string. Once more when the daemon was not listening yet
    (seqrun.py waits for its socket file only; seen under load)."""
    out = play_once(rules, seq, mode, tmp)
    for _ in range(2):	# twice in a row in s9-ct6/61, s9-nat4/4 (load)
        if not (isinstance(out, str) and "cannot reach the helper" in out):
            break
        time.sleep(1)
        out = play_once(rules, seq, mode, tmp)
    return out


def play_once(rules, seq, mode, tmp):
    try:
        res = subprocess.run([sys.executable, SEQRUN, "--rules", rules,
                              "--seq", seq, "--mode", mode,
                              "--bpfilter", BPFILTER, "--tmp", tmp],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return "%s: timed out" % mode
    out = {}
    for line in res.stdout.splitlines():
        if line.startswith("refused: "):
            return "%s refused: %s" % (mode, line[9:])
        if line.startswith("error: "):
            return "%s: %s" % (mode, line)
        no, _, rest = line.partition(" ")
        if no.isdigit():
            out[int(no)] = rest
    if res.returncode:
        return "%s: exit %d: %s" % (mode, res.returncode,
                                    res.stderr.strip()[-500:])
    return out


def seq_hooks(seq_text):
    return {n: text.split()[0] for n, text in
            enumerate(seq_text.splitlines(), 1)
            if text.split()[:1] and text.split()[0] in
            ("INPUT", "FORWARD", "OUTPUT")}


def output_drops(rules_text):
    """Can OUTPUT (or a user chain) drop H's own packets?"""
    for line in rules_text.splitlines():
        if line.startswith(":OUTPUT DROP") or (
                line.startswith("-A ") and not line.startswith("-A INPUT") and
                not line.startswith("-A FORWARD") and
                ("-j DROP" in line or "-j REJECT" in line)):
            return True
    return False


def verdict_only(text):
    return text.split(" reply=")[0] if text else text


def flow_of(text):
    """A sequence line's flow: its two ends and protocol (an ICMP error:
    the flow it is about; echo: its id)."""
    w = text.split()
    opts = dict(t.split("=", 1) for t in w[3:] if "=" in t)
    if "about" in opts:
        ends, _, proto = opts["about"].partition("/")
    elif w[2] in ("icmp", "icmp6"):
        ends, proto = w[1], "icmp%s" % opts.get("id", "")
    else:
        ends, proto = w[1], w[2]
    # the SNAT'd address is H's ("about=10.77.2.3:P>far:5353/udp")
    ends = ends.replace(SNAT_ADDR + ":", "host:")
    return frozenset(ends.split(">")), proto


# Designed differences a line is excluded for (counted with the reason).
AFTER_DROP = ("a packet dropped earlier in this flow: the kernel's conntrack "
              "saw it (PREROUTING, before filter) and moved the entry on, "
              "bpfilter dropped it at XDP/tc before conntrack")
XDP_REPLY = ("at XDP H's own answers leave unfiltered (XDP sees no locally "
             "generated packets): the sender got an answer the kernel's "
             "OUTPUT dropped and built this packet's seq/ack from it")
DNAT_FIRST = ("the first packet of a DNAT'd connection: the kernel's filter "
              "runs after the nat table's PREROUTING DNAT (NEW,DNAT), "
              "bpfilter before it (NEW)")
SNAT_EARLY = ("the first packet of a SNAT'd connection at tc egress: after "
              "POSTROUTING's SNAT (NEW,SNAT), the kernel's OUTPUT before it "
              "(NEW)")
AFTER_DESIGNED = ("a packet of a flow whose earlier packet differed by "
                  "design (DNAT's first packet, SNAT at tc egress)")
RATELIMIT = ("only bpfilter's REJECT sent an ICMP error: the kernel's "
             "icmp_send()/icmp6_send() rate limit (per destination, "
             "burst 6)")
RST_OUTPUT = ("REJECT's RST skips OUTPUT in bpfilter (docs/design-notes.md); "
              "the kernel's, for an INVALID packet (no entry to attach: not "
              "RELATED), met an OUTPUT rule that drops it (played again with "
              "INVALID RSTs accepted first at OUTPUT, the kernel's reply is "
              "bpfilter's)")
RST_ACCEPT = "-A OUTPUT -p tcp --tcp-flags RST RST -m conntrack " \
    "--ctstate INVALID -j ACCEPT"


def excluded(seq_lines, kern, n, kv, bv, hook="tc", designed=(),
             replied=()):
    """Why line n's difference is a designed one, or None. DESIGNED: the
    earlier lines that differed for a NAT reason; REPLIED: the lines
    whose answers only the XDP run's sender got."""
    flow = flow_of(seq_lines[n - 1])
    if any(m < n and flow_of(seq_lines[m - 1]) == flow for m in replied):
        return XDP_REPLY
    first = all(flow_of(seq_lines[m - 1]) != flow for m in range(1, n)
                if seq_lines[m - 1].split()[:1] and
                seq_lines[m - 1].split()[0] in ("INPUT", "FORWARD", "OUTPUT"))
    w = seq_lines[n - 1].split()
    if F.get("nat") and first and w[0] == "INPUT" and \
            w[1].endswith(">host:9000"):
        return DNAT_FIRST
    if F.get("nat") and first and hook == "tc" and w[0] == "OUTPUT" and \
            w[1].split(">")[1] in ("far:8081", "far:5353"):
        return SNAT_EARLY
    if any(flow_of(seq_lines[m - 1]) == flow for m in designed):
        return AFTER_DESIGNED
    for m in range(1, n):
        if m in kern and kern[m].startswith("drop") and \
                flow_of(seq_lines[m - 1]) == flow:
            return AFTER_DROP
    if kv and bv and verdict_only(kv) == verdict_only(bv):
        krep = set(kv.split(" reply=")[1].split(",")) if " reply=" in kv \
            else set()
        brep = set(bv.split(" reply=")[1].split(",")) if " reply=" in bv \
            else set()
        err = "icmp:%d/" % F["unreach"]
        if krep <= brep and all(r.startswith(err) for r in brep - krep):
            return RATELIMIT
    return None


def diff(kern, got, hooks_of, hook, drops):
    """Lines that differ. At XDP, OUTPUT lines are not compared, and
    where OUTPUT drops, the replies are not either: XDP has no OUTPUT, H's
    answers (and the kernel's REJECT answers) leave unfiltered."""
    def norm(text):
        return verdict_only(text) if hook == "xdp" and drops else text
    return [n for n in sorted(kern) if not (hook == "xdp" and
                                            hooks_of[n] == "OUTPUT")
            and norm(got.get(n)) != norm(kern[n])]


def extra_rst(kv, bv):
    """Same verdict, and bpfilter's replies are the kernel's plus RSTs."""
    if not kv or not bv or verdict_only(kv) != verdict_only(bv):
        return False
    krep = set(kv.split(" reply=")[1].split(",")) if " reply=" in kv else set()
    brep = set(bv.split(" reply=")[1].split(",")) if " reply=" in bv else set()
    return krep < brep and all(r.startswith("tcp:R") for r in brep - krep)


def play_rst_accepted(rules_text, seq, tmp):
    """The kernel's play with INVALID RSTs accepted first at OUTPUT."""
    lines = rules_text.splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith("-A "))
    path = os.path.join(tmp, "r-rst.rules")
    with open(path, "w") as f:
        f.write("\n".join(lines[:first] + [RST_ACCEPT] + lines[first:]) + "\n")
    return play(path, seq, "kernel", tmp)


def one_set(job):
    global F
    seed, idx, hooks, fam, nat = job
    F = NAT4 if nat else FAMILIES[fam]
    rng = random.Random("%s/%d" % (seed, idx))
    rules_text = gen_rules(rng)
    seq_text = gen_seq(rng)
    hooks_of = seq_hooks(seq_text)
    res = {"idx": idx, "lines": 0, "pairs": 0, "agree": 0, "flaky": [],
           "excl": [],
           "mism": [], "errors": [], "rules": rules_text, "seq": seq_text}
    with tempfile.TemporaryDirectory(prefix="bpfilter-ctcamp.") as tmp:
        rules = os.path.join(tmp, "r.rules")
        seq = os.path.join(tmp, "s.seq")
        with open(rules, "w") as f:
            f.write(rules_text)
        with open(seq, "w") as f:
            f.write(seq_text)
        kern = play(rules, seq, "kernel", tmp)
        if isinstance(kern, str):
            res["errors"].append(kern)
            return res
        res["lines"] = len(kern)
        for hook in hooks:
            got = play(rules, seq, hook, tmp)
            if isinstance(got, str):
                res["errors"].append(got)
                continue
            bad = diff(kern, got, hooks_of, hook, output_drops(rules_text))
            if bad:
                # Once more, both sides: a line that then agrees (and
                # whose kernel verdict held) was timing.
                kern2 = play(rules, seq, "kernel", tmp)
                got2 = play(rules, seq, hook, tmp)
                if isinstance(kern2, str) or isinstance(got2, str):
                    again = set(bad)
                else:
                    again = set(diff(kern2, got2, hooks_of, hook,
                                     output_drops(rules_text)))
                    again |= {n for n in bad if n not in kern2}
                res["flaky"] += [(hook, n, kern[n], got.get(n))
                                 for n in bad if n not in again]
                bad = [n for n in bad if n in again]
            seq_lines = seq_text.splitlines()
            replied = []
            if hook == "xdp" and output_drops(rules_text):
                replied = [m for m in kern if m in got and
                           verdict_only(kern[m]) == verdict_only(got[m]) and
                           kern[m] != got[m]]
            why = {}
            for n in bad:
                why[n] = excluded(seq_lines, kern, n, kern[n], got.get(n),
                                  hook, [m for m in why if why[m] in
                                         (DNAT_FIRST, SNAT_EARLY,
                                          AFTER_DESIGNED)], replied)
            rst = [n for n in bad if not why[n] and
                   extra_rst(kern[n], got.get(n))]
            if rst:
                kern3 = play_rst_accepted(rules_text, seq, tmp)
                for n in rst:
                    if not isinstance(kern3, str) and kern3.get(n) == got[n]:
                        why[n] = RST_OUTPUT
            for n in sorted(kern):
                if hook == "xdp" and hooks_of[n] == "OUTPUT":
                    continue
                res["pairs"] += 1
                if n not in bad:
                    res["agree"] += 1
                elif why[n]:
                    res["excl"].append(why[n])
            for n in bad:
                if not why[n]:
                    res["mism"].append((hook, n, kern[n], got.get(n)))
    return res


def write_case(out, name, res, hook, n):
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, name)
    lines = res["seq"].splitlines()
    with open(base + ".rules", "w") as f:
        f.write("# ctcamp %s: %s line %d differs from the kernel\n" %
                (name, hook, n))
        f.write(res["rules"])
    with open(base + ".seq", "w") as f:
        f.write("\n".join(lines[:n]) + "\n")
    return base


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", type=int, choices=(4, 6),
                    default=int(os.environ.get("CT_FAMILY", "4")))
    ap.add_argument("--nat", action="store_true",
                    default=os.environ.get("CT_NAT", "") not in ("", "0"),
                    help="an nft nat table in H, SNAT/DNAT flows and "
                    "--ctstate SNAT/DNAT rules (IPv4)")
    ap.add_argument("--sets", type=int,
                    default=int(os.environ.get("CT_SETS", "20")))
    ap.add_argument("--seed", default=os.environ.get("CT_SEED", "1"))
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--hooks", default="xdp,tc")
    ap.add_argument("--out", default="/tmp/bpfilter-ctcamp")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("# SKIP: the stateful campaign needs root (netns, iptables, bpf)")
        sys.exit(4)
    if not os.access(BPFILTER, os.X_OK):
        sys.exit("ctcamp: %s is missing; run make first" % BPFILTER)
    hooks = [h for h in args.hooks.split(",") if h]
    if args.nat and args.family != 4:
        sys.exit("ctcamp: --nat is IPv4 only")
    print("# stateful campaign IPv%d seed %s: %d rule sets with sequences, "
          "hooks %s, %d jobs" % (args.family, args.seed, args.sets,
                                 ",".join(hooks), args.jobs),
          flush=True)
    tot = {"sets": 0, "lines": 0, "pairs": 0, "agree": 0, "mism": 0,
           "errors": 0, "flaky": 0, "excluded": 0}
    excl_why = {}
    start = time.time()
    jobs = [(args.seed, i, hooks, args.family, args.nat) for i in range(args.start,
                                                  args.start + args.sets)]
    with multiprocessing.Pool(args.jobs) as pool:
        for res in pool.imap_unordered(one_set, jobs):
            tot["sets"] += 1
            for key in ("lines", "pairs", "agree"):
                tot[key] += res[key]
            for why in res["excl"]:
                tot["excluded"] += 1
                excl_why[why] = excl_why.get(why, 0) + 1
            for err in res["errors"]:
                tot["errors"] += 1
                print("# ERROR set %s/%d: %s" % (args.seed, res["idx"], err),
                      flush=True)
            for hook, n, kv, bv in res["flaky"]:
                tot["flaky"] += 1
                print("# FLAKY set %s/%d %s line %d: kernel '%s', bpfilter "
                      "'%s'; agreed when played again" %
                      (args.seed, res["idx"], hook, n, kv, bv), flush=True)
            for hook, n, kv, bv in res["mism"]:
                tot["mism"] += 1
                name = "ct-%s-%d-%s-%d" % (args.seed, res["idx"], hook, n)
                base = write_case(args.out, name, res, hook, n)
                print("MISMATCH set %s/%d %s line %d: %s: kernel '%s', "
                      "bpfilter '%s' (%s.rules/.seq)" %
                      (args.seed, res["idx"], hook, n,
                       res["seq"].splitlines()[n - 1].split(" =>")[0], kv,
                       bv, base), flush=True)
            if args.verbose or tot["sets"] % 5 == 0:
                print("# %d sets, %d pairs, %d mismatches, %.0f s" %
                      (tot["sets"], tot["pairs"], tot["mism"],
                       time.time() - start), flush=True)
    print("# stateful campaign IPv%d seed %s: %d rule sets, %d sequence lines, %d "
          "(line, hook) pairs, %d agree, %d mismatch, %d excluded as "
          "designed, %d errors, %d flakes (agreed when played again), %.0f s"
          % (args.family, args.seed, tot["sets"], tot["lines"], tot["pairs"],
             tot["agree"],
             tot["mism"], tot["excluded"], tot["errors"], tot["flaky"],
             time.time() - start))
    for why, n in sorted(excl_why.items()):
        print("#   excluded %d: %s" % (n, why))
    sys.exit(0 if tot["mism"] == 0 and tot["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
