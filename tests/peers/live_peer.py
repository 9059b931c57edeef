#!/usr/bin/env python3
"""Two ends of a long-lived kernel TCP connection, for testing hs rst/fin A:PORT B:PORT.

    live_peer.py server [--addr ADDR] --port PORT [--keep-open]
        Accept one connection, echo what it reads. Prints "listening ADDR:PORT",
        "accepted PEER", then "eof" (the peer closed: recv() returned b'') or
        "reset" (ECONNRESET/EPIPE). After "eof" it closes its side too, unless
        --keep-open: then it only waits (its socket stays in CLOSE-WAIT).

    live_peer.py client --connect ADDR:PORT --mode busy|idle
        Connect; prints "connected LOCAL PEER". busy: send a line every few
        milliseconds and read the echoes. idle: send one line, read its echo, then
        only wait. Prints "eof" or "reset" when the connection ends that way.

Every line is flushed at once: the tests poll the output files.
"""
import argparse
import errno
import select
import socket
import sys
import time


def say(*words):
    print(*words, flush=True)


def endpoint(sa):
    host, port = sa[0], sa[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_endpoint(text):
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def ended(exc):
    """Prints how the connection ended; returns True if exc is such an end."""
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)) or \
            getattr(exc, "errno", None) in (errno.ECONNRESET, errno.EPIPE):
        say("reset")
        return True
    return False


def serve(args):
    family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.addr, args.port))
    ls.listen(1)
    say("listening", endpoint(ls.getsockname()))
    conn, peer = ls.accept()
    ls.close()
    say("accepted", endpoint(peer))
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                say("eof")
                if args.keep_open:
                    while True:
                        time.sleep(3600)
                conn.close()
                return 0
            conn.sendall(data)
    except OSError as exc:
        if ended(exc):
            return 0
        raise


def client(args):
    host, port = parse_endpoint(args.connect)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((host, port))
    say("connected", endpoint(s.getsockname()), endpoint(s.getpeername()))
    try:
        if args.mode == "idle":
            s.sendall(b"hello\n")
            got = b""
            while len(got) < 6:
                data = s.recv(64)
                if not data:
                    say("eof")
                    return 0
                got += data
            say("echoed")
            while True:
                if not s.recv(65536):
                    say("eof")
                    return 0
        # busy: a line every interval, echoes read as they come
        interval = args.interval
        next_send = time.monotonic()
        n = 0
        while True:
            now = time.monotonic()
            if now >= next_send:
                n += 1
                s.sendall(b"line %d %s\n" % (n, b"x" * 80))
                next_send = now + interval
                if n == 20:
                    say("busy")
            readable, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
            if readable and not s.recv(65536):
                say("eof")
                return 0
    except OSError as exc:
        if ended(exc):
            return 0
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="role", required=True)
    sv = sub.add_parser("server")
    sv.add_argument("--addr", default="0.0.0.0")
    sv.add_argument("--port", type=int, required=True)
    sv.add_argument("--keep-open", action="store_true")
    cl = sub.add_parser("client")
    cl.add_argument("--connect", required=True)
    cl.add_argument("--mode", choices=("busy", "idle"), default="idle")
    cl.add_argument("--interval", type=float, default=0.002)
    args = ap.parse_args()
    return serve(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
