#!/usr/bin/python3
"""A TCP Fast Open server (RFC 7413) for the hs lab: a listening socket with
TCP_FASTOPEN, which accepts connections one after another and says, for each,
whether its first segment -- the SYN -- carried data that the kernel took
(tcp_info's tcpi_options has TCPI_OPT_SYN_DATA), in what state the connection was
when accept() returned it (SYN-RECV: the handshake not complete yet, which only a
Fast Open connection with data allows), and every byte it receives.

    tfo_server.py --port 8080 [--count N]

The namespace must allow a Fast Open server (sysctl net.ipv4.tcp_fastopen=3 sets
bits 1 and 2). Reports on stdout, one line per event, flushed at once:

    listening 0.0.0.0:8080 tfo qlen 16
    accepted 198.18.0.1:40000 syn_data=yes state=SYN-RECV
    received 198.18.0.1:40000 5 bytes: 'hello'
    eof 198.18.0.1:40000
    done

Only the standard library is used.
"""
import argparse
import socket
import struct
import sys

TCP_FASTOPEN = 23
TCPI_OPT_SYN_DATA = 32
STATES = {1: "ESTABLISHED", 3: "SYN-RECV", 7: "CLOSE", 8: "CLOSE-WAIT"}


def say(*words):
    print(*words, flush=True)


def tcp_info(sock):
    """tcpi_state and tcpi_options: the first and sixth byte of struct tcp_info."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    state, _ca, _retr, _probes, _backoff, options = struct.unpack_from("6B", info)
    return state, options


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    ls.bind(("0.0.0.0", args.port))
    ls.listen(16)
    say("listening 0.0.0.0:%d tfo qlen 16" % args.port)
    for _ in range(args.count):
        conn, peer = ls.accept()
        who = "%s:%d" % peer
        state, options = tcp_info(conn)
        say("accepted %s syn_data=%s state=%s" % (who, "yes" if options & TCPI_OPT_SYN_DATA else "no",
                                                  STATES.get(state, str(state))))
        conn.settimeout(30)
        while True:
            try:
                data = conn.recv(65536)
            except socket.timeout:
                say("timeout %s" % who)
                break
            except ConnectionResetError:
                say("reset %s" % who)
                break
            if not data:
                say("eof %s" % who)
                break
            say("received %s %d bytes: %r" % (who, len(data), data.decode("latin-1")))
        conn.close()
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
