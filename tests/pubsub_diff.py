#!/usr/bin/env python3
"""pubsub_diff.py PORT_A PORT_B < SCRIPT: runs a script of several
connections on two Redis servers and prints where their replies differ
(exit 1), or nothing.

Each line is "NAME: COMMAND ... | N": COMMAND (split as a shell splits
words; none to only read) is sent on connection NAME (opened on first
use), then N replies are read from it (default 1), blocking, so that
nothing depends on timing: a message is read where the script says it
must have arrived.  Replies are compared as resp3_diff.py compares them
(types kept, HELLO's version and id left out)."""
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp3_diff import Conn, encode, masked  # noqa: E402


def run(port, lines):
    conns, out = {}, []
    for text in lines:
        name, _, rest = text.partition(":")
        cmd, _, n = rest.partition("|")
        args = shlex.split(cmd)
        c = conns.get(name)
        if c is None:
            c = conns[name] = Conn(port)
            c.s.settimeout(10)
        if args:
            c.s.sendall(encode(args))
        for _ in range(int(n) if n.strip() else 1):
            out.append((text, masked(args, c.read())))
    return out


def main():
    lines = [ln.strip() for ln in sys.stdin if ln.strip()]
    a = run(int(sys.argv[1]), lines)
    b = run(int(sys.argv[2]), lines)
    bad = 0
    for (t, ra), (_, rb) in zip(a, b):
        if ra != rb:
            bad += 1
            print("%s\n  %r\n  %r" % (t, ra, rb))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
