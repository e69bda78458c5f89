#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpora of tests/fuzz/ from tests/unit/blobs/*.bin.

  corpus/fuzz_xt, corpus/fuzz_gen: the blobs as they are
  corpus/fuzz_umh: request streams (GET_INFO, SET_REPLACE of a blob,
                   GET_ENTRIES, ADD_COUNTERS, revision probes, PING)
  corpus/fuzz_load: 'B' + blob length + blob + packet bytes

Run from anywhere; existing regress-* files are kept.
"""
import glob
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
BLOBS = sorted(glob.glob(os.path.join(HERE, '..', 'unit', 'blobs', '*.bin')))

REQ_MAGIC, VERSION, REQ_SIZE = 0x62706672, 1, 48
GET, SET, PING = 1, 2, 3
AF_INET = 2
SO_SET_REPLACE, SO_SET_ADD_COUNTERS = 64, 65
SO_GET_INFO, SO_GET_ENTRIES, SO_GET_REV_MATCH, SO_GET_REV_TARGET = 64, 65, 66, 67


def req(cmd, optname, payload, seq, optlen=None):
    if optlen is None:
        optlen = len(payload)
    hdr = struct.pack('<IHHIIIIIIQQ', REQ_MAGIC, VERSION, REQ_SIZE, cmd,
                      AF_INET, optname, optlen, len(payload), 1, 0, seq)
    assert len(hdr) == REQ_SIZE
    return hdr + payload


def name32(s):
    return s.encode().ljust(32, b'\0')


def stream(blob, seq0):
    size = struct.unpack_from('<I', blob, 36)[0]
    n = struct.unpack_from('<I', blob, 40)[0]
    info = name32('filter') + bytes(84 - 32)
    ents = name32('filter') + struct.pack('<II', size, 0)
    cnt = name32('filter') + struct.pack('<II', n, 0) + bytes(16 * n)
    rev = b'tcp'.ljust(29, b'\0') + b'\0'
    # The helper starts with the 4-entry initial table.
    blob = blob[:84] + struct.pack('<I', 4) + blob[88:]
    ents = ents.ljust(min(40 + size, 128), b'\0')
    out = req(GET, SO_GET_INFO, info, seq0)
    out += req(SET, SO_SET_REPLACE, blob, seq0 + 1)
    out += req(GET, SO_GET_INFO, info, seq0 + 2)
    out += req(GET, SO_GET_ENTRIES, ents, seq0 + 3, 40 + size)
    out += req(SET, SO_SET_ADD_COUNTERS, cnt, seq0 + 4)
    out += req(GET, SO_GET_REV_MATCH, rev, seq0 + 5, 30)
    out += req(GET, SO_GET_REV_TARGET, b'\0' * 30, seq0 + 6, 30)
    out += req(PING, 0, b'', seq0 + 7)
    return out


def pkt_bytes(i):
    # fuzz_load's packet section: any bytes work, these vary the choices.
    return bytes((i * 37 + k * 11) & 0xff for k in range(96))


def main():
    for h in ('fuzz_xt', 'fuzz_gen', 'fuzz_umh', 'fuzz_load'):
        d = os.path.join(HERE, 'corpus', h)
        os.makedirs(d, exist_ok=True)
        for f in glob.glob(os.path.join(d, 'seed-*')):
            os.unlink(f)
    for i, path in enumerate(BLOBS):
        base = os.path.splitext(os.path.basename(path))[0]
        blob = open(path, 'rb').read()
        for h in ('fuzz_xt', 'fuzz_gen'):
            shutil.copy(path, os.path.join(HERE, 'corpus', h, 'seed-' + base))
        with open(os.path.join(HERE, 'corpus', 'fuzz_umh', 'seed-' + base), 'wb') as f:
            f.write(stream(blob, 100 * i))
        with open(os.path.join(HERE, 'corpus', 'fuzz_load', 'seed-' + base), 'wb') as f:
            f.write(b'B' + struct.pack('<I', len(blob)) + blob + pkt_bytes(i))
    # Generator-mode seeds for fuzz_load: 'G' + bytes.
    for i in range(4):
        with open(os.path.join(HERE, 'corpus', 'fuzz_load', 'seed-gen%d' % i), 'wb') as f:
            f.write(b'G' + bytes((i * 53 + k * 29 + 7) & 0xff for k in range(160)))


if __name__ == '__main__':
    main()
