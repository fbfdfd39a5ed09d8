"""check-sarif.py FILE: checks gilcheck's SARIF for mod.c against the
documented shape: every rule with a helpUri, the result's ruleId and
ruleIndex, its notes as relatedLocations and as a threadFlow ending at it."""
import json
import sys

d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0", d["version"]
assert len(d["runs"]) == 1
run = d["runs"][0]
drv = run["tool"]["driver"]
assert drv["name"] == "gilcheck", drv
ids = [r["id"] for r in drv["rules"]]
want = [l.split('"')[1] for l in open(sys.argv[2]) if l.startswith("RULE(")]
assert ids == want + ["clang-diagnostic-error", "gilcheck-nolint",
                      "gilcheck-unused-suppression"], ids
for r in drv["rules"]:
    if r["id"] in want:
        assert r["helpUri"] == ("https://github.com/gilcheck/gilcheck/blob/main/docs/rules/%s.md"
                                % r["id"]), r
    assert r["shortDescription"]["text"], r
blocking = drv["rules"][ids.index("blocking-with-gil")]
assert blocking["defaultConfiguration"].get("enabled") is False, blocking
assert drv["rules"][0]["helpUri"].endswith("/docs/rules/api-without-gil.md"), drv["rules"][0]

res = run["results"]
assert len(res) == 1, res
r = res[0]
assert r["ruleId"] == "api-without-gil", r["ruleId"]
assert ids[r["ruleIndex"]] == r["ruleId"], r["ruleIndex"]
assert r["level"] == "warning", r["level"]
assert r["message"]["text"].startswith("call to 'PyErr_SetFromErrno' without holding the GIL"), r["message"]


def where(loc):
    p = loc["physicalLocation"]
    return (p["artifactLocation"]["uri"], p["region"]["startLine"], p["region"]["startColumn"])


assert [where(l) for l in r["locations"]] == [("mod.c", 13, 9)], r["locations"]
assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
rel = [(where(l), l["message"]["text"]) for l in r["relatedLocations"]]
assert rel == [(("mod.c", 10, 5), "the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'"),
               (("mod.c", 12, 9), "assuming 'n < 0' is true")], rel
steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
assert [where(s["location"]) for s in steps] == [("mod.c", 10, 5), ("mod.c", 12, 9), ("mod.c", 13, 9)], steps
assert r["partialFingerprints"]["gilcheck/v1"], r
assert "%SRCROOT%" in run["originalUriBaseIds"], run.get("originalUriBaseIds")
print("sarif ok")
