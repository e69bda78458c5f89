#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send COUNT copies of one hand-made packet (sendpkt.py / sendpkt6.py
kinds) as fast as one raw socket goes, for the REJECT rate-limit test:
the packets are built once, then sent in a loop (a few ms for 30).

  burst.py 4|6 KIND SRC DST COUNT[,SECONDS,COUNT...]
"20,1.3,10": 20 packets, a pause of 1.3 s, 10 more (the pause is measured
in this process, so it does not depend on how fast python starts).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build(fam, kind, src, dst):
    if fam == "6":
        import sendpkt6 as m
        if kind == "udp":
            return m.udp(src, dst, 2223)
        if kind == "tcp-syn":
            return m.tcp_syn(src, dst)
    else:
        import sendpkt as m
        if kind == "udp":
            return m.udp(src, dst, 2223, 4321)
        if kind == "tcp-syn":
            return m.tcp_syn(src, dst)
    sys.exit("unknown kind " + kind)


def main():
    fam, kind, src, dst, count = sys.argv[1:6]
    pkt = build(fam, kind, src, dst)
    af = socket.AF_INET6 if fam == "6" else socket.AF_INET
    s = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)
    steps = count.split(",")
    for i, step in enumerate(steps):
        if i % 2:
            time.sleep(float(step))
            continue
        for _ in range(int(step)):
            s.sendto(pkt, (dst, 0))


if __name__ == "__main__":
    main()
