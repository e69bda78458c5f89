#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Differential campaign: random rule sets x edge-biased packets, the
kernel (oracle.py) against `bpfilter test` at xdp and tc.

    campaign.py [--pairs N] [--seed S] [--jobs J] [--count C] [--out DIR]
                [--no-shrink] [-v]

Rule set i comes from rulegen.py with seed "S/i" and C packets per chain.
One oracle run (one netns, all packets in a batch) per (rule set, chain),
one `bpfilter test` per (rule set, chain, hook) with all packets on
stdin; J rule sets at a time. Stops once N (packet, hook) pairs were
judged. Pairs that known-differences covers are excluded and counted;
anything else that differs is a mismatch: it is printed, shrunk (rules,
chains, matches and packet fields deleted while the kernel and bpfilter
still disagree) and written to DIR as NAME.rules + NAME.pkts, ready for
tests/diff/cases/.

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
BPFILTER = os.environ.get("BPFILTER", os.path.join(ROOT, "build", "bpfilter"))
KNOWN = os.path.join(HERE, "known-differences")
HOOKS = {"INPUT": ("xdp", "tc"), "FORWARD": ("xdp", "tc"), "OUTPUT": ("tc",)}


def load_known():
    known = []
    with open(KNOWN) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            chain, hooks, regex, why = line.split("\t")
            known.append((chain, hooks.split(","), re.compile(regex), why))
    return known


def known_match(known, chain, hook, line):
    for kchain, khooks, regex, why in known:
        if kchain == chain and hook in khooks and regex.search(line):
            return why
    return None


