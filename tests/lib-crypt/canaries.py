#!/usr/bin/env python3
"""Looks for plaintext in a database directory: every canary given, in
raw, hex (both cases), base64 (at each of the three alignments), UTF-16
LE and BE form, in every file under DIR (archive segments also read
inflated, block by block).  Prints "file: canary (form)" for each find;
exit 1 if any, 0 if none.

usage: canaries.py DIR CANARY...
"""
import base64, os, struct, sys, zlib


def forms(c):
    b = c.encode()
    yield 'raw', b
    yield 'hex', b.hex().encode()
    yield 'HEX', b.hex().upper().encode()
    yield 'utf16le', c.encode('utf-16-le')
    yield 'utf16be', c.encode('utf-16-be')
    for pad in range(3):
        enc = base64.b64encode(b'\0' * pad + b)
        # the characters that depend on the canary alone
        start = (pad * 4 + 2) // 3 + (1 if pad else 0)
        core = enc[start:len(enc) - 4]
        if len(core) >= 6:
            yield f'base64+{pad}', core


def contents(path):
    data = open(path, 'rb').read()
    yield data
    if path.endswith('.seg'):
        off = 0
        try:
            while off + 20 <= len(data):
                _, _, _, z = struct.unpack_from('<QIII', data, off)
                yield zlib.decompress(data[off + 20:off + 20 + z])
                off += 20 + z
        except zlib.error:
            pass


def main():
    top, canaries = sys.argv[1], sys.argv[2:]
    found = 0
    for root, _, files in os.walk(top):
        for f in files:
            path = os.path.join(root, f)
            for blob in contents(path):
                for c in canaries:
                    for name, pat in forms(c):
                        if pat in blob:
                            print(f'{os.path.relpath(path, top)}: {c} '
                                  f'({name})')
                            found += 1
    sys.exit(1 if found else 0)


main()
