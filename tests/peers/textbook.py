#!/usr/bin/python3
"""The two applications of the textbook TCP exchange, for the hs lab.

The server accepts, sends "hello", receives "byebye" and closes; the client
connects, receives "hello", sends "byebye" and closes. Each side is a script of
steps that the kernel's TCP carries out, so a test can choose who closes first,
whether a side closes before or after reading, and where it pauses:

    textbook_server.py --port 7000 send=hello expect=byebye eof close
    textbook_client.py 198.18.0.1 7000 expect=hello send=byebye close

Steps, done in order (TEXT takes Python escapes such as \\n or \\x00):

    send=TEXT    send TEXT (all of it)
    recv         receive once: some data, or the end of the stream
    expect=TEXT  receive until TEXT has arrived (what arrives is reported)
    eof          receive until the end of the stream (the peer's FIN)
    sleep=SEC    pause, as a slow application would
    burst=NxSIZE N writes of SIZE bytes each, as fast as they go (TCP_NODELAY)
    shutdown     shutdown(SHUT_WR): send our FIN, keep reading
    close        close the socket (a FIN, or an RST if data is still unread)
    abort        close with SO_LINGER 0: an RST
    outq         wait (up to 2 s) until the peer has acknowledged all we sent;
                 report how many bytes are still unacknowledged
    state        report the kernel's TCP state of the socket (TCP_INFO)

It reports on stdout, one line per event, flushed at once (the address is the
other side's):

    listening 0.0.0.0:7000
    accepted 198.18.0.1:40000                 (server)
    connected 198.18.0.1:7000 from 198.18.0.2:45000   (client)
    sent 198.18.0.1:40000 5 bytes: 'hello'
    received 198.18.0.1:40000 6 bytes: 'byebye'
    eof 198.18.0.1:40000 (the peer sent FIN)
    reset 198.18.0.1:40000 (ECONNRESET: the peer sent RST)
    shutdown 198.18.0.1:40000 (our FIN)
    outq 198.18.0.1:40000 0 bytes unacknowledged
    state 198.18.0.1:40000 CLOSE-WAIT
    aborted 198.18.0.1:40000 (our RST)
    closed 198.18.0.1:40000
    error 198.18.0.1:40000 (...)
    done ok | done failed

Exit status: 0 when every step went as asked, 1 otherwise (a reset, an error,
the end of the stream before expected data), 2 for bad arguments.
Only the standard library is used.
"""
import argparse
import codecs
import fcntl
import socket
import struct
import sys
import termios
import time

# Linux tcpi_state values (include/net/tcp_states.h), in RFC 9293 spelling.
TCP_STATES = {
    1: "ESTABLISHED", 2: "SYN-SENT", 3: "SYN-RECEIVED", 4: "FIN-WAIT-1",
    5: "FIN-WAIT-2", 6: "TIME-WAIT", 7: "CLOSED", 8: "CLOSE-WAIT", 9: "LAST-ACK",
    10: "LISTEN", 11: "CLOSING",
}


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


def unescape(text):
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def parse_step(word):
    name, eq, value = word.partition("=")
    with_text = ("send", "expect")
    plain = ("recv", "eof", "shutdown", "close", "abort", "outq", "state")
    if name in with_text and eq:
        return (name, unescape(value))
    if name == "sleep" and eq:
        return (name, float(value))
    if name == "burst" and eq:
        count, _, size = value.partition("x")
        return (name, (int(count), int(size)))
    if name in plain and not eq:
        return (name, None)
    raise ValueError("bad step '%s'" % word)


def parse_steps(words):
    try:
        return [parse_step(w) for w in words]
    except ValueError as e:
        print("textbook: %s (see --help)" % e, file=sys.stderr)
        sys.exit(2)


