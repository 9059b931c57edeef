#!/usr/bin/env python3
"""Writes fuzz/corpus seeds from the captures: selector byte (see fuzz/fuzz_decode.c:
0 EN10MB, 1 LINUX_SLL, 2 LINUX_SLL2, 3 RAW, 5 IPV4, 6 IPV6, 7 NULL) + frame.
Usage: make_corpus.py CAPTURES_DIR CORPUS_DIR"""
import os, struct, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap2c import frames

cap, out = sys.argv[1], sys.argv[2]
_, veth = frames(os.path.join(cap, 'veth.pcap'))
_, sll = frames(os.path.join(cap, 'sll.pcap'))
_, sll2 = frames(os.path.join(cap, 'sll2.pcap'))
_, lo = frames(os.path.join(cap, 'lo.pcap'))
syn6 = veth[27]
ext = bytes([43, 0, 1, 4, 0, 0, 0, 0, 44, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 42])
ip6 = bytearray(syn6[14:54]); ip6[6] = 0
struct.pack_into('>H', ip6, 4, len(syn6) - 54 + len(ext))
seeds = {
    'eth-syn': (0, veth[5]), 'eth-synack': (0, veth[6]), 'eth-data': (0, veth[8]),
    'eth-rstack': (0, veth[20]), 'eth-icmp-unreach': (0, veth[23]), 'eth-syn6': (0, syn6),
    'eth-icmp6-unreach': (0, veth[39]), 'eth-mld6-hbh': (0, veth[1]),
    'sll-syn': (1, sll[0]), 'sll2-syn': (2, sll2[0]), 'lo-syn': (0, lo[0]),
    'raw-data': (3, veth[8][14:]), 'ipv6-ext-chain': (6, bytes(ip6) + ext + syn6[54:]),
    'null-syn': (7, bytes([2, 0, 0, 0]) + veth[5][14:]),
    'opts-sack': (5, bytes([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 18] + [0, 0, 0, 9] * 4)),
}
os.makedirs(out, exist_ok=True)
for name, (sel, frame) in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([sel]) + bytes(frame))
