#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Regression test for seqrun.sysctl_set(): with kernel.printk_devkmsg set
"on" the way the bpfilter runs set it, one /dev/kmsg writer gets more than
the "ratelimit" burst of 10 lines through (the ufw run's 11th LOG line was
lost when the setting silently did not take). Restores the setting.
Prints one TAP line without the number; exit 0 ok, 1 failure.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seqrun import SeqError, sysctl_set  # noqa: E402

DEVKMSG = "/proc/sys/kernel/printk_devkmsg"
LINES = 15


def main():
	tag = "bpfilter-devkmsg-test-%d-" % os.getpid()
	old = open(DEVKMSG).read().strip()
	try:
		sysctl_set(DEVKMSG, "on")
		fd = os.open("/dev/kmsg", os.O_WRONLY)
		try:
			for i in range(LINES):
				os.write(fd, ("<7>%s%d\n" % (tag, i)).encode())
		finally:
			os.close(fd)
	except (SeqError, OSError) as e:
		print("not ok - devkmsg: %s" % e)
		return 1
	finally:
		sysctl_set(DEVKMSG, old)
	out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
	got = sum(1 for x in out.splitlines() if tag in x)
	if got != LINES:
		print("not ok - devkmsg: %d of %d lines from one writer with printk_devkmsg=on" % (got, LINES))
		return 1
	print("ok - devkmsg: %d of %d lines from one writer with printk_devkmsg=on" % (got, LINES))
	return 0


if __name__ == "__main__":
	sys.exit(main())
