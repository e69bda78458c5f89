#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one hand-made IPv6 packet through a raw socket (IPPROTO_RAW: the
header is ours, IPV6_HDRINCL), so the same bytes can be sent twice (flow
label, hop limit, traffic class, extension headers fixed): once for the
kernel's own ip6tables-legacy and once for bpfilter. The packet goes
through the sender's LOCAL_OUT, so it also serves the OUTPUT cases.

  sendpkt6.py KIND SRC DST
KIND: tcp-syn | tcp-ack | tcp-syn-out | udp | udp-big | udp-port-N |
      udp-fwd | udp-out | udp-frag | icmp6-echo-hbh | icmp6-unreach
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


def a6(x):
    return socket.inet_pton(socket.AF_INET6, x)


def l4csum(src, dst, proto, seg):
    pseudo = a6(src) + a6(dst) + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


def ip6(src, dst, nexthdr, payload, hl=64, tc=0, flow=0):
    w = 6 << 28 | tc << 20 | flow
    return struct.pack("!IHBB", w, len(payload), nexthdr, hl) + a6(src) + a6(dst) + payload


def tcp_syn(src, dst, dport=2222):
    opts = bytes([2, 4, 5, 0xA0, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
    seg = struct.pack("!HHIIBBHHH", 40000, dport, 123456789, 0, (5 + len(opts) // 4) << 4,
                      0x02, 64800, 0, 0) + opts
    seg = seg[:16] + struct.pack("!H", l4csum(src, dst, 6, seg)) + seg[18:]
    return ip6(src, dst, 6, seg, tc=0x10, flow=0x12345)


def tcp_ack(src, dst):
    data = b"GET / HTTP/1.0\r\n\r\n"
    seg = struct.pack("!HHIIBBHHH", 40002, 2222, 1000, 777777, 5 << 4, 0x18, 502, 0, 0) + data
    seg = seg[:16] + struct.pack("!H", l4csum(src, dst, 6, seg)) + seg[18:]
    return ip6(src, dst, 6, seg, flow=0xabcde)


def udp_seg(src, dst, dport, size):
    data = (b"hello\n" * (size // 6 + 1))[:size]
    seg = struct.pack("!HHHH", 40001, dport, 8 + len(data), 0) + data
    return seg[:6] + struct.pack("!H", l4csum(src, dst, 17, seg)) + seg[8:]


def udp(src, dst, dport, size=6, hl=33, flow=0x54321):
    return ip6(src, dst, 17, udp_seg(src, dst, dport, size), hl=hl, flow=flow)


def udp_frag(src, dst):
    """A first fragment (offset 0, M) of a UDP datagram to port 2227."""
    seg = udp_seg(src, dst, 2227, 40)
    frag = struct.pack("!BBHI", 17, 0, 0x0001, 0x01020304)
    return ip6(src, dst, 44, frag + seg[:32], hl=20)


def icmp6(src, dst, typ, code, rest, body, ext=b"", first=58):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    msg = msg[:2] + struct.pack("!H", l4csum(src, dst, 58, msg)) + msg[4:]
    return ip6(src, dst, first, ext + msg, hl=17, tc=0xb8)


def main():
    kind, src, dst = sys.argv[1:4]
    if kind == "tcp-syn":
        pkt = tcp_syn(src, dst)
    elif kind == "tcp-syn-out":
        pkt = tcp_syn(src, dst, 2226)
    elif kind == "tcp-ack":
        pkt = tcp_ack(src, dst)
    elif kind == "udp":
        pkt = udp(src, dst, 2223)
    elif kind == "udp-fwd":
        pkt = udp(src, dst, 2225)
    elif kind == "udp-out":
        pkt = udp(src, dst, 2224)
    elif kind.startswith("udp-port-"):
        pkt = udp(src, dst, int(kind[9:]))
    elif kind == "udp-big":
        pkt = udp(src, dst, 2223, size=1400)
    elif kind == "udp-frag":
        pkt = udp_frag(src, dst)
    elif kind == "icmp6-echo-hbh":
        hbh = bytes([58, 0, 1, 4, 0, 0, 0, 0])	# hop-by-hop: PadN
        pkt = icmp6(src, dst, 128, 0, struct.pack("!HH", 77, 3), b"abcdefgh", ext=hbh, first=0)
    elif kind == "icmp6-unreach":
        inner = udp(dst, src, 53)[:48]
        pkt = icmp6(src, dst, 1, 4, b"\0\0\0\0", inner)
    else:
        sys.exit("unknown kind " + kind)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(pkt, (dst, 0))


if __name__ == "__main__":
    main()
