#!/bin/sh
# Regenerate the fixtures: for each NAME.in (iptables-restore format), load
# it with the real iptables-legacy in a fresh network namespace (unshare -n:
# the namespace dies with the shell) and store
#   NAME.bin    the table read back with IPT_SO_GET_INFO/GET_ENTRIES, shaped
#               as an ipt_replace payload (tests/tools/capture_blob.c)
#   NAME.rules  iptables-legacy-save's text for it
# Usage: tests/unit/blobs/capture.sh [path/to/capture_blob]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-$here/../../../build/tests/capture_blob}
for in in "$here"/*.in; do
	base=${in%.in}
	unshare -n sh -c "iptables-legacy-restore < '$in' &&
		iptables-legacy-save -t filter | grep -v '^#' > '$base.rules' &&
		'$tool' '$base.bin'"
	echo "captured $(basename "$base")"
done
