#!/usr/bin/env python3
"""format-check.py - runs what the man pages show (tests/docs.bats).

Every literal display (.Bd -literal) in a page's EXAMPLES section is
preceded by a roff comment that says what it is:

    .\\" example      a shell transcript: the test runs it
    .\\" file NAME    the text of a file NAME, written where the
                     transcripts run (the nedb-format(5) script)
    .\\" norun        shown only (it needs a second terminal, cron, ...)

A transcript is what a terminal shows: "$ command" lines ("> " lines
continue the command above, as with PS2), each followed by what it
prints on stdout and stderr.  "..." in an expected line stands for any
text (hashes, timestamps).  The transcripts of one page run in order, in
one bash, in a fresh directory with NEDB_DIR unset, so that commands use
./nedb-data as they would for a reader trying them.

    format-check.py blocks PAGE...     checks every EXAMPLES display is marked
    format-check.py file PAGE NAME     prints file NAME from the page
    format-check.py run PAGE [DIR]     runs the page's transcripts (in DIR)
"""
import os
import re
import subprocess
import sys
import tempfile

ESCAPES = {"\\e": "\\", "\\&": "", "\\(aq": "'", "\\-": "-", "\\(dq": '"',
           "\\(ga": "`", "\\(ti": "~", "\\(ha": "^"}
ESC_RE = re.compile(r"\\\(..|\\.")


def unroff(line, where):
    def sub(m):
        if m.group(0) not in ESCAPES:
            sys.exit(f"{where}: unknown roff escape {m.group(0)!r}")
        return ESCAPES[m.group(0)]
    return ESC_RE.sub(sub, line)


def blocks(page):
    """Yields (marker, argument, lines, lineno) for every literal display
    of the EXAMPLES section; marker is None when it is unmarked."""
    with open(page, encoding="utf-8") as f:
        src = f.read().split("\n")
    section, mark, i = None, None, 0
    while i < len(src):
        line = src[i]
        if line.startswith(".Sh "):
            section = line[4:].strip()
        m = re.match(r'^\.\\"\s*(example|file|norun)\b\s*(.*)$', line)
        if m:
            mark = (m.group(1), m.group(2).strip(), i + 1)
        elif line.startswith(".Bd ") and "-literal" in line:
            start, body = i + 1, []
            i += 1
            while i < len(src) and not src[i].startswith(".Ed"):
                body.append(unroff(src[i], f"{page}:{i + 1}"))
                i += 1
            if section == "EXAMPLES" or mark:
                if mark and mark[2] == start - 1:
                    yield mark[0], mark[1], body, start
                else:
                    yield None, "", body, start
            mark = None
        elif not line.startswith('.\\"'):
            mark = None
        i += 1


def transcript(body, where):
    """Splits a transcript into [(command, [expected lines])]."""
    steps = []
    for n, line in enumerate(body):
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif line.startswith("> ") and steps and not steps[-1][1]:
            steps[-1][0] += "\n" + line[2:]
        elif not steps:
            sys.exit(f"{where}: output before the first command: {line!r}")
        else:
            steps[-1][1].append(line)
    return steps


def matches(want, got):
    pat = ".*".join(re.escape(p) for p in want.split("..."))
    return re.fullmatch(pat, got) is not None


def run(page, workdir):
    steps, files = [], []
    for kind, arg, body, lineno in blocks(page):
        where = f"{page}:{lineno}"
        if kind == "example":
            steps += [(where, c, o) for c, o in transcript(body, where)]
        elif kind == "file":
            files.append((arg, body))
    for name, body in files:
        with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
    mark = "\036nedb-example-step\036"
    script = []
    for k, (_, cmd, _) in enumerate(steps):
        script.append(f"__rc=$?; printf '{mark}%d\\n' {k}; (exit $__rc)")
        script.append(cmd)
    env = dict(os.environ)
    for v in ("NEDB_DIR", "NEDB_DURABILITY"):
        env.pop(v, None)
    # The script is a file, so that commands reading stdin get /dev/null.
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as sh:
        sh.write("\n".join(script) + "\n")
        sh.flush()
        p = subprocess.run(["bash", "--noprofile", "--norc", sh.name],
                           stdin=subprocess.DEVNULL, cwd=workdir, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
    outs = re.split(re.escape(mark) + r"\d+\n", p.stdout)[1:]
    failed = 0
    for (where, cmd, want), got in zip(steps, outs):
        got = got.split("\n")
        if got and got[-1] == "":
            got.pop()
        ok = len(got) == len(want) and all(
            matches(w, g) for w, g in zip(want, got))
        if not ok:
            failed += 1
            print(f"{where}: $ {cmd}", file=sys.stderr)
            print("  expected:\n" + "".join(f"    {w}\n" for w in want) +
                  "  got:\n" + "".join(f"    {g}\n" for g in got),
                  file=sys.stderr)
    if len(outs) != len(steps):
        print(f"{page}: {len(steps)} commands but {len(outs)} ran",
              file=sys.stderr)
        failed += 1
    print(f"{page}: {len(steps)} commands, {failed} failed")
    return failed == 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, page = sys.argv[1], sys.argv[2]
    if cmd == "blocks":
        bad = [(p, n) for p in sys.argv[2:] for k, _, _, n in blocks(p)
               if k is None]
        for p, n in bad:
            print(f"{p}:{n}: literal display in EXAMPLES without an "
                  "example, file or norun mark", file=sys.stderr)
        sys.exit(1 if bad else 0)
    if cmd == "file":
        for kind, arg, body, _ in blocks(page):
            if kind == "file" and arg == sys.argv[3]:
                sys.stdout.write("\n".join(body) + "\n")
                return
        sys.exit(f"{page}: no file {sys.argv[3]}")
    if cmd == "run":
        if len(sys.argv) > 3:
            sys.exit(0 if run(page, sys.argv[3]) else 1)
        with tempfile.TemporaryDirectory() as d:
            sys.exit(0 if run(page, d) else 1)
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
