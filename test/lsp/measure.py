#!/usr/bin/env python3
"""measure.py: how long gilcheck --lsp takes to check a file when it is
opened (the first parse, which builds the preamble), until the units of the
rest of its compilation database are ready (lowered in the background) and
the file's diagnostics with them, and when it is saved again (a reparse of
the same unit, analysed with the whole database), next to the command line
on the same file. Not a test: run it by hand, e.g.

    test/lsp/measure.py build/gilcheck example/spammodule.c -- -I/usr/include/python3.11
    test/lsp/measure.py build/gilcheck --cdb DIR DIR/net.c

Each FILE gets a fresh server (-v, its log read as it comes), run twice:
first with an empty result cache (the database lowered by parsing), then
with the cache the first run filled. Printed per file and run: the round
trip the client sees (message sent to diagnostics received) for the open;
the time from the open until the server says the database's units are
ready (the "whole database" column), and the diagnostics then; the median
save and the server's own split of it (parse, lower, analyse, from its -v
log); the server's resident memory (VmRSS) after the saves and its peak
(VmHWM); and the median wall time of `gilcheck --no-cache -p DIR FILE` over
--runs runs (default 5). Flags come from a compile_commands.json written to
a temporary directory (the arguments after --) unless --cdb DIR names one."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from lspclient import Server  # noqa: E402

READY = re.compile(r"compile_commands\.json: the units of \d+ files? are ready")
BACKGROUND = re.compile(r"compile_commands\.json: lowering \d+ files? in the background")
SPLIT = re.compile(r"checked .* \(version \d+\): (?:re)?parse(?: \(all declarations\))? ([\d.]+) ms, "
                   r"lower ([\d.]+) ms, analyse ([\d.]+) ms")


class Log:
    """The server's standard error, line by line, with the time each came."""

    def __init__(self, stream):
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in stream:
            with self.cv:
                self.lines.append((time.perf_counter(), raw.decode("utf-8", "replace").rstrip("\n")))
                self.cv.notify_all()

    def wait(self, pattern, after, timeout):
        deadline = time.perf_counter() + timeout
        with self.cv:
            while True:
                for t, line in self.lines:
                    if t >= after and pattern.search(line):
                        return t, line
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None, None
                self.cv.wait(left)


def memory(pid):
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    mb = lambda k: int(status.get(k, "0 kB").split()[0]) / 1024.0
    return mb("VmRSS"), mb("VmHWM")


def measure(gilcheck, path, cdb, saves, cache_dir, jobs, ready_timeout):
    env = dict(os.environ, GILCHECK_CACHE_DIR=cache_dir)
    cmd = [gilcheck, "--lsp", "-v", "-p", cdb] + (["-j", str(jobs)] if jobs else [])
    s = Server(cmd, stderr=subprocess.PIPE, env=env)
    log = Log(s.p.stderr)
    s.initialize(root=os.path.dirname(path))
    t0 = time.perf_counter()
    uri = s.open(path)
    first = s.publishes(uri, 300)
    t_first = time.perf_counter() - t0
    # nothing is lowered in the background when the database holds only
    # the open file: then there is no "ready" to wait for
    t_bg, _ = log.wait(BACKGROUND, t0, 3 if ready_timeout else 0)
    t_ready, _ = log.wait(READY, t0, ready_timeout) if t_bg else (None, None)
    # the re-analysis (and its publish, when the diagnostics changed) comes
    # right after the "ready" line; give it a moment
    later = s.publishes(uri, 2)
    final = later if later is not None else first
    rounds = []
    for _ in range(saves):
        t = time.perf_counter()
        s.save(path)
        s.publishes(uri, 300)
        rounds.append(time.perf_counter() - t)
    rss, hwm = memory(s.p.pid)
    s.finish()
    checks = [tuple(map(float, m.groups())) for _, line in log.lines for m in [SPLIT.search(line)] if m]
    return {
        "first": t_first, "first_n": len(first or []),
        "ready": (t_ready - t0) if t_ready else None, "final_n": len(final or []),
        "save": statistics.median(rounds) if rounds else None,
        "split": [statistics.median(c[i] for c in checks[1:]) for i in range(3)] if len(checks) > 1 else None,
        "rss": rss, "hwm": hwm,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gilcheck")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--saves", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cdb")
    ap.add_argument("-j", type=int, default=0, help="the server's -j (default: its own)")
    ap.add_argument("--ready-timeout", type=float, default=600,
                    help="seconds to wait for the database's units (0 for a server without them)")
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
    ms = lambda s: "%.0f ms" % (s * 1e3) if s is not None else "-"
    with open(os.path.join(cdb, "compile_commands.json")) as f:
        size = len(json.load(f))
    print("database: %s (%d entries)" % (cdb, size))
    print("| file | cache | open (diagnostics) | whole database (diagnostics) | save (median) "
          "| save: parse / lower / analyse | memory after the saves (peak) | command line |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in files:
        cache_dir = tempfile.mkdtemp(prefix="gilcheck-measure-cache-")
        cli = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([args.gilcheck, "--no-cache", "-p", cdb, path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            cli.append(time.perf_counter() - t)
        for label in ("cold", "warm"):
            r = measure(args.gilcheck, path, cdb, args.saves, cache_dir, args.j, args.ready_timeout)
            split = " / ".join("%.1f" % x for x in r["split"]) + " ms" if r["split"] else "-"
            print("| `%s` | %s | %s (%d) | %s (%d) | %s | %s | %.0f MB (%.0f MB) | %s |" % (
                os.path.basename(path), label, ms(r["first"]), r["first_n"], ms(r["ready"]), r["final_n"],
                ms(r["save"]), split, r["rss"], r["hwm"], ms(statistics.median(cli)) if label == "cold" else ""))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
