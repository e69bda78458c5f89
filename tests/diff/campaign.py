#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Differential campaign: random rule sets x edge-biased packets, the
kernel (oracle.py) against `bpfilter test` at xdp and tc, the reference
interpreter of the IR (`bpfilter test --interp`) and, for a sample, the
program `bpfilter daemon` attached (attached.py: real frames over veth).

    campaign.py [--pairs N] [--seed S] [--jobs J] [--count C] [--out DIR]
                [--attached K] [--attached-count M] [--no-shrink] [-v]

Rule set i comes from rulegen.py with seed "S/i" and C packets per chain.
One oracle run (one netns, all packets in a batch) per (rule set, chain),
one `bpfilter test --interp` per (rule set, chain), one `bpfilter test`
per (rule set, chain, hook) with all packets on stdin; the first K rule
sets also send their first M packets per chain through attached.py at
each hook. J rule sets at a time. Stops once N (packet, hook) pairs were
judged.

Each pair is classed three ways, kernel K, BPF B, interpreter I:
K = B = I agrees; B = I != K is a front-end bug (the IR is wrong);
K = I != B a codegen bug; K = B != I an interpreter bug. Pairs that
known-differences covers are excluded (counted with their reason) from
the comparisons with the kernel only. The attached program must give
what `bpfilter test` gives at the same hook, on every packet. Anything
that differs is a mismatch: it is printed, shrunk (rules, chains, matches
and packet fields deleted while the two sides still disagree) and written
to DIR as NAME.rules + NAME.pkts with the kernel's verdict as the
expectation, ready for tests/diff/cases/.

