#!/usr/bin/env python3
"""on-terminal.py [VAR=VALUE...] COMMAND [ARG...]: runs COMMAND with its standard
output on a pseudo-terminal (standard error stays a pipe), with the
environment variables given (VAR= unsets VAR), and prints what it wrote
there with ESC shown as "<ESC>" and CR LF as LF."""
import os
import pty
import subprocess
import sys

args = sys.argv[1:]
env = dict(os.environ)
while args and "=" in args[0] and not args[0].startswith("/"):
    k, v = args.pop(0).split("=", 1)
    if v:
        env[k] = v
    else:
        env.pop(k, None)
master, slave = pty.openpty()
p = subprocess.Popen(args, stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n").replace("\x1b", "<ESC>"))
print("status=%d" % p.returncode)
