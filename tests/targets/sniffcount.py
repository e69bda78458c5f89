#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture the IPv4 and IPv6 frames a device receives for at most SECONDS
(the caller usually ends it earlier with SIGTERM) and print one line per
frame as it comes: "FAMILY PROTO DST" (4 1 10.0.0.1, 6 58 fd00::1), for
the REJECT rate-limit test. Prints "ready" first (flushed).

  sniffcount.py IFACE SECONDS
"""
import select
import signal
import socket
import sys
import time


def main():
    iface, secs = sys.argv[1], float(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    print("ready", flush=True)
    end = time.time() + secs
    while True:
        left = end - time.time()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        data, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING or len(data) < 14:
            continue
        et = data[12] << 8 | data[13]
        if et == 0x0800 and len(data) >= 34:
            print("4 %d %s" % (data[23], socket.inet_ntop(socket.AF_INET, data[30:34])), flush=True)
        elif et == 0x86DD and len(data) >= 54:
            print("6 %d %s" % (data[20], socket.inet_ntop(socket.AF_INET6, data[38:54])), flush=True)


if __name__ == "__main__":
    main()
