#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one hand-made IPv4 packet through a raw socket (IP_HDRINCL), so the
same bytes can be sent twice (ID, TTL, TOS, options fixed): once for the
kernel's own iptables-legacy and once for bpfilter.

  sendpkt.py KIND SRC DST
KIND: tcp-syn | tcp-ack | udp | udp-big | udp-port-N | udp-fwd | icmp-echo-opt |
      icmp-unreach | udp-out
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(src, dst, proto, payload, ident, ttl=64, tos=0, df=False, opts=b""):
    ihl = 5 + len(opts) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(payload),
                      ident, 0x4000 if df else 0, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst)) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def l4csum(src, dst, proto, seg):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def tcp_syn(src, dst, dport=2222):
    opts = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
    seg = struct.pack("!HHIIBBHHH", 40000, dport, 123456789, 0, (5 + len(opts) // 4) << 4,
                      0x02, 64240, 0, 0) + opts
    seg = seg[:16] + struct.pack("!H", l4csum(src, dst, 6, seg)) + seg[18:]
    return ip(src, dst, 6, seg, 0x1234, ttl=64, tos=0x10, df=True)


def tcp_ack(src, dst):
    data = b"GET / HTTP/1.0\r\n\r\n"
    seg = struct.pack("!HHIIBBHHH", 40002, 2222, 1000, 777777, 5 << 4, 0x18, 502, 0, 0) + data
    seg = seg[:16] + struct.pack("!H", l4csum(src, dst, 6, seg)) + seg[18:]
    return ip(src, dst, 6, seg, 0x2345, ttl=64, df=True)


def udp(src, dst, dport, ident, size=6):
    data = (b"hello\n" * (size // 6 + 1))[:size]
    seg = struct.pack("!HHHH", 40001, dport, 8 + len(data), 0) + data
    seg = seg[:6] + struct.pack("!H", l4csum(src, dst, 17, seg)) + seg[8:]
    return ip(src, dst, 17, seg, ident, ttl=33)


def icmp(src, dst, typ, code, rest, body, ident, opts=b""):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    return ip(src, dst, 1, msg, ident, ttl=17, tos=0xC0, opts=opts)


def main():
    kind, src, dst = sys.argv[1:4]
    if kind == "tcp-syn":
        pkt = tcp_syn(src, dst)
    elif kind == "udp":
        pkt = udp(src, dst, 2223, 4321)
    elif kind == "udp-fwd":
        pkt = udp(src, dst, 2225, 999)
    elif kind.startswith("udp-port-"):
        pkt = udp(src, dst, int(kind[9:]), 4000 + int(kind[9:]) % 1000)
    elif kind == "udp-big":
        pkt = udp(src, dst, 2223, 4322, size=1000)
    elif kind == "tcp-syn-out":
        pkt = tcp_syn(src, dst, 2226)
    elif kind == "tcp-ack":
        pkt = tcp_ack(src, dst)
    elif kind == "udp-out":
        pkt = udp(src, dst, 2224, 7777)
    elif kind == "icmp-echo-opt":
        pkt = icmp(src, dst, 8, 0, struct.pack("!HH", 77, 3), b"abcdefgh", 555,
                   opts=bytes([1, 1, 1, 0]))
    elif kind == "icmp-unreach":
        inner = udp(dst, src, 53, 42)[:28]
        pkt = icmp(src, dst, 3, 3, b"\0\0\0\0", inner, 556)
    else:
        sys.exit("unknown kind " + kind)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(pkt, (dst, 0))


if __name__ == "__main__":
    main()
