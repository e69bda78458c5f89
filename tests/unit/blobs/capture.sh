#!/bin/sh
# Regenerate the fixtures: for each NAME.in (iptables-restore format) or
# NAME.in6 (ip6tables-restore format), load it with the real
# iptables-legacy / ip6tables-legacy in a fresh network namespace (unshare
# -n: the namespace dies with the shell) and store
#   NAME.bin    the table read back with IPT_SO_GET_INFO/GET_ENTRIES (IPv6:
#               IP6T_SO_*), shaped as an ipt_replace / ip6t_replace payload
#               (tests/tools/capture_blob.c)
#   NAME.rules  iptables-legacy-save's (ip6tables-legacy-save's) text for it
# Usage: tests/unit/blobs/capture.sh [path/to/capture_blob]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-$here/../../../build/tests/capture_blob}
for in in "$here"/*.in "$here"/*.in6; do
	[ -e "$in" ] || continue
	case $in in
	*.in6) base=${in%.in6} ipt=ip6tables-legacy flag=-6 ;;
	*) base=${in%.in} ipt=iptables-legacy flag= ;;
	esac
	unshare -n sh -c "$ipt-restore < '$in' &&
		$ipt-save -t filter | grep -v '^#' > '$base.rules' &&
		'$tool' $flag '$base.bin'"
	echo "captured $(basename "$base")"
done
