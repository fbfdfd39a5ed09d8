"""extract.py MARKDOWN OUT: writes to OUT the first ```lua block that follows
the line `<!-- tested: nvim.test -->` in MARKDOWN (docs/editors.md), so
that nvim.test runs the Neovim set-up exactly as the documentation gives
it. Fails when there is no such block."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- tested: nvim\.test -->\s*```lua\n(.*?)\n```", text, re.S)
if not m:
    sys.exit("extract.py: no ```lua block after <!-- tested: nvim.test --> in %s" % sys.argv[1])
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write(m.group(1) + "\n")
