#!/usr/bin/env python3
# crash_image.py S V OUT FRACTION SEED - builds the view file an OS crash
# could leave behind: the file as last synced (S), with the meta pages
# (0 and 1) of the later, unsynced file (V) and each other page that
# differs taken from V with probability FRACTION; the rest stays S's.
import random, sys

P = 4096
s = open(sys.argv[1], "rb").read()
v = open(sys.argv[2], "rb").read()
frac, rnd = float(sys.argv[4]), random.Random(int(sys.argv[5]))
out = bytearray(s.ljust(len(v), b"\0"))
out[:2 * P] = v[:2 * P]
for i in range(2, len(v) // P):
    page = v[i * P:(i + 1) * P]
    if out[i * P:(i + 1) * P] != page and rnd.random() < frac:
        out[i * P:(i + 1) * P] = page
open(sys.argv[3], "wb").write(out)
