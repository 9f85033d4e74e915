#!/usr/bin/env python3
"""rechain.py DIR SEQ FROM TO - edits op SEQ of a nedb database and
rewrites the hash chain after it, as nedb-format(5) computes it, so that
every line's prev and hash are right again (tests/verify.bats: logs that
break the format's other rules with an intact chain).

The first occurrence of the bytes FROM in the line of op SEQ becomes TO;
with FROM "-" the whole line is dropped.  The line may be in log.aof or
in an archive segment (archive/F-L.seg, zlib blocks): segments are read
and written back block by block, their layout kept.  The view is left as
it is."""
import glob
import hashlib
import os
import struct
import sys
import zlib

HDR = struct.Struct("<QIII")    # first seq | lines | raw bytes | zlen


def read_segment(path):
    data = open(path, "rb").read()
    blocks, off = [], 0
    while off < len(data):
        first, n, raw, zlen = HDR.unpack_from(data, off)
        off += HDR.size
        text = zlib.decompress(data[off:off + zlen])
        off += zlen
        blocks.append(text.split(b"\n")[:-1])
    return blocks


def write_segment(path, blocks):
    out = b""
    for lines in blocks:
        if not lines:
            continue
        text = b"".join(line + b"\n" for line in lines)
        z = zlib.compress(text, 6)
        first = int(lines[0][7:lines[0].index(b",")])
        out += HDR.pack(first, len(lines), len(text), len(z)) + z
    open(path, "wb").write(out)


def seq_of(line):
    return int(line[7:line.index(b",")])


def rechain(line, prev):
    at = line.index(b',"prev":"') + 9
    line = line[:at] + prev.hex().encode() + line[at + 64:]
    body = line[:-75] + b"}"
    h = hashlib.blake2b(prev + body, digest_size=32).digest()
    return line[:-75] + b',"hash":"' + h.hex().encode() + b'"}', h


def main():
    db, seq, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    files = sorted(glob.glob(os.path.join(db, "archive", "*.seg")))
    units = [(p, read_segment(p)) for p in files]
    log = os.path.join(db, "log.aof")
    units.append((log, [open(log, "rb").read().split(b"\n")[:-1]]))
    found = False
    for _, blocks in units:
        for lines in blocks:
            for i, line in enumerate(lines):
                if seq_of(line) != seq or found:
                    continue
                found = True
                if old == "-":
                    lines[i] = None
                elif old.encode() not in line:
                    sys.exit("rechain: no %r in op %d" % (old, seq))
                else:
                    lines[i] = line.replace(old.encode(), new.encode(), 1)
            lines[:] = [x for x in lines if x is not None]
    if not found:
        sys.exit("rechain: no op %d" % seq)
    prev = bytes(32)
    for _, blocks in units:
        for lines in blocks:
            for i, line in enumerate(lines):
                lines[i], prev = rechain(line, prev)
    for path, blocks in units[:-1]:
        write_segment(path, blocks)
    open(log, "wb").write(b"".join(x + b"\n" for x in units[-1][1][0]))


if __name__ == "__main__":
    main()
