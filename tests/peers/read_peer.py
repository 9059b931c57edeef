#!/usr/bin/python3
"""Either end of a kernel TCP connection, for the hs -r tests: the test captures the
connection with tcpdump, reads both kernels' `ss` at the moments the cues hold, and
compares with what hs -r infers from the capture.

    read_peer.py server --port PORT STEP...
        Listen (dual-stack) on PORT, accept one connection, carry out the steps.
    read_peer.py client --connect HOST:PORT [--bind ADDR:PORT] STEP...
        Connect (from ADDR:PORT when given: two clients bound to each other's
        connect address make a simultaneous open), carry out the steps.

Steps (TEXT takes Python escapes such as \\n):

    cue=FILE     wait until FILE exists (checked every 10 ms)
    send=TEXT    send TEXT (all of it)
    recv=N       receive exactly N bytes
    eof          receive until the end of the stream (the other end's FIN)
    shutdown     shutdown(SHUT_WR): send our FIN, keep the socket
    close        close the socket
    abort        close with SO_LINGER 0: the kernel sends RST at once
    nodelay      TCP_NODELAY: each send goes out at once
    ttl=N        IP_TTL (IPv4) for what is sent from now on (resends too)

It reports on stdout, one line per event, flushed at once:

    listening [::]:8080 | connected LOCAL PEER | accepted LOCAL PEER
    cued FILE | sent N | received N | eof | shutdown | closed | aborted
    reset | done ok | done failed

Exit status: 0 when every step went as asked, 1 otherwise, 2 for bad arguments.
"""
import argparse
import codecs
import os
import socket
import struct
import sys
import time


def report(*words):
    print(" ".join(str(w) for w in words), flush=True)


def endpoint(addr):
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:"):
        host = host[len("::ffff:"):]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def split(text):
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def parse_step(word):
    name, eq, value = word.partition("=")
    if name == "send" and eq:
        return (name, codecs.decode(value, "unicode_escape").encode("latin-1"))
    if name == "cue" and value:
        return (name, value)
    if name in ("recv", "ttl") and value.isdigit():
        return (name, int(value))
    if name in ("eof", "shutdown", "close", "abort", "nodelay") and not eq:
        return (name, None)
    raise ValueError("bad step '%s'" % word)


def step(sock, name, value):
    if name == "cue":
        while not os.path.exists(value):
            time.sleep(0.01)
        report("cued", value)
    elif name == "send":
        sock.sendall(value)
        report("sent", len(value))
    elif name == "recv":
        got = 0
        while got < value:
            data = sock.recv(value - got)
            if not data:
                raise EOFError
            got += len(data)
        report("received", got)
    elif name == "eof":
        while sock.recv(65536):
            pass
        report("eof")
    elif name == "shutdown":
        sock.shutdown(socket.SHUT_WR)
        report("shutdown")
    elif name == "nodelay":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    elif name == "ttl":
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, value)
    elif name == "abort":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        report("aborted")
        return True
    else:
        sock.close()
        report("closed")
        return True
    return False


def run(sock, steps):
    ok, closed = True, False
    try:
        for name, value in steps:
            closed = step(sock, name, value)
    except ConnectionResetError:
        report("reset")
        ok = False
    except (OSError, EOFError) as e:
        report("error", getattr(e, "strerror", None) or e or "early eof")
        ok = False
    if not closed:
        sock.close()
    report("done", "ok" if ok else "failed")
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="TCP end for the hs -r tests.", epilog=__doc__)
    p.add_argument("role", choices=("server", "client"))
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--connect")
    p.add_argument("--bind")
    p.add_argument("steps", nargs="*", metavar="STEP")
    args = p.parse_intermixed_args()
    try:
        steps = [parse_step(w) for w in args.steps]
    except ValueError as e:
        print("read_peer.py: %s" % e, file=sys.stderr)
        return 2
    if args.role == "server":
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("::", args.port))
        ls.listen(8)
        report("listening", endpoint(ls.getsockname()))
        sock, _ = ls.accept()
        ls.close()
        report("accepted", endpoint(sock.getsockname()), endpoint(sock.getpeername()))
        return run(sock, steps)
    if not args.connect:
        print("read_peer.py: client needs --connect HOST:PORT", file=sys.stderr)
        return 2
    host, port = split(args.connect)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.bind:
        sock.bind(split(args.bind))
    try:
        sock.connect((host, port))
    except OSError as e:
        report("error", e.strerror or e)
        return 1
    report("connected", endpoint(sock.getsockname()), endpoint(sock.getpeername()))
    return run(sock, steps)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
