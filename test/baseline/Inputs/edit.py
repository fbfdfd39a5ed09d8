"""edit.py FILE MODE: changes a copy of mod.c in place.
  shift: inserts lines at the top (every finding moves down 4 lines)
  new:   adds a second, different API call in the released region
  twice: repeats the reported line (same function, same snippet)"""
import sys

path, mode = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
if mode == "shift":
    lines = ["/* a comment", "   that moves", "   everything */", ""] + lines
else:
    i = next(k for k, l in enumerate(lines) if "PyErr_SetString" in l)
    extra = "  PyErr_Clear();" if mode == "new" else lines[i]
    lines.insert(i + 1, extra)
open(path, "w").write("\n".join(lines))
