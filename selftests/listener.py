#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic sink for the selftest: accept TCP connections and count UDP
datagrams on the given ports, for at most --timeout seconds.

    listener.py --log FILE --timeout S [--tcp PORT]... [--udp PORT]...
                [--tcp6 PORT]... [--udp6 PORT]...

Every event appends one line to FILE: "tcp PORT" per accepted connection,
"udp PORT" per datagram ("tcp6 PORT", "udp6 PORT" on the IPv6 sockets). A
line "ready" is written once all sockets are bound.
"""

import argparse
import select
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--tcp", type=int, action="append", default=[])
    ap.add_argument("--udp", type=int, action="append", default=[])
    ap.add_argument("--tcp6", type=int, action="append", default=[])
    ap.add_argument("--udp6", type=int, action="append", default=[])
    args = ap.parse_args()
    socks = {}
    for port in args.tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        socks[s] = ("tcp", port)
    for port in args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        socks[s] = ("udp", port)
    for port in args.tcp6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
        s.listen(64)
        socks[s] = ("tcp6", port)
    for port in args.udp6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
        socks[s] = ("udp6", port)
    deadline = time.monotonic() + args.timeout
    with open(args.log, "a", buffering=1) as log:
        log.write("ready\n")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(socks), [], [], min(left, 1.0))
            for s in ready:
                kind, port = socks[s]
                if kind in ("tcp", "tcp6"):
                    conn, _ = s.accept()
                    conn.close()
                else:
                    s.recv(65536)
                log.write("%s %d\n" % (kind, port))


if __name__ == "__main__":
    main()
