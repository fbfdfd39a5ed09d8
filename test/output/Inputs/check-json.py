"""check-json.py: reads gilcheck's --format=json on stdin and checks it
against what mod.c (line 13, two notes) and syntax-error.c must give."""
import json
import sys

d = json.load(sys.stdin)
assert d["version"] == 1, d["version"]
assert d["tool"]["name"] == "gilcheck", d["tool"]
fs = d["findings"]
api = [f for f in fs if f["rule"] == "api-without-gil"]
assert len(api) == 1, api
f = api[0]
assert (f["file"], f["line"], f["column"]) == ("mod.c", 13, 9), f
assert f["severity"] == "warning", f
assert f["function"] == "read_byte", f
assert f["message"] == ("call to 'PyErr_SetFromErrno' without holding the GIL "
                        "(no attached thread state)"), f["message"]
notes = [(n["file"], n["line"], n["column"], n["message"]) for n in f["notes"]]
assert notes == [
    ("mod.c", 10, 5, "the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'"),
    ("mod.c", 12, 9, "assuming 'n < 0' is true"),
], notes
errs = [x for x in fs if x["rule"] == "clang-diagnostic-error"]
assert errs and all(x["severity"] == "error" and x["file"] == "syntax-error.c"
                    and x["line"] == 3 for x in errs), errs
# sorted by file: mod.c before syntax-error.c
assert [x["file"] for x in fs] == sorted(x["file"] for x in fs), fs
assert set(x["rule"] for x in fs) == {"api-without-gil", "clang-diagnostic-error"}, fs
print("json ok: %d findings" % len(fs))
