"""lspclient.py: a small Language Server Protocol client for the tests of
`gilcheck --lsp` (crossfile.py, showmessage.py) and for measure.py.

Server(cmd) starts the server; send()/request()/notify() write framed
JSON-RPC; next(timeout) reads the next message (None on a timeout), a
reader thread filling a queue so that waiting can time out. Requests the
server sends us (client/registerCapability) are answered by `answer`
(default: result null) and recorded in .requests; window/showMessage and
window/logMessage in .shown and .logged. publishes(uri, timeout) waits for
the next textDocument/publishDiagnostics of that document, and show()
prints diagnostics one a line, for FileCheck:

    STEP: LINE:COL CODE MESSAGE [related FILE:LINE ...]     (1-based)
    STEP: none
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Server:
    def __init__(self, cmd, stderr=None, env=None, answer=None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
        self.q = queue.Queue()
        self.answer = answer or (lambda msg: {"jsonrpc": "2.0", "id": msg["id"], "result": None})
        self.requests, self.shown, self.logged, self.held = [], [], [], []
        self.ids = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.p.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.q.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            self.q.put(json.loads(out.read(length)))

    def send(self, msg):
        self.p.stdin.write(frame(msg))
        self.p.stdin.flush()

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def request(self, method, params, timeout=120):
        self.ids += 1
        rid = self.ids
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            m = self.next(deadline - time.monotonic())
            if m is None:
                sys.exit("lspclient.py: no answer to %s" % method)
            if m.get("id") == rid and "method" not in m:
                return m
            self.held.append(m)

    def next(self, timeout):
        """The next message not handled here, or None after TIMEOUT seconds
        (or when the server closed its output)."""
        if self.held:
            return self.held.pop(0)
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            try:
                m = self.q.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                return None
            if m is None:
                self.q.put(None)          # stays closed
                return None
            method = m.get("method")
            if method and "id" in m:      # a request from the server
                self.requests.append(m)
                reply = self.answer(m)
                if reply is not None:
                    self.send(reply)
                continue
            if method == "window/showMessage":
                self.shown.append(m["params"])
                continue
            if method == "window/logMessage":
                self.logged.append(m["params"])
                continue
            return m

    def publishes(self, uri, timeout=120):
        """The next diagnostics published for URI, or None after TIMEOUT."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.next(deadline - time.monotonic())
            if m is None:
                return None
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m["params"]["diagnostics"]

    def initialize(self, root=None, capabilities=None, options=None):
        params = {"processId": None, "capabilities": capabilities or {}}
        if root:
            params["rootUri"] = "file://" + root
        if options is not None:
            params["initializationOptions"] = options
        r = self.request("initialize", params)
        self.notify("initialized", {})
        return r

    def open(self, path, version=1):
        with open(path) as f:
            text = f.read()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": "file://" + path, "languageId": "c", "version": version, "text": text}})
        return "file://" + path

    def save(self, path, text=None, version=None):
        uri = "file://" + path
        if text is not None:
            write(path, text)
            self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                   "contentChanges": [{"text": text}]})
        self.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        return uri

    def close(self, path):
        self.notify("textDocument/didClose", {"textDocument": {"uri": "file://" + path}})

    def finish(self):
        self.request("shutdown", None)
        self.notify("exit")
        return self.p.wait(timeout=120)


def show(step, diags):
    if diags is None:
        print("%s: TIMED OUT" % step)
    elif not diags:
        print("%s: none" % step)
    else:
        for d in diags:
            s = d["range"]["start"]
            related = "".join(" [related %s:%d]" % (os.path.basename(r["location"]["uri"]),
                                                     r["location"]["range"]["start"]["line"] + 1)
                              for r in d.get("relatedInformation", []))
            print("%s: %d:%d %s %s%s" % (step, s["line"] + 1, s["character"] + 1, d["code"], d["message"], related))
    sys.stdout.flush()


def write(path, text):
    """Replaces PATH at once (a new file renamed over it), so that a server
    polling it never reads it half-written."""
    tmp = path + ".tmp-lspclient"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
