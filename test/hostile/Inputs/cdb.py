#!/usr/bin/env python3
"""cdb.py: makes the projects and compilation databases of the hostile
database tests.

usage: cdb.py KIND DIR PYINC

  mixed DIR PYINC     DIR/proj: args.c, cmd.c and sub/rel.c (each a copy of
                      bad.c: one finding on line 10), x.cpp, y.s; and
                      DIR/proj/build/compile_commands.json with an
                      'arguments' entry (args.c), a 'command' entry (cmd.c),
                      args.c again with other flags (the first entry wins),
                      a missing file (gone.c), a directory that does not
                      exist (nowhere/lost.c), a relative "directory" ("sub",
                      for rel.c), and entries for x.cpp and y.s
  broken DIR          DIR/<name>/compile_commands.json for each way a
                      database can be unusable: empty, truncated, not JSON,
                      an object, entries that are not objects, entries
                      without "file", a "file" that is a number, and a
                      directory where the file should be
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def mixed(d, pyinc):
    proj = os.path.join(d, "proj")
    os.makedirs(os.path.join(proj, "sub"), exist_ok=True)
    os.makedirs(os.path.join(proj, "build"), exist_ok=True)
    for name in ("args.c", "cmd.c", os.path.join("sub", "rel.c")):
        shutil.copyfile(os.path.join(HERE, "bad.c"), os.path.join(proj, name))
    with open(os.path.join(proj, "x.cpp"), "w") as f:
        f.write("int main() { return 0; }\n")
    with open(os.path.join(proj, "y.s"), "w") as f:
        f.write("\t.text\n")
    entries = [
        {"directory": proj, "file": "args.c", "arguments": ["cc", pyinc, "-c", "args.c", "-o", "args.o"]},
        {"directory": proj, "file": "cmd.c", "command": "cc %s -c cmd.c -o cmd.o" % pyinc},
        {"directory": proj, "file": "args.c", "arguments": ["cc", pyinc, "-DSECOND", "-c", "args.c"]},
        {"directory": proj, "file": "gone.c", "arguments": ["cc", pyinc, "-c", "gone.c"]},
        {"directory": os.path.join(proj, "nowhere"), "file": "lost.c", "arguments": ["cc", "-c", "lost.c"]},
        {"directory": "sub", "file": "rel.c", "arguments": ["cc", pyinc, "-c", "rel.c"]},
        {"directory": proj, "file": "x.cpp", "arguments": ["c++", "-c", "x.cpp"]},
        {"directory": proj, "file": "y.s", "command": "cc -c y.s"},
    ]
    with open(os.path.join(proj, "build", "compile_commands.json"), "w") as f:
        json.dump(entries, f, indent=1)


BROKEN = {
    "empty": "",
    "truncated": '[{"directory": "/tmp", "file": ',
    "not-json": "\x00\x01garbage \xff{[",
    "object": '{"directory": "/tmp", "file": "a.c", "command": "cc -c a.c"}',
    "not-objects": '[1, "two", [3]]',
    "no-file": '[{"directory": "/tmp", "command": "cc -c a.c"}]',
    "file-number": '[{"directory": "/tmp", "file": 7, "command": "cc -c a.c"}]',
}


def broken(d):
    for name, text in BROKEN.items():
        os.makedirs(os.path.join(d, name), exist_ok=True)
        with open(os.path.join(d, name, "compile_commands.json"), "w", encoding="latin-1") as f:
            f.write(text)
    os.makedirs(os.path.join(d, "is-a-directory", "compile_commands.json"), exist_ok=True)


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "mixed":
        mixed(a[1], a[2])
    elif len(a) == 2 and a[0] == "broken":
        broken(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
