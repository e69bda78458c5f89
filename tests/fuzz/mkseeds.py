#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpora of tests/fuzz/ from the captured tables.

Tables: tests/unit/blobs/*.bin (ip6_* are IPv6) and tests/fuzz/blobs/*.bin,
the real rule sets of tests/rulesets/ captured from the kernel (names
ending in 6 are IPv6): rs-NAME.bin is the whole table, rs-NAME-xt.bin the
same less the rules whose extensions bpfilter does not translate yet
(SKIP below), so that it translates.

  corpus/fuzz_xt:   every table; IPv6 ones prefixed with '6' (fz_family())
  corpus/fuzz_gen:  the tables that translate (not rs-NAME.bin)
  corpus/fuzz_umh:  request streams per table and family (GET_INFO,
                    SET_REPLACE, GET_ENTRIES, ADD_COUNTERS, revision
                    probes, PING), both families in one stream, and
                    hostile streams (bad magic / version / hdr_size,
                    payload_len over the limit, truncated frames, optlen
                    lies, unknown commands, families and optnames)
  corpus/fuzz_load: ['6'] 'B' + blob length + blob + packet bytes for the
                    tables that translate; generator seeds of both families

  tests/fuzz/mkseeds.py            write the corpora (keeps regress-* files)
  tests/fuzz/mkseeds.py --capture  (root) first re-capture tests/fuzz/blobs/
                                   with build/tests/capture_blob
"""
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, '..', '..'))
UNIT_BLOBS = os.path.join(TOP, 'tests', 'unit', 'blobs')
FUZZ_BLOBS = os.path.join(HERE, 'blobs')
RULESETS = os.path.join(TOP, 'tests', 'rulesets')

# Extensions bpfilter does not translate yet: rules using them are left
# out of rs-NAME-xt.bin.
SKIP = re.compile(r' -m (conntrack|state|rt|recent|set|'
                  r'owner|physdev|hashlimit|connmark|string)\b|'
                  r' -j (LOG|NFLOG|REJECT|MARK|CONNMARK|MASQUERADE|DNAT|SNAT|'
                  r'TCPMSS|CT|NOTRACK|AUDIT)\b')

REQ_MAGIC, VERSION, REQ_SIZE = 0x62706672, 1, 48
GET, SET, PING = 1, 2, 3
AF_INET, AF_INET6 = 2, 10
SO_SET_REPLACE, SO_SET_ADD_COUNTERS = 64, 65
SO_GET_INFO, SO_GET_ENTRIES = 64, 65
# IPT_SO_GET_REVISION_MATCH/TARGET, IP6T_SO_GET_REVISION_MATCH/TARGET
SO_GET_REV = {AF_INET: (66, 67), AF_INET6: (68, 69)}


def capture():
    tool = os.path.join(TOP, 'build', 'tests', 'capture_blob')
    os.makedirs(FUZZ_BLOBS, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(RULESETS, '*', '*.rules'))):
        name = os.path.basename(path)[:-len('.rules')]
        v6 = name.endswith('6')
        ipt = 'ip6tables-legacy' if v6 else 'iptables-legacy'
        flag = ' -6' if v6 else ''
        text = open(path).read()
        kept = ''.join(l for l in text.splitlines(True) if not SKIP.search(l))
        for suffix, rules in (('', text), ('-xt', kept)):
            with tempfile.NamedTemporaryFile('w', suffix='.rules') as f:
                f.write(rules)
                f.flush()
                out = os.path.join(FUZZ_BLOBS, 'rs-%s%s.bin' % (name, suffix))
                subprocess.run(['unshare', '-n', 'sh', '-c',
                                "%s-restore < '%s' && '%s'%s '%s'" %
                                (ipt, f.name, tool, flag, out)], check=True)
                print('captured', os.path.basename(out))


def req(cmd, optname, payload, seq, optlen=None, family=AF_INET,
        magic=REQ_MAGIC, version=VERSION, hdr_size=REQ_SIZE, plen=None):
    if optlen is None:
        optlen = len(payload)
    if plen is None:
        plen = len(payload)
    hdr = struct.pack('<IHHIIIIIIQQ', magic, version, hdr_size, cmd,
                      family, optname, optlen, plen, 1, 0, seq)
    assert len(hdr) == REQ_SIZE
    return hdr + payload


def name32(s):
    return s.encode().ljust(32, b'\0')


def stream(blob, seq0, family):
    """The requests ip{,6}tables-legacy sends around a SET_REPLACE."""
    # ipt_replace / ip6t_replace: name[32], valid_hooks, num_entries, size
    n = struct.unpack_from('<I', blob, 36)[0]
    size = struct.unpack_from('<I', blob, 40)[0]
    info = name32('filter') + bytes(84 - 32)
    ents = name32('filter') + struct.pack('<II', size, 0)
    cnt = name32('filter') + struct.pack('<II', n, 0) + bytes(16 * n)
    rev = b'tcp'.ljust(29, b'\0') + b'\0'
    rev_m, rev_t = SO_GET_REV[family]
    # The helper starts with the 4-entry initial table of each family.
    blob = blob[:84] + struct.pack('<I', 4) + blob[88:]
    ents = ents.ljust(min(40 + size, 128), b'\0')
    f = family
    out = req(GET, SO_GET_INFO, info, seq0, family=f)
    out += req(SET, SO_SET_REPLACE, blob, seq0 + 1, family=f)
    out += req(GET, SO_GET_INFO, info, seq0 + 2, family=f)
    out += req(GET, SO_GET_ENTRIES, ents, seq0 + 3, 40 + size, family=f)
    out += req(SET, SO_SET_ADD_COUNTERS, cnt, seq0 + 4, family=f)
    out += req(GET, rev_m, rev, seq0 + 5, 30, family=f)
    out += req(GET, rev_t, b'\0' * 30, seq0 + 6, 30, family=f)
    out += req(PING, 0, b'', seq0 + 7, family=f)
    return out


def hostile(blob4, blob6):
    """Streams that break the framing or lie, each after a good request."""
    info = name32('filter') + bytes(84 - 32)
    ok6 = req(GET, SO_GET_INFO, info, 1, family=AF_INET6)
    ok4 = req(GET, SO_GET_INFO, info, 2)
    rev = b'icmp6'.ljust(29, b'\0') + b'\0'
    return {
        'bad-magic': ok6 + req(GET, SO_GET_INFO, info, 3, family=AF_INET6,
                               magic=0x62706661) + ok4,
        'bad-version': ok6 + req(GET, SO_GET_INFO, info, 3, family=AF_INET6,
                                 version=2) + ok4,
        'bad-hdr-size': ok6 + req(GET, SO_GET_INFO, info, 3, family=AF_INET6,
                                  hdr_size=40) + ok4,
        'payload-over-max': ok6 + req(SET, SO_SET_REPLACE, b'', 3,
                                      family=AF_INET6, plen=(256 << 20) + 1),
        'payload-huge': ok6 + req(SET, SO_SET_REPLACE, blob6[:64], 3,
                                  family=AF_INET6, plen=0xffffffff),
        'truncated-hdr': ok6 + req(GET, SO_GET_INFO, info, 3,
                                   family=AF_INET6)[:30],
        'truncated-payload': ok6 + req(SET, SO_SET_REPLACE, blob6, 3,
                                       family=AF_INET6)[:REQ_SIZE + 100],
        'optlen-lies': ok6 +
            req(SET, SO_SET_REPLACE, blob6, 3, len(blob6) + 4096,
                family=AF_INET6) +
            req(GET, SO_GET_ENTRIES, name32('filter') + struct.pack('<II', 1 << 30, 0),
                4, 0xffffffff, family=AF_INET6) +
            req(GET, SO_GET_INFO, info, 5, 3, family=AF_INET6) +
            req(SET, SO_SET_ADD_COUNTERS, name32('filter') +
                struct.pack('<II', 0xffffffff, 0), 6, family=AF_INET6),
        'short-payloads': b''.join(
            req(c, o, b'\0' * k, 10 + i, family=AF_INET6)
            for i, (c, o, k) in enumerate(
                [(SET, 64, 0), (SET, 64, 95), (SET, 65, 39), (GET, 64, 10),
                 (GET, 65, 39), (GET, 68, 29), (GET, 69, 0)])),
        'unknown': ok6 +
            req(7, SO_GET_INFO, info, 3, family=AF_INET6) +
            req(GET, 70, info, 4, family=AF_INET6) +
            req(GET, 66, rev, 5, 30, family=AF_INET6) +
            req(GET, SO_GET_INFO, info, 6, family=0) +
            req(GET, SO_GET_INFO, info, 7, family=7) + ok4,
        'both-families': stream(blob4, 100, AF_INET) +
            stream(blob6, 200, AF_INET6) + ok4 + ok6,
    }


def pkt_bytes(i):
    # fuzz_load's packet section: any bytes work, these vary the choices.
    return bytes((i * 37 + k * 11) & 0xff for k in range(160))


def tables():
    """(name, blob, v6, translates) for every captured table."""
    out = []
    for path in sorted(glob.glob(os.path.join(UNIT_BLOBS, '*.bin'))):
        name = os.path.basename(path)[:-4]
        out.append((name, open(path, 'rb').read(), name.startswith('ip6_'), True))
    for path in sorted(glob.glob(os.path.join(FUZZ_BLOBS, '*.bin'))):
        name = os.path.basename(path)[:-4]
        base = name[:-3] if name.endswith('-xt') else name
        out.append((name, open(path, 'rb').read(), base.endswith('6'),
                    name.endswith('-xt')))
    return out


def write(h, name, data):
    with open(os.path.join(HERE, 'corpus', h, 'seed-' + name), 'wb') as f:
        f.write(data)


def main():
    if '--capture' in sys.argv[1:]:
        capture()
    for h in ('fuzz_xt', 'fuzz_gen', 'fuzz_umh', 'fuzz_load'):
        d = os.path.join(HERE, 'corpus', h)
        os.makedirs(d, exist_ok=True)
        for f in glob.glob(os.path.join(d, 'seed-*')):
            os.unlink(f)
    first = {}
    seen = set()
    for i, (name, blob, v6, translates) in enumerate(tables()):
        if blob in seen:
            continue    # rs-ufw6-xt is ip6_ufw
        seen.add(blob)
        fam = b'6' if v6 else b''
        first.setdefault(v6, blob)
        write('fuzz_xt', name, fam + blob)
        write('fuzz_umh', name, stream(blob, 100 * i, AF_INET6 if v6 else AF_INET))
        if not translates:
            continue
        write('fuzz_gen', name, fam + blob)
        write('fuzz_load', name,
              fam + b'B' + struct.pack('<I', len(blob)) + blob + pkt_bytes(i))
    for name, data in hostile(first[False], first[True]).items():
        write('fuzz_umh', 'hostile-' + name, data)
    # Generator-mode seeds for fuzz_load: ['6'] 'G' + bytes.
    for i in range(4):
        gen = b'G' + bytes((i * 53 + k * 29 + 7) & 0xff for k in range(200))
        write('fuzz_load', 'gen%d' % i, gen)
        write('fuzz_load', 'gen6-%d' % i, b'6' + gen)


if __name__ == '__main__':
    main()
