#!/usr/bin/python3
"""A TCP peer for the hs lab that acts on cue: it accepts one connection and
carries out STEPS on it, in order; a `cue=FILE` step holds it until FILE exists.

The cue lets a test choose the moment the peer acts, for instance while no hs
process runs (between `hs connect --close keep` and `hs fin`), without sleeping:

    cued.py --port 8080 cue=/tmp/go send=late eof outq close

Steps (TEXT takes Python escapes such as \\n or \\x00):

    cue=FILE     wait until FILE exists (checked every 10 ms)
    send=TEXT    send TEXT (all of it)
    eof          receive until the end of the stream (the other side's FIN),
                 reporting what arrives
    outq         report how many bytes we sent that are still unacknowledged
                 (SIOCOUTQ), at once: no waiting for late ACKs
    shutdown     shutdown(SHUT_WR): send our FIN, keep reading
    close        close the socket
    abort        close with SO_LINGER 0: the kernel sends RST at once

It reports on stdout, one line per event, flushed at once (the address is the
other side's), in the words of echo.py:

    listening [::]:8080
    accepted 198.18.0.1:40000
    cued 198.18.0.1:40000 (/tmp/go)
    sent 198.18.0.1:40000 4 bytes: 'late'
    received 198.18.0.1:40000 4 bytes: 'data'
    eof 198.18.0.1:40000 (the client sent FIN)
    outq 198.18.0.1:40000 0 bytes unacknowledged
    shutdown 198.18.0.1:40000 (our FIN)
    aborted 198.18.0.1:40000 (our RST)
    reset 198.18.0.1:40000 (ECONNRESET: the client sent RST)
    closed 198.18.0.1:40000
    done ok | done failed

Exit status: 0 when every step went as asked, 1 otherwise, 2 for bad arguments.
Only the standard library is used.
"""
import argparse
import codecs
import fcntl
import os
import socket
import struct
import sys
import termios
import time


def report(*words):
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


def parse_step(word):
    name, eq, value = word.partition("=")
    if name == "send" and eq:
        return (name, codecs.decode(value, "unicode_escape").encode("latin-1"))
    if name == "cue" and eq and value:
        return (name, value)
    if name in ("eof", "outq", "shutdown", "close", "abort") and not eq:
        return (name, None)
    raise ValueError("bad step '%s'" % word)


class Peer:
    def __init__(self, sock, who):
        self.sock = sock
        self.who = who
        self.closed = False

    def until_eof(self):
        while True:
            data = self.sock.recv(65536)
            if not data:
                report("eof", self.who, "(the client sent FIN)")
                return
            report("received", self.who, shown(data))

    def unacknowledged(self):
        buf = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
        return struct.unpack("i", buf)[0]

    def close(self, abort):
        if abort:
            # An RST now, whatever is queued: the connection is gone at once.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.closed = True
        if abort:
            report("aborted", self.who, "(our RST)")
        report("closed", self.who)

    def step(self, name, value):
        if name == "cue":
            while not os.path.exists(value):
                time.sleep(0.01)
            report("cued", self.who, "(%s)" % value)
        elif name == "send":
            self.sock.sendall(value)
            report("sent", self.who, shown(value))
        elif name == "eof":
            self.until_eof()
        elif name == "outq":
            report("outq", self.who, self.unacknowledged(), "bytes unacknowledged")
        elif name == "shutdown":
            self.sock.shutdown(socket.SHUT_WR)
            report("shutdown", self.who, "(our FIN)")
        else:
            self.close(abort=name == "abort")

    def run(self, steps):
        ok = True
        try:
            for name, value in steps:
                if self.closed:
                    report("error", self.who, "(step '%s' after close)" % name)
                    ok = False
                    break
                self.step(name, value)
        except ConnectionResetError:
            report("reset", self.who, "(ECONNRESET: the client sent RST)")
            ok = False
        except OSError as e:
            report("error", self.who, "(%s)" % (e.strerror or e))
            ok = False
        finally:
            if not self.closed:
                self.close(abort=False)
        report("done", "ok" if ok else "failed")
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="TCP peer for the hs lab: accept one connection, carry out "
        "STEPS on it (cue=FILE waits for FILE), report each event, exit.",
        epilog=__doc__)
    p.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    p.add_argument("steps", nargs="+", metavar="STEP")
    args = p.parse_intermixed_args()
    try:
        steps = [parse_step(w) for w in args.steps]
    except ValueError as e:
        print("cued.py: %s (see --help)" % e, file=sys.stderr)
        return 2
    try:
        # Dual-stack, so one peer serves both lab addresses.
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", args.port))
        s.listen(8)
    except OSError as e:
        print("cued.py: cannot listen on port %d: %s" % (args.port, e.strerror), file=sys.stderr)
        return 1
    report("listening", endpoint(s.getsockname()))
    conn, addr = s.accept()
    # The listener stays open until the steps are done (no second connection is
    # accepted): a segment for a connection the peer dropped meets an RST either way.
    who = endpoint(addr)
    report("accepted", who)
    return Peer(conn, who).run(steps)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
