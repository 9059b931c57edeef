#!/usr/bin/env python3
"""Dump frames of a pcap file as C arrays: pcap2c.py FILE [INDEX NAME]..."""
import struct, sys

def frames(path):
    d = open(path, 'rb').read()
    magic = struct.unpack('<I', d[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(e + 'I', d[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(d):
        _s, _u, incl, _orig = struct.unpack(e + 'IIII', d[off:off + 16])
        out.append(d[off + 16:off + 16 + incl]); off += 16 + incl
    return linktype, out

def carray(name, b):
    lines = []
    for i in range(0, len(b), 12):
        lines.append('\t' + ', '.join('0x%02x' % x for x in b[i:i + 12]) + ',')
    return 'static const uint8_t %s[%d] = {\n%s\n};\n' % (name, len(b), '\n'.join(lines))

if __name__ == '__main__':
    lt, fs = frames(sys.argv[1])
    if len(sys.argv) == 2:
        print('linktype', lt)
        for i, f in enumerate(fs):
            print(i, len(f), f[:60].hex())
    else:
        args = sys.argv[2:]
        for i in range(0, len(args), 2):
            print('/* %s frame %s (linktype %d) */' % (sys.argv[1].split('/')[-1], args[i], lt))
            print(carray(args[i + 1], fs[int(args[i])]))
