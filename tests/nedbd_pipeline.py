#!/usr/bin/env python3
"""nedbd_pipeline.py - RESP2 clients for tests/nedbd-pipeline.bats.

Plain sockets, no client library: what is sent and what comes back are
the test's to see.

  order PORT CONNS CMDS     every connection pipelines CMDS commands
                            (SET, GET of what it just set, INCR of its
                            own counter) in small pieces, so that they
                            span many batches of the server; each reply
                            must be the one its command calls for, in
                            order.  Prints "ok N" (replies checked).
  load PORT CONNS ACKS      every connection pipelines SETs of keys of
                            its own, 16 at a time, until the server goes
                            away; each key whose +OK came is appended to
                            ACKS (flushed at once).  Exit 0.
  check PORT ACKS           every key in ACKS has its value; prints
                            "ok N", or the keys missing (exit 1).
  acked PORT KEY...         one pipeline: SET each KEY to "v-KEY"; prints
                            each reply, a line each (+OK or -ERR ...).
"""
import socket
import sys
import threading


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if line[:1] == b"*":
            return [self.reply() for _ in range(int(line[1:]))]
        return line


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def order(port, conns, cmds):
    errors = []
    checked = [0]
    lock = threading.Lock()

    def client(n):
        s = connect(port)
        r = Reader(s)
        sent = []
        want = []
        for i in range(cmds):
            k = "o%d-%d" % (n, i)
            if i % 3 == 0:
                sent.append(cmd("SET", k, "v%d" % i))
                want.append(b"+OK")
            elif i % 3 == 1:
                # the key SET just before, in the same pipeline
                sent.append(cmd("GET", "o%d-%d" % (n, i - 1)))
                want.append(b"v%d" % (i - 1))
            else:
                sent.append(cmd("INCR", "ctr%d" % n))
                want.append(b":%d" % (i // 3 + 1))
        # in pieces of a few commands: the server reads them over turns
        def writer():
            for j in range(0, len(sent), 5):
                s.sendall(b"".join(sent[j:j + 5]))
        t = threading.Thread(target=writer)
        t.start()
        try:
            for i, w in enumerate(want):
                got = r.reply()
                if got != w:
                    with lock:
                        errors.append("conn %d reply %d: %r, not %r"
                                      % (n, i, got, w))
                    return
            with lock:
                checked[0] += len(want)
        finally:
            t.join()
            s.close()

    threads = [threading.Thread(target=client, args=(n,))
               for n in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("\n".join(errors))
        return 1
    print("ok %d" % checked[0])
    return 0


def load(port, conns, acks):
    out = open(acks, "a")
    lock = threading.Lock()

    def client(n):
        try:
            s = connect(port)
            r = Reader(s)
            i = 0
            while True:
                keys = ["l%d-%d" % (n, i + j) for j in range(16)]
                i += 16
                s.sendall(b"".join(cmd("SET", k, "v-" + k) for k in keys))
                for k in keys:
                    if r.reply() == b"+OK":
                        with lock:
                            out.write(k + "\n")
                            out.flush()
        except (OSError, EOFError, ValueError):
            return      # the server went away

    threads = [threading.Thread(target=client, args=(n,))
               for n in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


def check(port, acks):
    keys = [k for k in open(acks).read().split("\n") if k]
    s = connect(port)
    r = Reader(s)
    missing = []
    for j in range(0, len(keys), 500):
        part = keys[j:j + 500]
        s.sendall(cmd("MGET", *part))
        for k, v in zip(part, r.reply()):
            if v != ("v-" + k).encode():
                missing.append("%s: %r" % (k, v))
    if missing:
        print("missing: " + " ".join(missing[:20]))
        return 1
    print("ok %d" % len(keys))
    return 0


def acked(port, keys):
    s = connect(port)
    r = Reader(s)
    s.sendall(b"".join(cmd("SET", k, "v-" + k) for k in keys))
    for _ in keys:
        print(r.reply().decode())
    return 0


def main(argv):
    mode, port = argv[1], int(argv[2])
    if mode == "order":
        return order(port, int(argv[3]), int(argv[4]))
    if mode == "load":
        return load(port, int(argv[3]), argv[4])
    if mode == "check":
        return check(port, argv[3])
    if mode == "acked":
        return acked(port, argv[3:])
    print("unknown mode " + mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
