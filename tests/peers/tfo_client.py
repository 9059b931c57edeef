#!/usr/bin/python3
"""A TCP Fast Open client (RFC 7413) for the hs lab: sendto(DATA, MSG_FASTOPEN),
as a Linux application opens a Fast Open connection. Without a cookie for the
server in the kernel's cache, the SYN asks for one and DATA follows the handshake;
with one, DATA goes in the SYN. It then says whether the server acknowledged the
data in its SYN,ACK (tcp_info's tcpi_options has TCPI_OPT_SYN_DATA), and closes.

    tfo_client.py HOST PORT DATA

The namespace must allow a Fast Open client (sysctl net.ipv4.tcp_fastopen=1).
Reports on stdout, flushed at once:

    sent 5 bytes syn_data=yes
    eof
    done

Only the standard library is used.
"""
import socket
import struct
import sys

MSG_FASTOPEN = 0x20000000
TCPI_OPT_SYN_DATA = 32


def say(*words):
    print(*words, flush=True)


def main():
    host, port, data = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A blocking socket (no settimeout yet: Python's timeouts make it non-blocking,
    # and sendto would return EINPROGRESS): sendto returns once connected.
    n = s.sendto(data, MSG_FASTOPEN, (host, port))
    if n < len(data):
        s.sendall(data[n:])
    s.settimeout(30)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options = struct.unpack_from("6B", info)[5]
    say("sent %d bytes syn_data=%s" % (len(data), "yes" if options & TCPI_OPT_SYN_DATA else "no"))
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
        say("eof")
    except (socket.timeout, ConnectionResetError) as e:
        say("error %s" % e)
    s.close()
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
