"""pyheaders.py: finds the CPython header sets the tests run against.

Shared by lit.cfg.py (for %pyinc, %pyinc-X.Y and the pythonX.Y features)
and by for-each-python (which runs a command once per set), so the two
always agree. A header set is a directory holding Python.h.

Where it looks, per version X.Y:
  the system include roots    /usr/include/pythonX.Y, /usr/local/include/pythonX.Y
                              (override with GILCHECK_TEST_SYSTEM_INCLUDE,
                              a colon-separated list of roots)
  pyenv                       $(pyenv root)/versions/X.Y*/include/pythonX.Y
                              ($GILCHECK_TEST_PYENV_ROOT, else $PYENV_ROOT,
                              else ~/.pyenv, else `pyenv root`)
The system copy wins when both have X.Y: it is what %pyinc uses and what
most users build against.

Which versions for-each-python runs: GILCHECK_TEST_PYTHONS (e.g. "3.8 3.13";
the word "system" means the system one, whatever its version), by default
DEFAULT_VERSIONS. A version named in GILCHECK_TEST_PYTHONS that is not found
is an error; one from the default list is skipped silently.
"""
import glob
import os
import re
import shutil
import subprocess

DEFAULT_VERSIONS = ["3.9", "3.11", "3.13", "system"]
DEFAULT_SYSTEM_ROOTS = ["/usr/include", "/usr/local/include"]

_VERSION_DIR = re.compile(r"python(\d+)\.(\d+)$")


def _version_key(v):
    return tuple(int(x) for x in v.split("."))


def _has_header(d):
    return os.path.isfile(os.path.join(d, "Python.h"))


def system_roots():
    env = os.environ.get("GILCHECK_TEST_SYSTEM_INCLUDE")
    if env is not None:
        return [r for r in env.split(":") if r]
    return list(DEFAULT_SYSTEM_ROOTS)


def pyenv_root():
    # GILCHECK_TEST_PYENV_ROOT first: pyenv's own shims overwrite PYENV_ROOT.
    # Set but empty, it means "no pyenv".
    root = os.environ.get("GILCHECK_TEST_PYENV_ROOT")
    if root is not None:
        return root or None
    root = os.environ.get("PYENV_ROOT")
    if root:
        return root
    home = os.path.expanduser("~/.pyenv")
    if os.path.isdir(home):
        return home
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=20,
                                 universal_newlines=True).stdout.strip()
            if out:
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return None


def system_sets():
    """[(version, dir)] for the system roots, newest first (pythonX.Y only,
    not the debug 'pythonX.Yd' or free-threaded 'pythonX.Yt' variants)."""
    found = {}
    for root in system_roots():
        for d in glob.glob(os.path.join(root, "python3.*")):
            m = _VERSION_DIR.search(d)
            if m and _has_header(d):
                found.setdefault("%s.%s" % m.groups(), d)
    return sorted(found.items(), key=lambda kv: _version_key(kv[0]), reverse=True)


def pyenv_sets():
    """[(version, dir)] for every pyenv-installed CPython, one per X.Y
    (the newest patch release), oldest first."""
    root = pyenv_root()
    found = {}
    if not root:
        return []
    for d in glob.glob(os.path.join(root, "versions", "*", "include", "python3.*")):
        m = _VERSION_DIR.search(d)
        if not m or not _has_header(d):
            continue
        ver = "%s.%s" % m.groups()
        patch = os.path.basename(os.path.dirname(os.path.dirname(d)))
        # Only plain CPython builds ("3.9.18"), not "pypy3.9-7.3" or "3.13.0t".
        if not re.match(r"^%s(\.\d+)?$" % re.escape(ver), patch):
            continue
        key = tuple(int(x) for x in patch.split("."))
        if ver not in found or key > found[ver][0]:
            found[ver] = (key, d)
    return sorted(((v, kd[1]) for v, kd in found.items()),
                  key=lambda kv: _version_key(kv[0]))


def all_sets():
    """{version: dir} for every header set on this machine."""
    sets = dict(pyenv_sets())
    sets.update(dict(system_sets()))      # the system copy wins
    return sets


def default_set():
    """(version, dir) for %pyinc: the system headers (Debian's python3-dev)
    if present, else the newest set found, else None."""
    sys_sets = system_sets()
    if sys_sets:
        return sys_sets[0]
    sets = all_sets()
    if not sets:
        return None
    v = max(sets, key=_version_key)
    return (v, sets[v])


def requested_versions():
    """(versions, explicit): the list for for-each-python."""
    env = os.environ.get("GILCHECK_TEST_PYTHONS", "").split()
    if env:
        return env, True
    return list(DEFAULT_VERSIONS), False


def for_each_sets():
    """([(label, version, dir)], missing): the header sets for-each-python
    runs, oldest first, each version once; 'missing' lists the versions that
    were asked for by name in GILCHECK_TEST_PYTHONS but not found."""
    wanted, explicit = requested_versions()
    sets = all_sets()
    sys_sets = system_sets()
    chosen = {}
    missing = []
    for w in wanted:
        if w == "system":
            if sys_sets:
                v, d = sys_sets[0]
                chosen[v] = d
            elif explicit:
                missing.append(w)
        elif w in sets:
            chosen[w] = sets[w]
        elif explicit:
            missing.append(w)
    sys_dirs = {d for _, d in sys_sets}
    out = []
    for v in sorted(chosen, key=_version_key):
        d = chosen[v]
        out.append((v + (" (system)" if d in sys_dirs else ""), v, d))
    return out, missing
