#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bounded differential campaign (`make difftest`): random rule sets from
# rulegen.py, edge-biased packets for each, the kernel (oracle.py) against
# `bpfilter test` at xdp and tc and the IR interpreter (`bpfilter test
# --interp`), a sample also through the program the daemon attached
# (attached.py, real frames over veth); mismatches are shrunk and written as
# NAME.rules + NAME.pkts (ready for tests/diff/cases/) under DIFF_OUT.
#
#   DIFF_PAIRS=N    (packet, hook) pairs to judge (default 200000)
#   DIFF_SEED=S     campaign seed (default 1); rule set i uses "S/i"
#   DIFF_COUNT=C    packets per chain per rule set (default 1000)
#   DIFF_ATTACHED=K the first K rule sets also go through the attached
#                   program (default 10)
#   DIFF_ATTACHED_COUNT=M  ... with their first M packets per chain (200)
#   DIFF_JOBS=J     rule sets at a time (default: the number of CPUs)
#   DIFF_FAMILY=6   ip6tables rule sets and IPv6 packets (default 4)
#   DIFF_AVOID=L    known bpfilter bugs the generators steer clear of
#                   (comma list; "ttl-forward", fixed since; "rt-trunc",
#                   IPv6 routing headers cut short); default none
#   DIFF_OUT=DIR    where shrunk reproducers go (default /tmp/bpfilter-campaign)
#
# Extra arguments go to campaign.py (see campaign.py --help).
# Exit: 0 no mismatch and no error, 1 otherwise, 4 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/campaign.py" \
	--pairs "${DIFF_PAIRS:-200000}" \
	--seed "${DIFF_SEED:-1}" \
	--count "${DIFF_COUNT:-1000}" \
	--jobs "${DIFF_JOBS:-$(nproc)}" \
	--attached "${DIFF_ATTACHED:-10}" \
	--attached-count "${DIFF_ATTACHED_COUNT:-200}" \
	--avoid "${DIFF_AVOID:-}" \
	--family "${DIFF_FAMILY:-4}" \
	--out "${DIFF_OUT:-/tmp/bpfilter-campaign}" \
	"$@"
