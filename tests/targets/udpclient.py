#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A local sender for REJECT at OUTPUT (tests/targets/reject-output.sh):
a connected UDP socket sends one datagram from SRC to DST:PORT, then reads
what the socket was told. Prints one line:
  send=ERRNO recv=ERRNO ee=TYPE/CODE
ERRNO is 0 or the errno name; ee= is the ICMP type/code of the error the
kernel queued for the socket (IP_RECVERR), or "-" when none came within
300 ms.
"""
import errno
import select
import socket
import struct
import sys
import time

IP_RECVERR = 11
MSG_ERRQUEUE = 0x2000


def name(e):
	return errno.errorcode.get(e, str(e)) if e else "0"


def main():
	src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((src, 0))
	s.connect((dst, port))
	s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
	try:
		s.send(b"hello!")
		se = 0
	except OSError as e:
		se = e.errno
	ee = "-"
	re = 0
	end = time.monotonic() + 0.3
	while time.monotonic() < end and ee == "-":
		select.select([s], [], [s], 0.05)
		try:
			_, anc, _, _ = s.recvmsg(512, 512, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
			for lvl, typ, data in anc:
				if lvl == socket.IPPROTO_IP and typ == IP_RECVERR:
					e_errno, origin, etype, ecode = struct.unpack("=IBBB", data[:7])
					ee = "%d/%d" % (etype, ecode)
					re = e_errno
		except BlockingIOError:
			pass
	print("send=%s recv=%s ee=%s" % (name(se), name(re), ee))


if __name__ == "__main__":
	main()
