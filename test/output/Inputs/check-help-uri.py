"""check-help-uri.py SARIF DOCS_RULES_DIR: every rule's helpUri must name a
page that exists in DOCS_RULES_DIR; prints the dead ones and fails."""
import json
import os
import sys

base = "https://github.com/gilcheck/gilcheck/blob/main/docs/rules/"
rules = json.load(open(sys.argv[1]))["runs"][0]["tool"]["driver"]["rules"]
dead = []
for r in rules:
    uri = r.get("helpUri")
    if uri is None:
        continue
    if not uri.startswith(base) or not os.path.isfile(os.path.join(sys.argv[2], uri[len(base):])):
        dead.append(uri)
print("checked %d helpUri" % sum("helpUri" in r for r in rules))
for uri in dead:
    print("dead:", uri)
sys.exit(1 if dead else 0)
