#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture IPv4 frames received on a device (AF_PACKET, incoming only) and
print each as one hex line, for the REJECT comparison.

  sniff.py IFACE SECONDS MAX [PROTO]
IFACE "ip:N": IPv4 datagrams of protocol N this host receives (raw socket).
Prints "ready" first (flushed), then one hex frame per line; stops after
MAX frames or SECONDS.
"""
import select
import socket
import sys
import time


def main():
    iface, secs, maxn = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    proto = int(sys.argv[4]) if len(sys.argv) > 4 else None
    if iface.startswith("ip:"):
        # IPv4 datagrams of protocol N delivered to this host (raw socket)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, int(iface[3:]))
    else:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        s.bind((iface, 0))
    print("ready", flush=True)
    end = time.time() + secs
    n = 0
    while n < maxn:
        left = end - time.time()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        data, addr = s.recvfrom(65535)
        if not iface.startswith("ip:") and addr[2] == socket.PACKET_OUTGOING:
            continue
        if proto is not None and (len(data) < 24 or data[23] != proto):
            continue
        print(data.hex(), flush=True)
        n += 1


if __name__ == "__main__":
    main()
