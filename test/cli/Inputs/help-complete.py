#!/usr/bin/env python3
"""help-complete.py OPTIONS_C FILE...: for each FILE (the --help text, the
man page, the guide), prints "FILE: missing: [...]", the options that
options.c knows and FILE does not mention. --jobs, --output and --verbose
are mentioned by their short forms (-j, -o, -v), --colour is --color spelt
the other way; roff's "\\-" counts as "-"."""
import os
import re
import sys

src = open(sys.argv[1]).read()
names = re.findall(r'\{"([a-z-]+)", ARG_', src)
short = {"jobs", "output", "verbose", "colour"}
for path in sys.argv[2:]:
    text = open(path).read().replace("\\-", "-")
    missing = [n for n in names if n not in short and ("-" if len(n) == 1 else "--") + n not in text]
    print("%s: missing: %s" % (os.path.basename(path), missing))
