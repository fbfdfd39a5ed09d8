#!/usr/bin/env python3
"""cdb.py ROOT PYINC: lays out ROOT/src/{a,b,a/deep} with one listed file
each (compiled with -DDIR_A, -DDIR_B, -DDIR_DEEP) and writes
ROOT/build/compile_commands.json listing only those three."""
import json
import os
import shutil
import sys

root, pyinc = os.path.abspath(sys.argv[1]), sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
layout = {
    "src/a": ("listed-a.c", "DIR_A", ["needs-a.c", "api.h", "lonely.h"]),
    "src/b": ("listed-b.c", "DIR_B", ["needs-b.c"]),
    "src/a/deep": ("listed-deep.c", "DIR_DEEP", ["needs-deep.c"]),
}
entries = []
for d, (listed, macro, others) in layout.items():
    os.makedirs(os.path.join(root, d), exist_ok=True)
    for f in [listed] + others:
        shutil.copy(os.path.join(here, f), os.path.join(root, d, f))
    entries.append({"directory": os.path.join(root, d), "file": listed,
                    "arguments": ["cc", "-c", "-D" + macro, pyinc, listed]})
os.makedirs(os.path.join(root, "src/b/sub"), exist_ok=True)
shutil.copy(os.path.join(here, "needs-b.c"), os.path.join(root, "src/b/sub/below-b.c"))
os.makedirs(os.path.join(root, "build"), exist_ok=True)
with open(os.path.join(root, "build/compile_commands.json"), "w") as f:
    json.dump(entries, f, indent=1)
