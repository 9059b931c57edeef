#!/usr/bin/python3
"""A kernel listener for hs connect --count: accepts connections and counts them.

Usage: accept_count.py PORT [--backlog N] [--no-accept] [--eof]

Prints "listening" once it listens, then "accepted N" after each accepted
connection (N: the total so far). --eof: read each connection until EOF and
print "eof N" (the total of EOFs seen) — the peer's view of an orderly close.
--no-accept: listen(backlog) and never accept (for SYN-cookie experiments).
Runs until SIGTERM/SIGINT."""
import selectors
import signal
import socket
import sys


def main():
    args = sys.argv[1:]
    port = int(args[0])
    backlog = int(args[args.index("--backlog") + 1]) if "--backlog" in args else 4096
    accept = "--no-accept" not in args
    want_eof = "--eof" in args
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::", port))
    ls.listen(backlog)
    print("listening", flush=True)
    if not accept:
        signal.pause()
        return
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    accepted = eofs = 0
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                accepted += 1
                print(f"accepted {accepted}", flush=True)
                if want_eof:
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                else:
                    c.close()
            else:
                c = key.fileobj
                try:
                    data = c.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    eofs += 1
                    print(f"eof {eofs}", flush=True)
                    sel.unregister(c)
                    c.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
