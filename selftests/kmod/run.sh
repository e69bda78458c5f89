#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpfilter.ko selftest: builds the module against Debian's kernel headers,
# boots Debian's kernel in qemu (TCG, one CPU, the host's / read-only over
# 9p), and runs selftests/kmod/guest.sh in it: insmod, unmodified
# iptables-legacy and ip6tables-legacy, real IPv4 and IPv6 traffic between
# two netns, a device that appears after the rules (link events), a second
# netns with its own table, rules and traffic, helper kill/restart,
# bad input, rmmod. Prints TAP; exits 0 on success, 1 on failure, 4 when
# skipped (no Debian kernel/headers/qemu installed).
#
#   selftests/kmod/run.sh [--hook tc|xdp]... [--kver VER] [--timeout SEC]
#                         [--helper PATH] [--no-ipv6]
#
# --helper embeds PATH instead of building bpfilter-umh (kmod/Makefile's
# BPFILTER_UMH). --no-ipv6 (or KMOD_IPV6=0) reports the ip6tables-legacy
# steps as one "# SKIP" line instead of running them.
#
# Needs (Debian): linux-headers-amd64 linux-image-amd64 qemu-system-x86
# busybox-static, plus the project's build dependencies. KMOD_QUICK=1 stops
# after the iptables tests (for debugging). Run as root (the
# kernel image in /boot is root-only readable).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/selftests/kmod
OUT=$TOP/build/kmod-selftest
HOOKS=()
KVER=${KVER:-}
# One boot takes ~90-120 s on two idle cores (TCG, one vCPU); 470 s was
# seen with the host at load 14. The bound is per boot.
TIMEOUT=900
HELPER=
IPV6=${KMOD_IPV6:-1}

while [ $# -gt 0 ]; do
	case $1 in
	--hook) HOOKS+=("$2"); shift 2 ;;
	--kver) KVER=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--helper) HELPER=$(realpath "$2"); shift 2 ;;
	--no-ipv6) IPV6=0; shift ;;
	*) echo "usage: $0 [--hook tc|xdp]... [--kver VER] [--timeout SEC] [--helper PATH] [--no-ipv6]" >&2; exit 2 ;;
	esac
done
[ ${#HOOKS[@]} -gt 0 ] || HOOKS=(tc)

skip() {
	echo "1..0 # SKIP $*"
	exit 4
}

# The newest Debian kernel with both headers and image; never uname -r.
if [ -z "$KVER" ]; then
	for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V); do
		v=${d#/usr/src/linux-headers-}
		[ -e "/boot/vmlinuz-$v" ] && KVER=$v
	done
fi
[ -n "$KVER" ] || skip "no Debian kernel with headers (apt-get install linux-headers-amd64 linux-image-amd64)"
[ -d "/lib/modules/$KVER/build" ] || skip "no /lib/modules/$KVER/build"
[ -r "/boot/vmlinuz-$KVER" ] || skip "/boot/vmlinuz-$KVER not readable"
command -v qemu-system-x86_64 > /dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"

mkdir -p "$OUT"
echo "# building bpfilter.ko for $KVER"
if ! make -s -C "$TOP/kmod" KDIR="/lib/modules/$KVER/build" \
	${HELPER:+BPFILTER_UMH="$HELPER"} > "$OUT/build.log" 2>&1; then
	echo "not ok 1 - build bpfilter.ko"
	echo "1..1"
	sed 's/^/# /' "$OUT/build.log" | tail -n 40
	exit 1
fi
cp "$TOP/kmod/bpfilter.ko" "$OUT/bpfilter.ko"
if ! cc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-o "$OUT/sockopt-probe" "$HERE/sockopt-probe.c" >> "$OUT/build.log" 2>&1; then
	echo "not ok 1 - build sockopt-probe"
	echo "1..1"
	sed 's/^/# /' "$OUT/build.log" | tail -n 20
	exit 1
fi
if ! "$HERE/mkinitramfs.sh" "$KVER" "$OUT/initramfs.cpio.gz" >> "$OUT/build.log" 2>&1; then
	echo "not ok 1 - build the initramfs"
	echo "1..1"
	sed 's/^/# /' "$OUT/build.log" | tail -n 20
	exit 1
fi

rc=0
N=0
# The module must carry a static helper (it may start before the root fs
# has libraries); kmod/Makefile falls back to the dynamic one with a note.
if [ -z "$HELPER" ]; then
	N=$((N + 1))
	if readelf -l "$TOP/kmod/bpfilter-umh.bin" 2> /dev/null | grep -q INTERP; then
		rc=1
		echo "not ok $N - the embedded helper is linked statically"
		sed 's/^/# /' "$TOP/kmod/bpfilter-umh.bin.log" 2> /dev/null | tail -n 20
	else
		echo "ok $N - the embedded helper is linked statically"
	fi
fi
for hook in "${HOOKS[@]}"; do
	log=$OUT/console-$hook.log
	echo "# booting $KVER in qemu (TCG), hook $hook; console in $log"
	start=$(date +%s)
	timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg -smp 1 -m 1024 -nographic -nic none -no-reboot \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$OUT/initramfs.cpio.gz" \
		-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
		-append "console=ttyS0 panic=-1 quiet printk.devkmsg=on BFT_INIT=$HERE/guest.sh BFT_KO=$OUT/bpfilter.ko BFT_PROBE=$OUT/sockopt-probe BFT_HOOK=$hook BFT_QUICK=${KMOD_QUICK:-0} BFT_IPV6=$IPV6 BFT_GUEST_TIMEOUT=$((TIMEOUT - 30))" \
		< /dev/null > "$log" 2>&1
	qrc=$?
	# one TAP stream across the boots: renumber, plan at the end
	tr -d '\r' < "$log" | grep -E '^(ok |not ok |#)' > "$OUT/tap-$hook.txt"
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			N=$((N + 1))
			status=${line%% [0-9]*}
			echo "$status $N - [$hook] ${line#* - }" ;;
		*) echo "$line" ;;
		esac
	done < "$OUT/tap-$hook.txt"
	done_line=$(tr -d '\r' < "$log" | grep '^BFT-DONE' | tail -n 1)
	echo "# $hook: qemu exit $qrc after $(( $(date +%s) - start )) s; $done_line"
	case $done_line in
	"BFT-DONE tests="*" failures=0")
		[ "${done_line#BFT-DONE tests=}" != "0 failures=0" ] || rc=1 ;;
	*)
		rc=1
		N=$((N + 1))
		echo "not ok $N - [$hook] the guest ran to the end (qemu exit $qrc)"
		[ $qrc -eq 124 ] && echo "# qemu timed out after $TIMEOUT s"
		echo "# last console lines:"
		tr -d '\r' < "$log" | tail -n 30 | sed 's/^/#   /' ;;
	esac
done
echo "1..$N"
exit $rc
