#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Traffic sink for the selftest: accept TCP connections and count UDP
datagrams on the given ports, for at most --timeout seconds.

    listener.py --log FILE --timeout S [--tcp PORT]... [--udp PORT]...

Every event appends one line to FILE: "tcp PORT" per accepted connection,
"udp PORT" per datagram. A line "ready" is written once all sockets are
bound.
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
                if kind == "tcp":
                    conn, _ = s.accept()
                    conn.close()
                else:
                    s.recv(65536)
                log.write("%s %d\n" % (kind, port))


if __name__ == "__main__":
    main()
