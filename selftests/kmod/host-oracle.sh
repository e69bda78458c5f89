#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Checks the guest's steps themselves: runs test_iptables, test_ip6tables
# and test_link_events of guest.sh on this machine, in a private network
# namespace, against the kernel's own ip_tables/ip6_tables (the oracle).
# Every step must pass here; a step that fails here expects something the
# kernel does not do. Waiting for the helper's "attached" log line
# (wait_log) means nothing here, since the kernel filters every device at
# once, so it returns at once. Prints TAP; exits 0 or 1. Run as root.
#
#   selftests/kmod/host-oracle.sh
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
OUTER=bfto$$

if [ "${1:-}" != --inside ]; then
	ip netns add $OUTER || exit 1
	ip netns exec $OUTER "$0" --inside
	rc=$?
	ip netns del $OUTER
	exit $rc
fi

BFT_SOURCE_ONLY=1
BFT_SUFFIX=$$
BFT_HERE=$HERE
BFT_TMP=$(mktemp -d)
# shellcheck source=guest.sh
. "$HERE/guest.sh"
# the kernel filters every device: nothing to wait for in a helper's log
wait_log() { return 0; }

cleanup() {
	local n
	for n in $NS $NSN; do
		ip netns del "$n" 2> /dev/null
	done
	rm -rf "$BFT_TMP"
}
trap cleanup EXIT

ip link set lo up
check "network namespace and veth pair" setup_net
test_iptables
test_ip6tables
test_link_events
echo "1..$T"
[ "$FAILS" = 0 ]
