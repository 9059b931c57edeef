#!/usr/bin/python3
"""A kernel TCP peer holding a TCP-MD5 key (RFC 2385, Linux's TCP_MD5SIG) for one
address, for tests/bats/md5.bats.

  md5peer.py server PORT PEER_ADDR KEY   listen on PORT (IPv4 or IPv6 by PEER_ADDR),
      accept one connection, print each short read as "data REPR", then "total N" and "eof" at the end, close.
  md5peer.py client ADDR PORT KEY DATA   connect to ADDR:PORT, send DATA, shut down
      writing, read until EOF ("eof"), close.

Every line is flushed: the tests read them as they come."""
import socket
import struct
import sys

TCP_MD5SIG = 14          # linux/tcp.h
MAXKEYLEN = 80           # TCP_MD5SIG_MAXKEYLEN


def say(*a):
    print(*a, flush=True)


def md5sig(addr, key):
    """struct tcp_md5sig: sockaddr_storage (128), u8 flags, u8 prefixlen,
    u16 keylen, u32 ifindex, key[80]."""
    if ':' in addr:
        sa = struct.pack('=H', socket.AF_INET6) + struct.pack('!HI', 0, 0) + \
            socket.inet_pton(socket.AF_INET6, addr) + struct.pack('=I', 0)
    else:
        sa = struct.pack('=H', socket.AF_INET) + struct.pack('!H', 0) + socket.inet_aton(addr)
    sa = sa.ljust(128, b'\0')
    k = key.encode()
    return sa + struct.pack('=BBHI', 0, 0, len(k), 0) + k.ljust(MAXKEYLEN, b'\0')


def family(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def drain(c):
    total = 0
    while True:
        try:
            b = c.recv(65536)
        except ConnectionResetError:
            say('reset')
            return
        if not b:
            say('total', total)
            say('eof')
            return
        total += len(b)
        if len(b) <= 64:
            say('data', repr(b))


def server(port, peer, key):
    s = socket.socket(family(peer), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, md5sig(peer, key))
    s.bind(('::' if ':' in peer else '0.0.0.0', port))
    s.listen(4)
    say('listening', port)
    c, a = s.accept()
    say('accepted', a[0], a[1])
    drain(c)
    c.close()
    say('closed')


def client(addr, port, key, data):
    c = socket.socket(family(addr), socket.SOCK_STREAM)
    c.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, md5sig(addr, key))
    c.settimeout(30)
    try:
        c.connect((addr, port))
    except OSError as e:
        say('connect failed', e)
        return 1
    say('connected', c.getsockname()[1])
    c.sendall(data.encode())
    c.shutdown(socket.SHUT_WR)
    drain(c)
    c.close()
    say('closed')
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
