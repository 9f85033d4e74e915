#!/usr/bin/env python3
"""gen.py N DIR - the benchmark data set: N documents as NDJSON
(DIR/docs.ndjson), the same rows as SQL for sqlite3 (DIR/load.sql), and
the same documents as id<TAB>doc lines for sqlite3's .import
(DIR/docs.tsv).

Documents look like {"_id","name","age","status","bio","score","grp"}:
grp has N/100 values, so an equality on it returns about 100 rows."""
import json
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
rnd = random.Random(42)
statuses = ["active", "inactive", "pending", "banned"]
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua").split()
groups = max(1, n // 100)
with open(out + "/docs.ndjson", "w") as nd, open(out + "/load.sql", "w") as sq, \
        open(out + "/docs.tsv", "w") as tsv:
    sq.write("CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT, age INT, "
             "status TEXT, bio TEXT, score REAL, grp INT);\nBEGIN;\n")
    for i in range(n):
        d = {"_id": "u%07d" % i, "name": "user%d" % i,
             "age": rnd.randint(18, 90), "status": rnd.choice(statuses),
             "bio": " ".join(rnd.choice(words) for _ in range(8)),
             "score": round(rnd.random() * 100, 3), "grp": rnd.randrange(groups)}
        text = json.dumps(d, separators=(",", ":"))
        nd.write(text + "\n")
        tsv.write("%s\t%s\n" % (d["_id"], text))
        sq.write("INSERT INTO users VALUES('%s','%s',%d,'%s','%s',%r,%d);\n" % (
            d["_id"], d["name"], d["age"], d["status"], d["bio"], d["score"],
            d["grp"]))
    sq.write("COMMIT;\n")
