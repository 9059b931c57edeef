#!/usr/bin/python3
"""Inject crafted TCP segments for the hs lab: what a forger, a broken NIC or a
fragmenting path would put on the wire while hs holds a connection.

    inject.py --src 198.18.0.2 --dst 198.18.0.1 --sport 7000 --dport 40000 \\
        --flags R --seq 123456 --bad-checksum

Scapy builds each segment; a raw socket with the IP header included
(IPPROTO_RAW) sends it, so the kernel routes it and resolves the neighbour but
leaves the TCP checksum as built.

  --bad-checksum    a TCP checksum that is wrong: neither the right one nor the
                    pseudo-header sum a kernel leaves for checksum offload
  --first-fragment  IPv4 only: the first fragment of a datagram that never
                    completes (MF set, offset 0, the whole TCP header in it; the
                    payload is padded with zeros to a multiple of 8 bytes, as a
                    fragment's must be). The TCP checksum is computed over this
                    fragment as if it were the whole segment.
  --count N         send N segments, the i-th (from 0) with seq SEQ + i * SEQ_STEP
  --v6              IPv6 (the addresses are IPv6 ones)

It prints one line per segment sent ("sent R seq=... ack=... len=... csum=0x...")
and "done N" at the end. Needs root; Debian's python3-scapy.
"""
import argparse
import codecs
import socket
import sys

sys.dont_write_bytecode = True

from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.utils import checksum  # noqa: E402


def pseudo_sum(src, dst, tcp_len, v6):
    """The one's-complement sum of the pseudo-header alone, not complemented:
    what a sending kernel leaves in the field for the NIC (offload)."""
    if v6:
        ph = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              tcp_len.to_bytes(4, "big") + b"\0\0\0\x06")
    else:
        ph = (socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst) +
              b"\0\x06" + tcp_len.to_bytes(2, "big"))
    return (~checksum(ph)) & 0xffff  # scapy's checksum() complements


def build(a, seq, payload):
    tcp = TCP(sport=a.sport, dport=a.dport, flags=a.flags, seq=seq & 0xffffffff,
              ack=a.ack & 0xffffffff, window=a.window)
    if a.v6:
        ip = IPv6(src=a.src, dst=a.dst, hlim=64)
    elif a.first_fragment:
        ip = IP(src=a.src, dst=a.dst, ttl=64, flags="MF", frag=0, id=a.ip_id)
    else:
        ip = IP(src=a.src, dst=a.dst, ttl=64, id=a.ip_id)
    pkt = ip / tcp / payload if payload else ip / tcp
    pkt = pkt.__class__(bytes(pkt))  # scapy fills lengths and the right checksum
    good = pkt[TCP].chksum
    csum = good
    if a.bad_checksum:
        tcp_len = len(bytes(pkt[TCP]))
        partial = pseudo_sum(a.src, a.dst, tcp_len, a.v6)
        csum = (good + 0x1234) & 0xffff
        while csum in (good, partial, 0):
            csum = (csum + 1) & 0xffff
        pkt[TCP].chksum = csum
    return bytes(pkt), csum


def main():
    p = argparse.ArgumentParser(description="Inject crafted TCP segments (see the module text).")
    p.add_argument("--src", required=True, help="source address (the peer's)")
    p.add_argument("--dst", required=True, help="destination address (hs's)")
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--flags", default="A", help="scapy's letters: S A R F P U (default A)")
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--ack", type=int, default=0)
    p.add_argument("--window", type=int, default=502)
    p.add_argument("--payload", default="", help="bytes to carry (Python escapes such as \\n)")
    p.add_argument("--bad-checksum", action="store_true")
    p.add_argument("--first-fragment", action="store_true")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--seq-step", type=int, default=0, help="seq increment per segment (default 0)")
    p.add_argument("--ip-id", type=int, default=0x4853, help="IPv4 ID (default 0x4853)")
    p.add_argument("--v6", action="store_true")
    a = p.parse_args()
    if a.first_fragment and a.v6:
        p.error("--first-fragment is IPv4 only")
    if a.count < 1:
        p.error("--count must be at least 1")
    payload = codecs.escape_decode(a.payload.encode())[0]
    if a.first_fragment:
        payload += b"\0" * (-(20 + len(payload)) % 8)

    family = socket.AF_INET6 if a.v6 else socket.AF_INET
    pkts = [build(a, a.seq + i * a.seq_step, payload) for i in range(a.count)]
    with socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW) as s:
        for i, (raw, csum) in enumerate(pkts):
            s.sendto(raw, (a.dst, 0))
            print("sent %s seq=%d ack=%d len=%d csum=0x%04x" %
                  (a.flags, (a.seq + i * a.seq_step) & 0xffffffff, a.ack, len(payload), csum), flush=True)
    print("done %d" % a.count, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
