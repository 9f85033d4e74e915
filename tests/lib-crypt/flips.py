#!/usr/bin/env python3
"""Flips sampled bytes of every file of a database, one at a time, and
reads every document after each flip: a read may fail, but what it
prints must be the document as it was.  Prints each wrong answer; exit
1 if any.

usage: flips.py DBDIR SAMPLES COLL ID...   (the key from the
environment, as for any command)
"""
import os, random, shutil, subprocess, sys, tempfile

db, samples, coll, ids = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                         sys.argv[4:])


def reads(d):
    out = {}
    for i in ids:
        r = subprocess.run(['nedb-get', '-d', d, coll, i],
                           capture_output=True, text=True)
        out[i] = (r.returncode, r.stdout)
    r = subprocess.run(['nedb-query', '-d', d, 'FROM ' + coll],
                       capture_output=True, text=True)
    out['*'] = (r.returncode, r.stdout)
    return out


truth = reads(db)
assert all(rc == 0 for rc, _ in truth.values()), truth
docs = set(truth['*'][1].splitlines())
bad = 0
tmp = tempfile.mkdtemp()
rng = random.Random(11)
files = sorted(os.path.relpath(os.path.join(r, f), db)
               for r, _, fs in os.walk(db) for f in fs
               if f not in ('lock', 'view.mdb-lock'))
for f in files:
    size = os.path.getsize(os.path.join(db, f))
    if not size:
        continue
    for _ in range(samples):
        at = rng.randrange(size)
        work = os.path.join(tmp, 'db')
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(db, work)
        with open(os.path.join(work, f), 'r+b') as fh:
            fh.seek(at)
            b = fh.read(1)[0]
            fh.seek(at)
            fh.write(bytes([b ^ (1 << rng.randrange(8))]))
        got = reads(work)
        for i in ids:
            rc, out = got[i]
            if out and out != truth[i][1]:
                print(f'{f}@{at}: nedb-get {i} printed {out.strip()[:100]!r}')
                bad += 1
        for line in got['*'][1].splitlines():
            if line not in docs:
                print(f'{f}@{at}: nedb-query printed {line[:100]!r}')
                bad += 1
shutil.rmtree(tmp)
print(f'{len(files)} files, {samples} flips each, {bad} wrong answers',
      file=sys.stderr)
sys.exit(1 if bad else 0)
