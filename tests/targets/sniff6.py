#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture IPv6 frames received on a device (AF_PACKET, incoming only)
addressed to DST and print each as one hex line, for the REJECT
comparison (neighbour discovery and MLD go to other addresses).

  sniff6.py IFACE SECONDS MAX DST
IFACE "ip6:N": IPv6 packets of protocol N this host receives (raw socket,
no IPv6 header: the kernel strips it), printed as they come.
Prints "ready" first (flushed), then one hex frame per line; stops after
MAX frames or SECONDS.
"""
import select
import socket
import sys
import time


def main():
    iface, secs, maxn, dst = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    want = socket.inet_pton(socket.AF_INET6, dst)
    raw = iface.startswith("ip6:")
    if raw:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, int(iface[4:]))
    else:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
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
        if raw:
            if addr[0] != socket.inet_ntop(socket.AF_INET6, want) and dst != "any":
                continue
        else:
            if addr[2] == socket.PACKET_OUTGOING or data[38:54] != want:
                continue
        print(data.hex(), flush=True)
        n += 1


if __name__ == "__main__":
    main()
