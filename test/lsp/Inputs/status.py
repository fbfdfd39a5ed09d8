"""status.py N COMMAND...: runs COMMAND (standard input and output passed
on) and succeeds when it exits with status N exactly; lit's `not` only
tells zero from non-zero."""
import subprocess
import sys

want = int(sys.argv[1])
got = subprocess.call(sys.argv[2:])
if got != want:
    sys.exit("status.py: '%s' exited with %d, expected %d" % (" ".join(sys.argv[2:]), got, want))