Exit: 0 no mismatch and no error, 1 otherwise, 4 skipped (not root).
"""

import argparse
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import rulegen  # noqa: E402

ORACLE = os.path.join(HERE, "oracle.py")
ATTACHED = os.path.join(HERE, "attached.py")
BPFILTER = os.environ.get("BPFILTER", os.path.join(ROOT, "build", "bpfilter"))
KNOWN = os.path.join(HERE, "known-differences")
HOOKS = {"INPUT": ("xdp", "tc"), "FORWARD": ("xdp", "tc"), "OUTPUT": ("tc",)}
FAMILY = 4	# main() sets 6 for --family 6, before the workers fork


def fam_opt():
    return ["-6"] if FAMILY == 6 else []


def load_known():
    known = []
    with open(KNOWN) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            chain, hooks, regex, why = line.split("\t")
            chain, _, fam = chain.partition("/")
            known.append((chain, int(fam) if fam else None,
                          hooks.split(","), re.compile(regex), why))
    return known


def known_match(known, chain, hook, line, family=4):
    for kchain, kfam, khooks, regex, why in known:
        if kchain == chain and kfam in (None, family) and hook in khooks \
                and regex.search(line):
            return why
    return None


def run_oracle(rules, chain, lines, exact=False):
    cmd = [sys.executable, ORACLE, "--chain", chain] + fam_opt() + \
        (["--exact"] if exact else []) + [rules]
    res = subprocess.run(cmd, input="\n".join(lines) + "\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    out = res.stdout.split()
    if res.returncode or len(out) != len(lines):
        raise RuntimeError("oracle %s: %s" % (chain, res.stderr.strip()))
    return out


def netns_setup(rules, chain):
    """The "# netns: CMD" lines of a rules file (-m addrtype's routes),
    and at INPUT the oracle's local default route, as one shell line."""
    cmds = []
    with open(rules) as f:
        for line in f:
            if line.startswith("# netns: "):
                cmds.append(line[len("# netns: "):].strip())
    if cmds and chain == "INPUT":
        cmds.append(rulegen.ADDRTYPE_INPUT if FAMILY == 4 else
                    rulegen.ADDRTYPE6_INPUT)
    return cmds


def run_bpfilter(rules, chain, hook, lines, interp=False):
    cmd = [BPFILTER, "test"] + fam_opt() + \
        ["--hook", hook, "--chain", chain] + \
        (["--interp"] if interp else []) + [rules]
    setup = netns_setup(rules, chain)
    if setup:
        # The same routes as the oracle's namespace (-m addrtype).
        cmd = ["sh", "-c", " && ".join(setup) + ' && exec "$@"', "sh"] + cmd
    cmd = ["unshare", "--net"] + cmd
    res = subprocess.run(cmd, input="\n".join(lines) + "\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    out = res.stdout.split()
    if res.returncode or len(out) != len(lines):
        raise RuntimeError("bpfilter test%s --hook %s --chain %s: %s" %
                           (" --interp" if interp else "", hook, chain,
                            res.stderr.strip()[:2000]))
    return out


def run_attached(rules, chain, hook, lines):
    cmd = [sys.executable, ATTACHED, "--hook", hook, "--chain", chain] + \
        fam_opt() + [rules]
    res = subprocess.run(cmd, input="\n".join(lines) + "\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    out = res.stdout.split()
    if res.returncode or len(out) != len(lines):
        raise RuntimeError("attached --hook %s --chain %s: %s" %
                           (hook, chain, res.stderr.strip()[:2000]))
    return out


# The sides a verdict comes from: "kernel" (oracle.py), "interp" (bpfilter
# test --interp: the reference interpreter of the IR), ("bpf", HOOK)
# (bpfilter test: BPF_PROG_TEST_RUN) and ("att", HOOK) (attached.py: real
# frames through the program the daemon attached).
def side_name(side):
    return side if isinstance(side, str) else "%s-%s" % side


def run_side(side, rules, chain, lines, exact=False):
    if side == "kernel":
        return run_oracle(rules, chain, lines, exact)
    if side == "interp":
        # The interpreter has no hook; tc is the one that has every chain.
        return run_bpfilter(rules, chain, "tc", lines, interp=True)
    if side[0] == "bpf":
        return run_bpfilter(rules, chain, side[1], lines)
    return run_attached(rules, chain, side[1], lines)


# Three-way classes of a (chain, hook, packet) pair, kernel K, BPF B,
# interpreter I: which side is the odd one out tells where the bug is.
CLASSES = ("agree", "frontend", "codegen", "interp", "three")
CLASS_TEXT = {
    "agree": "K = B = I",
    "frontend": "B = I != K (front-end: the IR is wrong, or a kernel "
                "behaviour both model wrong)",
    "codegen": "K = I != B (codegen: the program is wrong)",
    "interp": "K = B != I (the interpreter is wrong)",
    "three": "K, B, I all differ",
}
# What a mismatch of each class is shrunk with (the two sides that differ).
SHRINK_SIDES = {"frontend": "kernel", "codegen": "interp", "interp": "kernel",
                "three": "kernel"}


def classify(k, b, i):
    if k == b == i:
        return "agree"
    if b == i:
        return "frontend"
    if k == i:
        return "codegen"
    if k == b:
        return "interp"
    return "three"


def compare_chain(known, chain, lines, ver, res, attached_n):
    """Count and collect the mismatches of one chain from the verdicts
    ver[side]; return them as (kind, chain, hook, line, a, b, side_a,
    side_b) tuples without touching res's counters (see tally)."""
    mism = []
    counts = []
    for hook in HOOKS[chain]:
        bver = ver.get(("bpf", hook))
        if bver is None:
            continue
        for n, line in enumerate(lines):
            kv, bv, iv = ver["kernel"][n], bver[n], ver["interp"][n]
            why = known_match(known, chain, hook, line, FAMILY)
            if why:
                counts.append(("excluded", why))
                # No designed difference between the interpreter and BPF.
                if iv != bv:
                    mism.append(("codegen", chain, hook, line, iv, bv,
                                 "interp", ("bpf", hook)))
            else:
                cls = classify(kv, bv, iv)
                counts.append((cls, None))
                if cls != "agree":
                    other = SHRINK_SIDES[cls]
                    a, b = (iv, bv) if other == "interp" else (kv, bv)
                    if cls == "interp":
                        b, b_side = iv, "interp"
                    else:
                        b_side = ("bpf", hook)
                    mism.append((cls, chain, hook, line, a, b, other, b_side))
            aver = ver.get(("att", hook))
            if aver is not None and n < attached_n:
                counts.append(("att-" + ("agree" if aver[n] == bv
                                         else "differ"), None))
                if aver[n] != bv:
                    mism.append(("attached", chain, hook, line, aver[n], bv,
                                 ("att", hook), ("bpf", hook)))
                if not why:
                    counts.append(("attk-" + ("agree" if aver[n] == kv
                                              else "differ"), None))
    return mism, counts


def tally(res, counts):
    for cls, why in counts:
        if cls == "excluded":
            res["pairs"] += 1
            res["excluded"] += 1
            res["excl_why"][why] = res["excl_why"].get(why, 0) + 1
        elif cls in CLASSES:
            res["pairs"] += 1
            res["cls"][cls] += 1
            if cls == "agree":
                res["agree"] += 1
        else:
            res["att"][cls] = res["att"].get(cls, 0) + 1


def recheck(rules, chain, lines, ver, mism, res, whole=False):
    """Judge the packets of every mismatch again on the side that is not
    BPF_PROG_TEST_RUN: the kernel in --exact mode (a counter read per
    packet, waiting for the packet), the attached program once more. A
    packet whose verdict then changes was a flake (a packet the kernel
    lost or delivered late under load; verdicts are stateless, so the
    answer cannot change otherwise): the new verdict is kept, and the
    flake is counted and printed, not a failure."""
    for side in ["kernel"] + [("att", h) for h in HOOKS[chain]]:
        idx = sorted({lines.index(m[3]) for m in mism
                      if side in (m[6], m[7])})
        if not idx or side not in ver:
            continue
        if whole:
            # -m limit: a verdict depends on the packets before it.
            idx = list(range(len(lines) if side == "kernel" else
                             len(ver[side])))
        try:
            again = run_side(side, rules, chain, [lines[n] for n in idx],
                             exact=True)
        except RuntimeError as exc:
            res["errors"].append("recheck: " + str(exc))
            continue
        for n, v in zip(idx, again):
            if ver[side][n] != v:
                res["flaky"].append((chain, side_name(side), lines[n],
                                     ver[side][n], v))
                ver[side][n] = v


def rs_hooks(rs, chain):
    """The hooks a rule set is judged at: -m mark only at tc (XDP has no
    skb->mark; bpfilter refuses it there)."""
    return tuple(h for h in HOOKS[chain] if h == "tc" or not rs.uses("mark"))


def order_lines(rs, lines):
    """The oracle sends packets grouped by output device (and changes its
    MARK rule when mark= changes): with -m limit every side must see the
    packets in that same order, and grouping by mark= keeps the MARK
    changes few."""
    def key(line):
        toks = dict(t.split("=", 1) for t in line.split() if "=" in t)
        return toks.get("oif", ""), toks.get("mark", "")
    if rs.uses("limit") or rs.uses("mark"):
        return sorted(lines, key=key)
    return lines


def attachable(rs):
    """The attached program's netns has the daemon's routes, frames carry
    no mark, and its send order is its own: rule sets with -m mark,
    -m limit or -m addrtype are judged with BPF_PROG_TEST_RUN only."""
    return not any(rs.uses(m) for m in ("mark", "limit", "addrtype"))


def one_ruleset(job):
    """Generate rule set `idx` and compare every packet at every hook."""
    seed, idx, count, avoid_bugs, attached_n = job
    rng = random.Random("%s/%d" % (seed, idx))
    rs, pools = rulegen.generate(rng, avoid_bugs, FAMILY)
    if not attachable(rs):
        attached_n = 0
    known = load_known()
    res = {"idx": idx, "pairs": 0, "agree": 0, "excluded": 0, "mism": [],
           "errors": [], "excl_why": {}, "pkts": 0, "rules": rs,
           "cls": dict.fromkeys(CLASSES, 0), "att": {}, "flaky": []}
    with tempfile.TemporaryDirectory(prefix="bpfilter-camp.") as tmp:
        rules = os.path.join(tmp, "r.rules")
        with open(rules, "w") as f:
            f.write(rs.render())
        for chain in rulegen.CHAINS:
            lines = rulegen.packets(rng, pools, chain, count, FAMILY,
                                    avoid_bugs)
            lines = order_lines(rs, lines)
            if rs.uses("limit"):
                # A packet the kernel never filters (known-differences)
                # would still take a token from bpfilter's bucket, and
                # every later verdict would differ: none in limit sets.
                lines = [ln for ln in lines if not any(
                    known_match(known, chain, h, ln, FAMILY)
                    for h in HOOKS[chain])]
            res["pkts"] += len(lines)
            hooks = rs_hooks(rs, chain)
            sides = ["kernel", "interp"] + [("bpf", h) for h in hooks]
            if attached_n:
                sides += [("att", h) for h in hooks]
            ver = {}
            for side in sides:
                some = lines[:attached_n] if side[0] == "att" else lines
                try:
                    # -m limit: the oracle's batch mode may send a packet
                    # it did not see again (taking a token); a mismatch
                    # is then judged again in exact mode, every packet
                    # (recheck), which is slow: only then.
                    ver[side] = run_side(side, rules, chain, some)
                except RuntimeError as exc:
                    res["errors"].append(str(exc))
            if "kernel" not in ver or "interp" not in ver:
                continue
            mism, _ = compare_chain(known, chain, lines, ver, res, attached_n)
            if mism:
                recheck(rules, chain, lines, ver, mism, res,
                        rs.uses("limit"))
            mism, counts = compare_chain(known, chain, lines, ver, res,
                                         attached_n)
            tally(res, counts)
            res["mism"] += mism
    return res


# Shrinker.

class Prober:
    """Do two sides still disagree on (rule set, chain, packet)?"""

    def __init__(self, chain, side_a, side_b, tmp):
        self.chain, self.sides = chain, (side_a, side_b)
        self.rules = os.path.join(tmp, "s.rules")
        self.calls = 0

    def verdicts(self, rs, line, exact=False):
        self.calls += 1
        with open(self.rules, "w") as f:
            f.write(rs.render())
        try:
            return tuple(run_side(s, self.rules, self.chain, [line], exact)[0]
                         for s in self.sides)
        except RuntimeError:
            return None, None

    def differs(self, rs, line):
        va, vb = self.verdicts(rs, line)
        return va is not None and va != vb


def pkt_required(chain):
    return {"INPUT": ("iif",), "FORWARD": ("iif", "oif"),
            "OUTPUT": ("oif",)}[chain]


def shrink(rs, chain, side_a, side_b, line, budget=250):
    """The smallest rule set and packet line found on which side_a and
    side_b still disagree."""
    with tempfile.TemporaryDirectory(prefix="bpfilter-shrink.") as tmp:
        pr = Prober(chain, side_a, side_b, tmp)
        if not pr.differs(rs, line):
            return None
        changed = True
        while changed and pr.calls < budget:
            changed = False
            # Whole rules, last first.
            i = len(rs.rules) - 1
            while i >= 0 and pr.calls < budget:
                cand = rs.copy()
                del cand.rules[i]
                cand.prune()
                if pr.differs(cand, line):
                    rs, changed = cand, True
                i = min(i - 1, len(rs.rules) - 1)
            # Matches and fields inside the rules left.
            for r in range(len(rs.rules)):
                p = len(rs.rules[r][1]) - 1
                while p >= 0 and pr.calls < budget:
                    cand = rs.copy()
                    del cand.rules[r][1][p]
                    if pr.differs(cand, line):
                        rs, changed = cand, True
                    p -= 1
            # Policies to ACCEPT, other chains' rules already gone.
            for c in rulegen.CHAINS:
                if rs.policies[c] != "ACCEPT" and pr.calls < budget:
                    cand = rs.copy()
                    cand.policies[c] = "ACCEPT"
                    if pr.differs(cand, line):
                        rs, changed = cand, True
            # Packet fields back to their defaults.
            toks = line.split()
            t = len(toks) - 1
            while t >= 0 and pr.calls < budget:
                if toks[t].split("=")[0] not in pkt_required(chain):
                    cand = " ".join(toks[:t] + toks[t + 1:])
                    if pr.differs(rs, cand):
                        line, toks, changed = cand, cand.split(), True
                t -= 1
        va, vb = pr.verdicts(rs, line, exact=True)
        return rs, line, va, vb, pr.calls


def kernel_of(rs, chain, line):
    """The kernel's (exact) verdict, the expectation a case file carries."""
    with tempfile.TemporaryDirectory(prefix="bpfilter-shrink.") as tmp:
        rules = os.path.join(tmp, "k.rules")
        with open(rules, "w") as f:
            f.write(rs.render())
        try:
            return run_oracle(rules, chain, [line], True)[0]
        except RuntimeError:
            return None


def report_mismatch(out, name, rs, m, do_shrink):
    kind, chain, hook, line, va, vb, side_a, side_b = m
    na, nb = side_name(side_a), side_name(side_b)
    print("MISMATCH %s (%s) chain %s hook %s: %s -> %s %s, %s %s" %
          (name, kind, chain, hook, line, na, va, nb, vb), flush=True)
    shrunk = shrink(rs.copy(), chain, side_a, side_b, line) \
        if do_shrink else None
    if shrunk is None:
        if do_shrink:
            print("#   not reproducible alone (flaky or order dependent)")
        small, sline, sva, svb = rs, line, va, vb
    else:
        small, sline, sva, svb, calls = shrunk
        print("#   shrunk in %d probes: %s %s, %s %s" %
              (calls, na, sva, nb, svb))
    kv = sva if side_a == "kernel" else kernel_of(small, chain, sline)
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, name)
    with open(base + ".rules", "w") as f:
        f.write("# campaign %s (%s): %s %s, %s %s at %s %s; kernel %s\n" %
                (name, kind, na, sva, nb, svb, chain, hook, kv))
        f.write(small.render())
    with open(base + ".pkts", "w") as f:
        # run.sh takes a leading ACCEPT/DROP as the expectation (NOHOOK
        # is none: such a line needs an entry in known-differences).
        want = kv + " " if kv in ("ACCEPT", "DROP") else ""
        f.write("--- %s\n%s%s # %s %s, %s %s (%s)\n" %
                (chain, want, sline, na, sva, nb, svb, hook))
    for path in (base + ".rules", base + ".pkts"):
        with open(path) as f:
            for text in f:
                print("#   " + text.rstrip())


# A target the generator uses that bpfilter may not translate yet for a
# family: probed once, left out of the rule sets (and said so) if refused.
PROBES = {"log": "-A INPUT -p tcp -j LOG",
          "reject": "-A INPUT -p udp -j REJECT"}


def probe_features():
    for feat, rule in sorted(PROBES.items()):
        if feat in rulegen.NO_FEATURES[FAMILY]:
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".rules") as f:
            f.write("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                    ":OUTPUT ACCEPT [0:0]\n%s\nCOMMIT\n" % rule)
            f.flush()
            try:
                run_bpfilter(f.name, "INPUT", "tc", ["proto=tcp"])
            except RuntimeError:
                rulegen.NO_FEATURES[FAMILY].add(feat)
                print("# IPv%d %s: bpfilter refuses it; not in the rule sets"
                      % (FAMILY, rule.split("-j ")[1]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int,
                    default=int(os.environ.get("DIFF_PAIRS", "200000")))
    ap.add_argument("--seed", default=os.environ.get("DIFF_SEED", "1"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--count", type=int, default=400,
                    help="packets per chain per rule set")
    ap.add_argument("--start", type=int, default=0,
                    help="first rule set index")
    ap.add_argument("--attached", type=int, default=0, metavar="K",
                    help="the first K rule sets also run through the "
                    "attached program (attached.py)")
    ap.add_argument("--attached-count", type=int, default=200, metavar="M",
                    help="packets per chain that go through the attached "
                    "program (the first M)")
    ap.add_argument("--out", default="/tmp/bpfilter-campaign")
    ap.add_argument("--only", metavar="MATCH",
                    help="only the rule sets that use -m MATCH (e.g. addrtype)")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--max-shrinks", type=int, default=6,
                    help="mismatches shrunk at most (one per kind, chain "
                    "and hook)")
    ap.add_argument("--avoid", default=os.environ.get("DIFF_AVOID", ""),
                    help="comma list of known bpfilter bugs the "
                    "generators steer clear of (ttl-forward: fixed; "
                    "rt-trunc: IPv6 routing header cut short of 4 bytes)")
    ap.add_argument("--family", type=int, choices=(4, 6),
                    default=int(os.environ.get("DIFF_FAMILY", "4")),
                    help="6: ip6tables rule sets and IPv6 packets")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    global FAMILY
    FAMILY = args.family
    if os.geteuid() != 0:
        print("# SKIP: the campaign needs root (netns, iptables, bpf)")
        sys.exit(4)
    if not os.access(BPFILTER, os.X_OK):
        sys.exit("campaign: %s is missing; run make first" % BPFILTER)
    probe_features()
    per_set = args.count * sum(len(h) for h in HOOKS.values())
    nsets = max(1, -(-args.pairs // per_set))
    print("# IPv%d campaign" % FAMILY)
    print("# campaign seed %s: %d rule sets x %d packets per chain "
          "(%d pairs each), %d jobs; the first %d also through the attached "
          "program (%d packets per chain)" %
          (args.seed, nsets, args.count, per_set, args.jobs,
           min(args.attached, nsets), args.attached_count), flush=True)
    tot = {"sets": 0, "pkts": 0, "pairs": 0, "agree": 0, "excluded": 0,
           "mism": 0, "errors": 0, "flaky": 0}
    cls = dict.fromkeys(CLASSES, 0)
    att = {}
    excl_why = {}
    start = time.time()
    avoid_bugs = tuple(a for a in args.avoid.split(",") if a)
    idxs = range(args.start, args.start + nsets)
    if args.only:
        # The first nsets rule sets (from --start on) that use the match;
        # rule set i is still "S/i", so each reproduces alone.
        idxs = []
        i = args.start
        while len(idxs) < nsets and i < args.start + 1000 * nsets:
            rs, _ = rulegen.generate(random.Random("%s/%d" % (args.seed, i)),
                                     avoid_bugs, FAMILY)
            if rs.uses(args.only):
                idxs.append(i)
            i += 1
    jobs = [(args.seed, i, args.count, avoid_bugs,
             args.attached_count if k < args.attached else 0)
            for k, i in enumerate(idxs)]
    pending = []
    with multiprocessing.Pool(args.jobs) as pool:
        for res in pool.imap_unordered(one_ruleset, jobs):
            tot["sets"] += 1
            for key in ("pkts", "pairs", "agree", "excluded"):
                tot[key] += res[key]
            for key, n in res["cls"].items():
                cls[key] += n
            for key, n in res["att"].items():
                att[key] = att.get(key, 0) + n
            tot["mism"] += len(res["mism"])
            tot["errors"] += len(res["errors"])
            for why, n in res["excl_why"].items():
                excl_why[why] = excl_why.get(why, 0) + n
            for err in res["errors"]:
                print("# ERROR rule set %s/%d: %s" % (args.seed, res["idx"],
                                                      err), flush=True)
            for m in res["mism"]:
                pending.append((res["idx"], res["rules"], m))
                # at once (the shrunk reproducer comes at the end)
                print("# mismatch in rule set %s/%d (%s) chain %s hook %s: "
                      "%s -> %s %s, %s %s" %
                      (args.seed, res["idx"], m[0], m[1], m[2], m[3],
                       side_name(m[6]), m[4], side_name(m[7]), m[5]),
                      flush=True)
            for chain, side, line, v1, v2 in res["flaky"]:
                tot["flaky"] += 1
                print("# FLAKY %s, rule set %s/%d chain %s: %s -> %s, on "
                      "recheck %s" % (side, args.seed, res["idx"], chain,
                                      line, v1, v2), flush=True)
            if args.verbose or tot["sets"] % 10 == 0:
                el = time.time() - start
                print("# %d rule sets, %d pairs, %d mismatches, %.0f s, "
                      "%.0f pairs/s" % (tot["sets"], tot["pairs"],
                                        tot["mism"], el, tot["pairs"] / el),
                      flush=True)
    elapsed = time.time() - start
    # One shrink per (kind, chain, hook), at most --max-shrinks in all (a
    # bug usually shows in many rule sets; each probe runs the kernel):
    # the rest are listed, written unshrunk.
    shrunk = set()
    for idx, rs, m in pending:
        kind, chain, hook = m[:3]
        key = (kind, chain, hook)
        # run.sh runs cases named ip6-* as IPv6.
        name = "%scamp-%s-%d-%s-%s-%s" % ("ip6-" if FAMILY == 6 else "",
                                          re.sub(r"\W", "_", args.seed), idx,
                                          kind, chain, hook)
        if key in shrunk or len(shrunk) >= args.max_shrinks:
            print("MISMATCH %s (%s) chain %s hook %s: %s -> %s %s, %s %s" %
                  (name, kind, chain, hook, m[3], side_name(m[6]), m[4],
                   side_name(m[7]), m[5]))
            continue
        shrunk.add(key)
        report_mismatch(args.out, name, rs, m, not args.no_shrink)
    print("# campaign seed %s: %d rule sets, %d packets, %d pairs, %d agree, "
          "%d mismatch, %d excluded as designed, %d errors, %d flakes "
          "(changed on recheck), %.0f s (%.0f pairs/s)" %
          (args.seed, tot["sets"], tot["pkts"], tot["pairs"], tot["agree"],
           tot["mism"], tot["excluded"], tot["errors"], tot["flaky"], elapsed,
           tot["pairs"] / max(elapsed, 1e-9)))
    print("# three-way (kernel K, BPF_PROG_TEST_RUN B, interpreter I), "
          "pairs not excluded:")
    for key in CLASSES:
        print("#   %-8d %s" % (cls[key], CLASS_TEXT[key]))
    if att:
        print("# attached program (real frames, A) on a sample: A = B %d, "
              "A != B %d; A = K %d, A != K %d (not excluded)" %
              (att.get("att-agree", 0), att.get("att-differ", 0),
               att.get("attk-agree", 0), att.get("attk-differ", 0)))
    for why, n in sorted(excl_why.items()):
        print("#   excluded %d: %s" % (n, why))
    sys.exit(0 if tot["mism"] == 0 and tot["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
