#!/usr/bin/env python3
"""resp3_diff.py PORT_A PORT_B [PROTO] < COMMANDS: runs each line of stdin
(split as a shell splits words) on two Redis servers, after HELLO PROTO
(default 3) on both, and prints every reply whose RESP bytes differ, as
"line N: COMMAND" and the two replies.  Exits 1 if any differs.

The replies are compared as parsed RESP3 (or RESP2) values, with their
types: a null is not an empty array, a double not a bulk string.  A set
("~") is compared as a sorted list (its order is the server's own), and
HELLO's version and connection id, and CLIENT ID's, are left out."""
import shlex
import socket
import sys


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        i = self.buf.index(b"\r\n")
        ln, self.buf = self.buf[:i], self.buf[i + 2:]
        return ln

    def exact(self, n):
        while len(self.buf) < n + 2:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        v, self.buf = self.buf[:n], self.buf[n + 2:]
        return v

    def read(self):
        ln = self.line()
        t, rest = ln[:1], ln[1:]
        if t in (b"+", b"-", b":", b",", b"#", b"(", b"_"):
            return (t.decode(), rest.decode("latin-1"))
        if t in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return ("$", None)
            return (t.decode(), self.exact(n).decode("latin-1"))
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return ("*", None)
            items = [self.read() for _ in range(n)]
            if t == b"~":
                items.sort()
            return (t.decode(), items)
        if t == b"%":
            n = int(rest)
            return ("%", [(self.read(), self.read()) for _ in range(n)])
        raise ValueError("unknown reply type %r" % ln)

    def call(self, args):
        self.s.sendall(encode(args))
        return self.read()


OWN = ("id", "version")     # HELLO's members that are each server's own


def masked(args, v):
    """v without what differs by server or connection (HELLO's version
    and id, CLIENT ID's)"""
    name = args[0].lower() if args else ""
    if name == "hello" and v[0] in ("%", "*") and v[1]:
        if v[0] == "%":
            return ("%", [kv for kv in v[1] if kv[0][1] not in OWN])
        flat = v[1]
        return ("*", [x for i, x in enumerate(flat)
                      if flat[i - 1 if i % 2 else i][1] not in OWN])
    if name == "client" and len(args) > 1 and args[1].lower() == "id":
        return (":", "id")
    return v


def main():
    a, b = Conn(int(sys.argv[1])), Conn(int(sys.argv[2]))
    proto = sys.argv[3] if len(sys.argv) > 3 else "3"
    a.call(["HELLO", proto])
    b.call(["HELLO", proto])
    bad = 0
    for n, text in enumerate(sys.stdin, 1):
        args = shlex.split(text)
        if not args:
            continue
        ra, rb = masked(args, a.call(args)), masked(args, b.call(args))
        if ra != rb:
            bad += 1
            print("line %d: %s\n  %r\n  %r" % (n, text.strip(), ra, rb))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
