#!/usr/bin/env python3
"""A third party's reader of an encrypted nedb log, as nedb-format(5)
describes it: unwrap the data key from key.enc with the master key,
open every line of log.aof (and of the archive, when pruned), check the
hash chain, and print the plaintext lines.  Written from the manual
page alone; uses Python's cryptography and hashlib, not nedb.

usage: decrypt-log.py DBDIR TMKFILE  (TMKFILE: 64 hex digits or 32 bytes)
Exit 0 with the plaintext log on stdout; 1 naming the first bad line.
"""
import base64, hashlib, json, os, struct, sys, zlib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes


def hkdf(ikm, salt, info):
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


def tmk_of(path):
    raw = open(path, 'rb').read()
    s = raw.strip()
    if len(s) == 64:
        try:
            return bytes.fromhex(s.decode())
        except ValueError:
            pass
    if len(raw) == 32:
        return raw
    sys.exit('not a key: ' + path)


def stored_lines(d):
    """Every stored line, archive first (zlib blocks), then log.aof."""
    arch = os.path.join(d, 'archive')
    if os.path.isdir(arch):
        for name in sorted(os.listdir(arch)):
            if not name.endswith('.seg'):
                continue
            b = open(os.path.join(arch, name), 'rb').read()
            off = 0
            while off < len(b):
                first, n, raw, z = struct.unpack_from('<QIII', b, off)
                text = zlib.decompress(b[off + 20:off + 20 + z])
                assert len(text) == raw
                yield from text.split(b'\n')[:-1]
                off += 20 + z
    with open(os.path.join(d, 'log.aof'), 'rb') as f:
        for line in f:
            if line.endswith(b'\n'):
                yield line[:-1]


def main():
    d, tmk = sys.argv[1], tmk_of(sys.argv[2])
    f = open(os.path.join(d, 'key.enc'), 'rb').read()
    assert len(f) == 80 and f[:8] == b'NEDB-KEY'
    kek = hkdf(tmk, b'nedb tmk v1', b'nedb key.enc wrap v1')
    dek = AESGCM(kek).decrypt(f[20:32], f[32:80], f[0:20])
    logkey = AESGCM(hkdf(dek, b'nedb dek v1', b'nedb log v1'))
    prev = bytes(32)
    for seq, line in enumerate(stored_lines(d)):
        o = json.loads(line)
        if set(o) != {'enc', 'ct'} or o['enc'] != 1:
            sys.exit(f'seq {seq}: not an encrypted line')
        ct = base64.b64decode(o['ct'], validate=True)
        try:
            plain = logkey.decrypt(ct[:12], ct[12:], None)
        except Exception:
            sys.exit(f'seq {seq}: does not decrypt')
        suffix = plain[-75:]
        assert suffix.startswith(b',"hash":"') and suffix.endswith(b'"}')
        body = plain[:-75] + b'}'
        h = hashlib.blake2b(prev + body, digest_size=32).digest()
        op = json.loads(plain)
        if op['seq'] != seq or op['prev'] != prev.hex() or \
           op['hash'] != h.hex():
            sys.exit(f'seq {seq}: chain broken')
        prev = h
        sys.stdout.write(plain.decode() + '\n')


main()