class Conversation:
    """One connection and the steps the application takes on it."""

    def __init__(self, sock, who):
        self.sock = sock
        self.who = who
        self.at_eof = False
        self.closed = False
        self.ok = True

    def failed(self, why):
        report("error", self.who, "(%s)" % why)
        self.ok = False

    def receive_once(self):
        data = self.sock.recv(65536)
        if data:
            report("received", self.who, shown(data))
        else:
            self.at_eof = True
            report("eof", self.who, "(the peer sent FIN)")
        return data

    def expect(self, text):
        got = b""
        while text not in got:
            if self.at_eof:
                self.failed("the stream ended before %r arrived" % text)
                return
            got += self.receive_once()

    def until_eof(self):
        while not self.at_eof:
            self.receive_once()

    def unacknowledged(self):
        buf = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
        return struct.unpack("i", buf)[0]

    def wait_acknowledged(self):
        deadline = time.monotonic() + 2
        left = self.unacknowledged()
        while left and time.monotonic() < deadline:
            time.sleep(0.01)
            left = self.unacknowledged()
        report("outq", self.who, left, "bytes unacknowledged")

    def tcp_state(self):
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        report("state", self.who, TCP_STATES.get(info[0], "unknown-%d" % info[0]))

    def close(self, abort=False):
        if abort:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.closed = True
        if abort:
            report("aborted", self.who, "(our RST)")
        report("closed", self.who)

    def step(self, name, value):
        if name == "send":
            self.sock.sendall(value)
            report("sent", self.who, shown(value))
        elif name == "recv":
            self.receive_once()
        elif name == "expect":
            self.expect(value)
        elif name == "eof":
            self.until_eof()
        elif name == "sleep":
            time.sleep(value)
        elif name == "burst":
            count, size = value
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(count):
                self.sock.sendall(b"b" * size)
            report("sent", self.who, "%d writes of %d bytes" % (count, size))
        elif name == "shutdown":
            self.sock.shutdown(socket.SHUT_WR)
            report("shutdown", self.who, "(our FIN)")
        elif name in ("close", "abort"):
            self.close(abort=name == "abort")
        elif name == "outq":
            self.wait_acknowledged()
        elif name == "state":
            self.tcp_state()

    def run(self, steps):
        try:
            for name, value in steps:
                if self.closed:
                    self.failed("step '%s' after close" % name)
                    break
                self.step(name, value)
                if not self.ok:
                    break
        except ConnectionResetError:
            report("reset", self.who, "(ECONNRESET: the peer sent RST)")
            self.ok = False
        except OSError as e:
            self.failed(e.strerror or e)
        finally:
            if not self.closed:
                self.close()
        report("done", "ok" if self.ok else "failed")
        return 0 if self.ok else 1


def listener(bind, port):
    if bind:
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        host = bind
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        host = "::"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    return s


def server_main(argv=None):
    p = argparse.ArgumentParser(
        prog="textbook_server.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The textbook exchange's server: accept one connection, run "
        "STEPS on it, report each event, exit.", epilog=__doc__)
    p.add_argument("--port", type=int, default=7000, help="port to listen on (7000)")
    p.add_argument("--bind", default="", help="address to listen on (all, both families)")
    p.add_argument("steps", nargs="*", metavar="STEP",
                   help="default: send=hello expect=byebye eof close")
    args = p.parse_intermixed_args(argv)
    steps = parse_steps(args.steps or ["send=hello", "expect=byebye", "eof", "close"])
    try:
        s = listener(args.bind, args.port)
    except OSError as e:
        print("textbook_server.py: cannot listen on port %d: %s" % (args.port, e.strerror),
              file=sys.stderr)
        return 1
    report("listening", endpoint(s.getsockname()))
    conn, addr = s.accept()
    s.close()
    who = endpoint(addr)
    report("accepted", who)
    return Conversation(conn, who).run(steps)


def client_main(argv=None):
    p = argparse.ArgumentParser(
        prog="textbook_client.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The textbook exchange's client: connect, run STEPS, report "
        "each event, exit.", epilog=__doc__)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--sport", type=int, default=0, help="local port (default: any)")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="give up connecting after SEC seconds (5)")
    p.add_argument("steps", nargs="*", metavar="STEP",
                   help="default: expect=hello send=byebye close")
    args = p.parse_intermixed_args(argv)
    steps = parse_steps(args.steps or ["expect=hello", "send=byebye", "close"])
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    who = endpoint((args.host, args.port))
    try:
        if args.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", args.sport))
        s.settimeout(args.timeout)
        s.connect((args.host, args.port))
        s.settimeout(None)
    except OSError as e:
        report("error", who, "(connect: %s)" % (e.strerror or e))
        report("done", "failed")
        return 1
    report("connected", who, "from", endpoint(s.getsockname()))
    return Conversation(s, who).run(steps)


if __name__ == "__main__":
    try:
        if len(sys.argv) > 1 and sys.argv[1] in ("server", "client"):
            main = server_main if sys.argv[1] == "server" else client_main
            sys.exit(main(sys.argv[2:]))
        print("usage: textbook.py server|client ... (or textbook_server.py, textbook_client.py)",
              file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
