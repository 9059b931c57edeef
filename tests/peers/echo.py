#!/usr/bin/python3
"""A small TCP peer for the hs lab, run by the real kernel stack.

It accepts connections, echoes what it receives, and reports on stdout, one line
per event and flushed at once, what the kernel told it about each connection:

    listening 0.0.0.0:8080
    accepted 198.18.0.1:40000
    sent 198.18.0.1:40000 5 bytes: 'hello'           (--greet)
    received 198.18.0.1:40000 5 bytes: 'hello'
    eof 198.18.0.1:40000 (the client sent FIN)
    reset 198.18.0.1:40000 (ECONNRESET: the client sent RST)
    closed 198.18.0.1:40000

Tests grep these lines to see a connection from the peer's side; people read them.
Only the standard library is used.
"""
import argparse
import socket
import sys
import threading
import time

_print_lock = threading.Lock()


def report(*words):
    with _print_lock:
        print(" ".join(str(w) for w in words), flush=True)


def endpoint(addr):
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:"):
        host = host[len("::ffff:"):]
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


def shown(data):
    text = repr(data)[2:-1]  # b'...' without b and quotes: escapes kept
    return "%d bytes: '%s'" % (len(data), text)


def serve(conn, addr, args):
    who = endpoint(addr)
    report("accepted", who)
    try:
        if args.greet is not None:
            # The delay lets the client finish (and, for hs, exit) first: the
            # greeting then tests who answers for the client's address.
            if args.greet_delay > 0:
                time.sleep(args.greet_delay)
            data = args.greet.encode()
            conn.sendall(data)
            report("sent", who, shown(data))
        while True:
            data = conn.recv(65536)
            if not data:
                report("eof", who, "(the client sent FIN)")
                break
            report("received", who, shown(data))
            if args.echo:
                conn.sendall(data)
    except ConnectionResetError:
        report("reset", who, "(ECONNRESET: the client sent RST)")
    except OSError as e:
        report("error", who, "(%s)" % (e.strerror or e))
    finally:
        conn.close()
        report("closed", who)


def listener(args):
    if args.bind:
        family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        host = args.bind
    else:
        # Dual-stack where IPv6 exists, so one peer serves both lab addresses.
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            host = "::"
        except OSError:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            host = "0.0.0.0"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, args.port))
    s.listen(args.backlog)
    return s


def main():
    p = argparse.ArgumentParser(
        description="TCP echo peer for the hs lab: reports accepted connections, "
        "received data, FIN and RST, one line per event.")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    p.add_argument("--bind", default="", help="address to listen on (all, both families)")
    p.add_argument("--no-echo", dest="echo", action="store_false",
                   help="do not send received data back")
    p.add_argument("--greet", metavar="TEXT",
                   help="send TEXT to each client after accepting it")
    p.add_argument("--greet-delay", metavar="SEC", type=float, default=0.0,
                   help="wait SEC seconds before the greeting")
    p.add_argument("--once", action="store_true",
                   help="exit after the first connection is closed")
    p.add_argument("--backlog", type=int, default=16)
    args = p.parse_args()

    try:
        s = listener(args)
    except OSError as e:
        print("echo.py: cannot listen on port %d: %s" % (args.port, e.strerror),
              file=sys.stderr)
        return 1
    report("listening", endpoint(s.getsockname()))
    while True:
        conn, addr = s.accept()
        if args.once:
            serve(conn, addr, args)
            return 0
        threading.Thread(target=serve, args=(conn, addr, args), daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
