"""frames.py: reads a language server's output (Content-Length framed
JSON-RPC) on stdin, checks the framing, and prints each message as one line
of compact JSON with sorted keys, for FileCheck. A frame whose length does
not match its body, or a body that is not JSON, is an error (exit 1)."""
import json
import sys

data = sys.stdin.buffer.read()
pos = 0
count = 0
while pos < len(data):
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        sys.exit("frames.py: trailing bytes without a header: %r" % data[pos:pos + 40])
    length = None
    for line in data[pos:end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        sys.exit("frames.py: a header without Content-Length: %r" % data[pos:end])
    body = data[end + 4:end + 4 + length]
    if len(body) != length:
        sys.exit("frames.py: a body shorter than its Content-Length")
    msg = json.loads(body.decode("utf-8"))
    print(json.dumps(msg, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    pos = end + 4 + length
    count += 1
print("frames: %d" % count)
