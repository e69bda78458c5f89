#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Random packet lines for a rule set, for the differential test.

    gen.py --chain CHAIN [--count N] [--seed S] RULES

Values are drawn from what the rules mention (addresses and masks, ports
and range edges, interface names and wildcard stems, protocols, ICMP types,
TCP flags), nudged to either side, mixed with unrelated values, so most
rules are hit, missed by one bit, or missed entirely. The output is a
packet line per line, in `bpfilter test` syntax, always with the devices
the chain needs (iif at INPUT/FORWARD, oif at FORWARD/OUTPUT). Addresses
the IP stack treats as martians are never generated.
"""

import argparse
import ipaddress
import random
import shlex

CHAINS = ("INPUT", "FORWARD", "OUTPUT")
FLAG_NAMES = {"FIN": "F", "SYN": "S", "RST": "R", "PSH": "P", "ACK": "A",
              "URG": "U", "ALL": "FSRPAU", "NONE": ""}
ICMP_NAMES = {"echo-reply": (0, 0), "echo-request": (8, 0),
              "port-unreachable": (3, 3), "destination-unreachable": (3, 0),
              "time-exceeded": (11, 0)}


def parse_rules(path):
    vals = {"addr": set(), "port": set(), "ifname": set(), "proto": set(),
            "icmp": set(), "flags": set()}
    with open(path) as f:
        for line in f:
            if not line.startswith("-A "):
                continue
            toks = shlex.split(line)
            for i, tok in enumerate(toks[:-1]):
                arg = toks[i + 1]
                if tok in ("-s", "-d", "--source", "--destination"):
                    net, _, mask = arg.partition("/")
                    vals["addr"].add((net, mask or "32"))
                elif tok in ("--sport", "--dport", "--source-port",
                             "--destination-port"):
                    for part in arg.split(":"):
                        if part:
                            vals["port"].add(int(part))
                elif tok in ("-i", "-o", "--in-interface", "--out-interface"):
                    vals["ifname"].add(arg)
                elif tok in ("-p", "--protocol"):
                    vals["proto"].add(arg)
                elif tok == "--icmp-type":
                    if arg in ICMP_NAMES:
                        vals["icmp"].add(ICMP_NAMES[arg])
                    elif arg != "any":
                        typ, _, code = arg.partition("/")
                        vals["icmp"].add((int(typ), int(code or 0)))
                elif tok == "--tcp-flags" and i + 2 < len(toks):
                    for names in (arg, toks[i + 2]):
                        vals["flags"].add("".join(FLAG_NAMES.get(n, "")
                                                  for n in names.split(",")))
    return vals


def martian(addr):
    first = addr >> 24
    return first in (0, 127) or first >= 224 or addr == 0xC00002FE


def pick_addr(rng, vals):
    addrs = sorted(vals["addr"])
    while True:
        if addrs and rng.random() < 0.8:
            net, mask = rng.choice(addrs)
            base = int(ipaddress.IPv4Address(net))
            if "." in mask:
                m = int(ipaddress.IPv4Address(mask))
            else:
                m = (0xFFFFFFFF << (32 - int(mask))) & 0xFFFFFFFF
            addr = (base & m) | (rng.getrandbits(32) & ~m & 0xFFFFFFFF)
            if rng.random() < 0.3:
                addr ^= 1 << rng.randrange(32)
        else:
            addr = rng.getrandbits(32)
        if not martian(addr):
            return str(ipaddress.IPv4Address(addr))


def pick_port(rng, vals):
    ports = sorted(vals["port"])
    if ports and rng.random() < 0.8:
        port = rng.choice(ports) + rng.choice((-1, 0, 0, 1))
        return min(max(port, 0), 65535)
    return rng.randrange(65536)


def pick_if(rng, vals):
    names = sorted(vals["ifname"] - {"+"})
    if names and rng.random() < 0.8:
        name = rng.choice(names)
        if name.endswith("+"):
            name = name[:-1] + rng.choice(("", "0", "1", "77"))
        elif rng.random() < 0.2:
            name = name + "9"
        if name and len(name) <= 15 and name != "lo":
            return name
    return rng.choice(("eth0", "eth1", "veth0", "wlan0", "tst0"))


def pick_proto(rng, vals):
    protos = sorted({p.lstrip("!") for p in vals["proto"]} - {"all", "0"}
                    | {"tcp", "udp", "icmp"})
    if rng.random() < 0.9:
        return rng.choice(protos)
    return str(rng.choice((2, 4, 41, 47, 50, 132)))


def packet(rng, vals, chain):
    toks = ["src=" + pick_addr(rng, vals), "dst=" + pick_addr(rng, vals)]
    proto = pick_proto(rng, vals)
    toks.append("proto=" + proto)
    if proto in ("tcp", "udp", "6", "17"):
        toks += ["sport=%d" % pick_port(rng, vals),
                 "dport=%d" % pick_port(rng, vals)]
    if proto in ("tcp", "6"):
        flags = rng.choice(sorted(vals["flags"] | {"S", "SA", "A", "FA",
                                                   "R", "PA"}))
        if rng.random() < 0.2:
            flags = "".join(c for c in "FSRPAUEC" if rng.random() < 0.3)
        if flags:
            toks.append("flags=" + flags)
    if proto in ("icmp", "1"):
        if vals["icmp"] and rng.random() < 0.7:
            typ, code = rng.choice(sorted(vals["icmp"]))
            code += rng.choice((0, 0, 1))
        else:
            typ, code = rng.randrange(20), rng.randrange(4)
        toks += ["type=%d" % typ, "code=%d" % code]
    if chain != "OUTPUT":
        toks.append("iif=" + pick_if(rng, vals))
    if chain != "INPUT":
        toks.append("oif=" + pick_if(rng, vals))
    roll = rng.random()
    if roll < 0.05:
        toks.append("frag=first")
    elif roll < 0.10:
        toks.append("frag=nonfirst")
    elif roll < 0.15:
        toks.append("len=%d" % rng.randrange(20, 44))
    return " ".join(toks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chain", choices=CHAINS, required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", default="bpfilter")
    ap.add_argument("rules")
    args = ap.parse_args()
    rng = random.Random(args.seed + "/" + args.chain)
    vals = parse_rules(args.rules)
    for _ in range(args.count):
        print(packet(rng, vals, args.chain))


if __name__ == "__main__":
    main()
