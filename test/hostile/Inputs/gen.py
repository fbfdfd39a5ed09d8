#!/usr/bin/env python3
"""gen.py: writes the big or strange inputs of the hostile tests at test
time, so that none of them is committed. Output goes to standard output
(text kinds) or into a directory (kinds that make several files).

usage: gen.py KIND [ARG...]

  nested-blocks N       a function whose body holds N nested { } blocks
  else-if N             a function with an if / else if chain N long
  nested-if N           a function with N nested if statements (no braces)
  long-function N       a function of exactly N lines (sequential branches,
                        switches, GIL-released regions, gotos), whose one
                        mistake is on line N - 5: PyLong_FromLong called with
                        the GIL released
  paths N               a function of N independent if/else in a row (2^N
                        paths), whose one mistake is on line N * 6 + 11
  garbage SEED SIZE     SIZE random bytes (NULs and invalid UTF-8 too)
  non-utf8 DIR          DIR/caf\\xe9-\\xff.c: a file with a non-UTF-8 name and
                        non-UTF-8 bytes in comments and strings, with one
                        mistake on line 12
"""
import os
import random
import sys

HEAD = "#include <Python.h>\n"


def out(text):
    sys.stdout.write(text)


def nested_blocks(n):
    out(HEAD)
    out("static PyObject *deep(PyObject *self, PyObject *arg)\n{\n    long x = PyLong_AsLong(arg);\n")
    out("{" * n + "\nx++;\n" + "}" * n + "\n")
    out("    return PyLong_FromLong(x);\n}\n")


def else_if(n):
    out(HEAD)
    out("static PyObject *chain(PyObject *self, PyObject *arg)\n{\n")
    out("    long x = PyLong_AsLong(arg), r = 0;\n    PyObject *o;\n")
    out("    if (x == 0)\n        r = 1;\n")
    for i in range(1, n):
        out("    else if (x == %d)\n        r = %d;\n" % (i, i * 7))
    out("    Py_BEGIN_ALLOW_THREADS\n    o = PyLong_FromLong(r); /* the mistake */\n    Py_END_ALLOW_THREADS\n")
    out("    return o;\n}\n")


def nested_if(n):
    out(HEAD)
    out("static PyObject *nest(PyObject *self, PyObject *arg)\n{\n")
    out("    long x = PyLong_AsLong(arg);\n    PyObject *o;\n")
    for i in range(n):
        out("    if (x > %d)\n" % i)
    out("    x++;\n")
    out("    Py_BEGIN_ALLOW_THREADS\n    o = PyLong_FromLong(x); /* the mistake */\n    Py_END_ALLOW_THREADS\n")
    out("    return o;\n}\n")


def long_function(n):
    lines = [HEAD.rstrip("\n"), "static PyObject *huge(PyObject *self, PyObject *arg)", "{",
             "    long x = PyLong_AsLong(arg), acc = 0;", "    PyObject *r;"]
    i = 0
    while len(lines) < n - 12:
        k = i % 4
        if k == 0:
            lines += ["    if (x & %d)" % (i & 1023), "        acc += %d;" % i]
        elif k == 1:
            lines += ["    Py_BEGIN_ALLOW_THREADS", "    acc ^= %d;" % i, "    Py_END_ALLOW_THREADS"]
        elif k == 2:
            lines += ["    switch (acc & 3) {", "    case 0: acc++; break;", "    case 1: acc--; break;",
                      "    default: break;", "    }"]
        else:
            lines += ["    if (acc < 0)", "        goto out;"]
        i += 1
    while len(lines) < n - 7:
        lines.append("    acc++;")
    lines += ["    Py_BEGIN_ALLOW_THREADS", "    r = PyLong_FromLong(acc); /* the mistake */",
              "    Py_END_ALLOW_THREADS", "    return r;", "out:", "    return PyLong_FromLong(acc);", "}"]
    assert len(lines) == n and "the mistake" in lines[n - 6]
    out("\n".join(lines) + "\n")


def paths(n):
    out(HEAD)
    out("static PyObject *paths(PyObject *self, PyObject *args)\n{\n")
    out("    unsigned long long x;\n    long acc = 0;\n    PyObject *tmp;\n\n")
    out("    if (!PyArg_ParseTuple(args, \"K\", &x))\n        return NULL;\n")
    for b in range(n):   # 6 lines each
        out("    if (x & (1ULL << %d)) {\n" % b)
        if b % 2 == 0:
            out("        Py_BEGIN_ALLOW_THREADS\n        acc += %d;\n        Py_END_ALLOW_THREADS\n" % (b + 1))
        else:
            out("        tmp = PyLong_FromLong(acc + %d);\n        acc += PyLong_AsLong(tmp);\n"
                "        Py_XDECREF(tmp);\n" % b)
        out("    } else\n        acc -= %d;\n" % (b + 1))
    out("    Py_BEGIN_ALLOW_THREADS\n")
    out("    tmp = PyLong_FromLong(acc); /* the mistake */\n")
    out("    Py_END_ALLOW_THREADS\n    return tmp;\n}\n")


def garbage(seed, size):
    r = random.Random(seed)
    sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(size)))


def non_utf8(d):
    os.makedirs(d, exist_ok=True)
    src = (b"/* caf\xe9 \xff\xfe: Latin-1 and stray bytes in a comment */\n"   # 1
           b"#include <Python.h>\n"                                              # 2
           b"\n"                                                                 # 3
           b"static const char latin[] = \"\xe9t\xe9 \xff\";\n"                  # 4
           b"\n"                                                                 # 5
           b"/* na\xefve: the mistake is on line 12 */\n"                        # 6
           b"static PyObject *bad(PyObject *self, PyObject *arg)\n"             # 7
           b"{\n"                                                                # 8
           b"    PyObject *r;\n"                                                 # 9
           b"    (void)latin;\n"                                                 # 10
           b"    Py_BEGIN_ALLOW_THREADS\n"                                       # 11
           b"    r = PyLong_FromLong(1); /* \xe9 */\n"                           # 12
           b"    Py_END_ALLOW_THREADS\n"
           b"    return r;\n"
           b"}\n")
    with open(os.path.join(os.fsencode(d), b"caf\xe9-\xff.c"), "wb") as f:
        f.write(src)


def main():
    a = sys.argv[1:]
    kinds = {"nested-blocks": lambda: nested_blocks(int(a[1])), "else-if": lambda: else_if(int(a[1])),
             "nested-if": lambda: nested_if(int(a[1])), "long-function": lambda: long_function(int(a[1])),
             "paths": lambda: paths(int(a[1])), "garbage": lambda: garbage(int(a[1]), int(a[2])),
             "non-utf8": lambda: non_utf8(a[1])}
    if not a or a[0] not in kinds:
        sys.exit(__doc__)
    kinds[a[0]]()


if __name__ == "__main__":
    main()
