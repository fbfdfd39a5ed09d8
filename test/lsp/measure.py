#!/usr/bin/env python3
"""measure.py: how long gilcheck --lsp takes to check a file when it is
opened (the first parse, which builds the preamble) and when it is saved
again (a reparse of the same unit), next to the command line on the same
file. Not a test: run it by hand, e.g.

    test/lsp/measure.py build/gilcheck example/spammodule.c -- -I/usr/include/python3.11

Each FILE gets a fresh server; it is opened once and saved --saves times
(default 10). Printed per file: the round trip the client sees (message
sent to diagnostics received) for the open and the median save, the
server's own split of the median save (parse, lower, analyse, from its -v
log), and the median wall time of `gilcheck --no-cache -p DIR FILE` over
--runs runs (default 5).
Flags come from a compile_commands.json written to a temporary directory
(the arguments after --) unless --cdb DIR names one."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read(stream):
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        c = stream.read(1)
        if not c:
            raise SystemExit("measure.py: the server closed its output")
        header += c
    n = int(re.search(rb"Content-Length: *(\d+)", header, re.I).group(1))
    return json.loads(stream.read(n))


def wait_diagnostics(p):
    while True:
        m = read(p.stdout)
        if m.get("method") == "textDocument/publishDiagnostics":
            return m["params"]["diagnostics"]


def measure(gilcheck, path, cdb, saves, log):
    with open(log, "w") as err:
        p = subprocess.Popen([gilcheck, "--lsp", "-v", "-p", cdb], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err)
    send = lambda m: (p.stdin.write(frame(m)), p.stdin.flush())
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    read(p.stdout)
    uri = "file://" + path
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "c", "version": 1, "text": open(path).read()}}})
    n = len(wait_diagnostics(p))
    first = time.perf_counter() - t
    rounds = []
    for _ in range(saves):
        t = time.perf_counter()
        send({"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"textDocument": {"uri": uri}}})
        wait_diagnostics(p)
        rounds.append(time.perf_counter() - t)
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    read(p.stdout)
    send({"jsonrpc": "2.0", "method": "exit"})
    p.wait()
    checks = [tuple(map(float, m.groups())) + (bool(m.group(0).count("(all declarations)")),)
              for m in re.finditer(r"(?:re)?parse(?: \(all declarations\))? ([\d.]+) ms, lower ([\d.]+) ms, "
                                   r"analyse ([\d.]+) ms", open(log).read())]
    return n, first, rounds, checks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gilcheck")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--saves", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cdb")
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    files = [os.path.abspath(f) for f in args.files]
    tmp = tempfile.mkdtemp(prefix="gilcheck-measure-")
    cdb = args.cdb
    if not cdb:
        cdb = tmp
        with open(os.path.join(tmp, "compile_commands.json"), "w") as f:
            json.dump([{"directory": os.path.dirname(x), "file": x, "arguments": ["cc"] + flags + ["-c", x]}
                       for x in files], f)
    ms = lambda s: "%7.1f ms" % (s * 1e3)
    helptext = subprocess.run([args.gilcheck, "--help"], capture_output=True, text=True).stdout
    no_cache = ["--no-cache"] if "--no-cache" in helptext else []   # time the parse, not the result cache
    print("%-28s %5s %12s %12s %30s %12s" % ("file", "diags", "open", "save (med)",
                                             "save: parse/lower/analyse", "command line"))
    for path in files:
        n, first, rounds, checks = measure(args.gilcheck, path, cdb, args.saves, os.path.join(tmp, "lsp.log"))
        later = checks[1:]
        split = "/".join("%.1f" % statistics.median(c[i] for c in later) for i in range(3)) + " ms"
        cli = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([args.gilcheck] + no_cache + ["-p", cdb, path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            cli.append(time.perf_counter() - t)
        name = os.path.basename(path) + (" *" if checks[0][3] else "")
        print("%-28s %5d %12s %12s %30s %12s" % (name, n, ms(first), ms(statistics.median(rounds)), split,
                                                 ms(statistics.median(cli))))
    print("* a project header is included: the preamble's declarations are visited too")


if __name__ == "__main__":
    main()