def run_oracle(rules, chain, lines, exact=False):
    cmd = [sys.executable, ORACLE, "--chain", chain] + \
        (["--exact"] if exact else []) + [rules]
    res = subprocess.run(cmd, input="\n".join(lines) + "\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    out = res.stdout.split()
    if res.returncode or len(out) != len(lines):
        raise RuntimeError("oracle %s: %s" % (chain, res.stderr.strip()))
    return out


def run_bpfilter(rules, chain, hook, lines):
    cmd = ["unshare", "--net", BPFILTER, "test", "--hook", hook, "--chain",
           chain, rules]
    res = subprocess.run(cmd, input="\n".join(lines) + "\n",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    out = res.stdout.split()
    if res.returncode or len(out) != len(lines):
        raise RuntimeError("bpfilter test --hook %s --chain %s: %s" %
                           (hook, chain, res.stderr.strip()[:2000]))
    return out


def one_ruleset(job):
    """Generate rule set `idx` and compare every packet at every hook."""
    seed, idx, count, avoid_bugs = job
    rng = random.Random("%s/%d" % (seed, idx))
    rs, pools = rulegen.generate(rng, avoid_bugs)
    known = load_known()
    res = {"idx": idx, "pairs": 0, "agree": 0, "excluded": 0, "mism": [],
           "errors": [], "excl_why": {}, "pkts": 0, "rules": rs}
    with tempfile.TemporaryDirectory(prefix="bpfilter-camp.") as tmp:
        rules = os.path.join(tmp, "r.rules")
        with open(rules, "w") as f:
            f.write(rs.render())
        for chain in rulegen.CHAINS:
            lines = rulegen.packets(rng, pools, chain, count)
            res["pkts"] += len(lines)
            try:
                kver = run_oracle(rules, chain, lines)
            except RuntimeError as exc:
                res["errors"].append(str(exc))
                continue
            for hook in HOOKS[chain]:
                try:
                    bver = run_bpfilter(rules, chain, hook, lines)
                except RuntimeError as exc:
                    res["errors"].append(str(exc))
                    continue
                for line, kv, bv in zip(lines, kver, bver):
                    res["pairs"] += 1
                    why = known_match(known, chain, hook, line)
                    if why:
                        res["excluded"] += 1
                        res["excl_why"][why] = res["excl_why"].get(why, 0) + 1
                    elif kv == bv:
                        res["agree"] += 1
                    else:
                        res["mism"].append((chain, hook, line, kv, bv))
        recheck(rules, res)
    return res


def recheck(rules, res):
    """Judge every mismatching packet again, the kernel in --exact mode
    (a counter read per packet, waiting for the packet): one that agrees
    then was an oracle flake (a packet the kernel lost or delivered late
    under load; verdicts are stateless, so the answer cannot change
    otherwise). Flakes are counted and printed, not failures."""
    res["flaky"] = []
    if not res["mism"]:
        return
    keep = []
    for chain in rulegen.CHAINS:
        mism = [m for m in res["mism"] if m[0] == chain]
        if not mism:
            continue
        lines = sorted({m[2] for m in mism})
        try:
            kver = dict(zip(lines, run_oracle(rules, chain, lines, True)))
        except RuntimeError as exc:
            res["errors"].append("recheck: " + str(exc))
            keep += mism
            continue
        for m in mism:
            if kver[m[2]] == m[4]:
                res["flaky"].append(m + (kver[m[2]],))
                res["agree"] += 1
            else:
                keep.append(m)
    res["mism"] = keep


# Shrinker.

class Prober:
    """Does (rule set, chain, hook, packet) still make the two disagree?"""

    def __init__(self, chain, hook, tmp):
        self.chain, self.hook = chain, hook
        self.rules = os.path.join(tmp, "s.rules")
        self.calls = 0

    def verdicts(self, rs, line, exact=False):
        self.calls += 1
        with open(self.rules, "w") as f:
            f.write(rs.render())
        try:
            kv = run_oracle(self.rules, self.chain, [line], exact)[0]
            bv = run_bpfilter(self.rules, self.chain, self.hook, [line])[0]
        except RuntimeError:
            return None, None
        return kv, bv

    def differs(self, rs, line):
        kv, bv = self.verdicts(rs, line)
        return kv is not None and kv != bv


def pkt_required(chain):
    return {"INPUT": ("iif",), "FORWARD": ("iif", "oif"),
            "OUTPUT": ("oif",)}[chain]


def shrink(rs, chain, hook, line, budget=250):
    """The smallest rule set and packet line found that still disagree."""
    with tempfile.TemporaryDirectory(prefix="bpfilter-shrink.") as tmp:
        pr = Prober(chain, hook, tmp)
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
        kv, bv = pr.verdicts(rs, line, exact=True)
        return rs, line, kv, bv, pr.calls


def report_mismatch(out, name, rs, chain, hook, line, kv, bv, do_shrink):
    print("MISMATCH %s chain %s hook %s: %s -> kernel %s, bpfilter %s" %
          (name, chain, hook, line, kv, bv), flush=True)
    shrunk = shrink(rs.copy(), chain, hook, line) if do_shrink else None
    if shrunk is None:
        if do_shrink:
            print("#   not reproducible alone (flaky or order dependent)")
        small, sline, skv, sbv = rs, line, kv, bv
    else:
        small, sline, skv, sbv, calls = shrunk
        print("#   shrunk in %d probes: kernel %s (exact), bpfilter %s" %
              (calls, skv, sbv))
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, name)
    with open(base + ".rules", "w") as f:
        f.write("# campaign %s: kernel %s, bpfilter %s at %s %s\n" %
                (name, skv, sbv, chain, hook))
        f.write(small.render())
    with open(base + ".pkts", "w") as f:
        # run.sh takes a leading ACCEPT/DROP as the expectation (NOHOOK
        # is none: such a line needs an entry in known-differences).
        want = skv + " " if skv in ("ACCEPT", "DROP") else ""
        f.write("--- %s\n%s%s # kernel %s, bpfilter %s (%s)\n" %
                (chain, want, sline, skv, sbv, hook))
    for path in (base + ".rules", base + ".pkts"):
        with open(path) as f:
            for text in f:
                print("#   " + text.rstrip())


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
    ap.add_argument("--out", default="/tmp/bpfilter-campaign")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--avoid", default=os.environ.get("DIFF_AVOID", ""),
                    help="comma list of known bpfilter bugs the rule "
                    "generator steers clear of (ttl-forward)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("# SKIP: the campaign needs root (netns, iptables, bpf)")
        sys.exit(4)
    if not os.access(BPFILTER, os.X_OK):
        sys.exit("campaign: %s is missing; run make first" % BPFILTER)
    per_set = args.count * sum(len(h) for h in HOOKS.values())
    nsets = max(1, -(-args.pairs // per_set))
    print("# campaign seed %s: %d rule sets x %d packets per chain "
          "(%d pairs each), %d jobs" % (args.seed, nsets, args.count,
                                        per_set, args.jobs), flush=True)
    tot = {"sets": 0, "pkts": 0, "pairs": 0, "agree": 0, "excluded": 0,
           "mism": 0, "errors": 0, "flaky": 0}
    excl_why = {}
    start = time.time()
    avoid_bugs = tuple(a for a in args.avoid.split(",") if a)
    jobs = [(args.seed, i, args.count, avoid_bugs)
            for i in range(args.start, args.start + nsets)]
    pending = []
    with multiprocessing.Pool(args.jobs) as pool:
        for res in pool.imap_unordered(one_ruleset, jobs):
            tot["sets"] += 1
            for key in ("pkts", "pairs", "agree", "excluded"):
                tot[key] += res[key]
            tot["mism"] += len(res["mism"])
            tot["errors"] += len(res["errors"])
            for why, n in res["excl_why"].items():
                excl_why[why] = excl_why.get(why, 0) + n
            for err in res["errors"]:
                print("# ERROR rule set %s/%d: %s" % (args.seed, res["idx"],
                                                      err), flush=True)
            for m in res["mism"]:
                pending.append((res["idx"], res["rules"]) + m)
            for chain, hook, line, kv, bv, kv2 in res["flaky"]:
                tot["flaky"] += 1
                print("# FLAKY oracle, rule set %s/%d chain %s hook %s: %s -> "
                      "kernel %s, on recheck %s = bpfilter" %
                      (args.seed, res["idx"], chain, hook, line, kv, kv2),
                      flush=True)
            if args.verbose or tot["sets"] % 10 == 0:
                el = time.time() - start
                print("# %d rule sets, %d pairs, %d mismatches, %.0f s, "
                      "%.0f pairs/s" % (tot["sets"], tot["pairs"],
                                        tot["mism"], el, tot["pairs"] / el),
                      flush=True)
    elapsed = time.time() - start
    # One shrink per (rule set, chain, hook); the rest are listed.
    shrunk = set()
    for idx, rs, chain, hook, line, kv, bv in pending:
        key = (idx, chain, hook)
        name = "camp-%s-%d-%s-%s" % (re.sub(r"\W", "_", args.seed), idx,
                                     chain, hook)
        if key in shrunk:
            print("MISMATCH %s chain %s hook %s: %s -> kernel %s, bpfilter %s"
                  % (name, chain, hook, line, kv, bv))
            continue
        shrunk.add(key)
        report_mismatch(args.out, name, rs, chain, hook, line, kv, bv,
                        not args.no_shrink)
    print("# campaign seed %s: %d rule sets, %d packets, %d pairs, %d agree, "
          "%d mismatch, %d excluded as designed, %d errors, %d oracle "
          "flakes (agree on recheck), %.0f s (%.0f pairs/s)" %
          (args.seed, tot["sets"], tot["pkts"], tot["pairs"], tot["agree"],
           tot["mism"], tot["excluded"], tot["errors"], tot["flaky"], elapsed,
                             tot["pairs"] / max(elapsed, 1e-9)))
    for why, n in sorted(excl_why.items()):
        print("#   excluded %d: %s" % (n, why))
    sys.exit(0 if tot["mism"] == 0 and tot["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
