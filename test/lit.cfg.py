# lit.cfg.py: how lit runs gilcheck's tests.
#
# Tests are .c and .test files with RUN lines; files that a test only reads
# live in Inputs/ folders, which are not tests themselves. ctest runs
#   python3 lit.py -sv --param gilcheck_site_config=BUILD/test/lit.site.cfg.py test/
# and the site config (made by CMake from lit.site.cfg.py.in) says where the
# binary, FileCheck and not are. Run by hand without that param, this file
# uses build/test/lit.site.cfg.py if it exists, else finds the tools itself.
#
# Substitutions:
#   %gilcheck          the built binary
#   %FileCheck, FileCheck, not   LLVM's tools for the libclang being built
#   %pyinc             -I<dir> of the default CPython headers (the system ones)
#   %pyinc-X.Y         -I<dir> of CPython X.Y's headers (feature pythonX.Y)
#   %for-each-python   test/tools/for-each-python: runs the rest of the line
#                      once per header set, {PYINC} -> -I<dir>, {PYVER} -> X.Y
#   %sarif-multitool   the SARIF Multitool that scripts/setup installs
#   %python            the Python running lit
# Features: pythonX.Y per header set found, python-headers if any,
#   sarif-multitool, nvim, pre-commit, libclang-N, libclang-operators (17 and
#   later), sanitize, gilcheck-binary (for the few harness tests that need it;
#   other tests just fail without it).
import glob
import os
import re
import shutil
import sys

import lit.formats

config.name = "gilcheck"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".test"]
config.excludes = ["Inputs", "inputs", "tools", "CMakeLists.txt", "README.md",
                   "lit.cfg.py", "lit.site.cfg.py", "lit.site.cfg.py.in", "run-lit.in"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
repo_root = os.path.dirname(config.test_source_root)
tools_dir = os.path.join(config.test_source_root, "tools")

# The site config: from --param, else the default build directory.
site = lit_config.params.get("gilcheck_site_config")
if not site:
    guess = os.path.join(repo_root, "build", "test", "lit.site.cfg.py")
    if os.path.isfile(guess):
        site = guess
if site:
    if not os.path.isfile(site):
        lit_config.fatal("site config '%s' not found (run cmake first)" % site)
    lit_config.load_config(config, site)
    config.test_exec_root = config.gilcheck_test_exec_root


def newest_llvm_file(rel):
    found = []
    for p in glob.glob("/usr/lib/llvm-*/" + rel):
        m = re.search(r"/llvm-(\d+)/", p)
        if m and os.access(p, os.X_OK if rel.startswith("bin/") else os.R_OK):
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def setting(name, default):
    """A param given to lit wins over the site config, which wins over the
    default found here."""
    v = lit_config.params.get(name) or getattr(config, "gilcheck_" + name, "")
    return v if v else default()


gilcheck = setting("gilcheck", lambda: os.path.join(repo_root, "build", "gilcheck"))
filecheck = setting("filecheck", lambda: newest_llvm_file("bin/FileCheck") or "FileCheck")
not_tool = setting("not", lambda: newest_llvm_file("bin/not") or "not")
llvm_version = setting("llvm_version", lambda: "")

if os.path.exists(gilcheck):
    config.available_features.add("gilcheck-binary")
else:
    lit_config.note("gilcheck binary '%s' does not exist yet: only tests that do not use it can pass" % gilcheck)

# Pass on what the helpers need; lit starts tests from a near-empty environment.
for var in ("HOME", "PYENV_ROOT", "GILCHECK_TEST_PYTHONS", "GILCHECK_TEST_PYENV_ROOT",
            "GILCHECK_TEST_SYSTEM_INCLUDE", "LANG", "LC_ALL"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
# gilcheck's result cache: one per test run, never the user's ~/.cache, and
# empty at the start of each run, so that a run here follows the same paths
# as CI's first run (a cache left by an earlier run once hid a bug that only
# freshly lowered units show).
cache_dir = os.path.join(getattr(config, "test_exec_root", None) or os.getcwd(), "gilcheck-cache")
shutil.rmtree(cache_dir, ignore_errors=True)
config.environment["GILCHECK_CACHE_DIR"] = cache_dir

# CPython headers.
sys.path.insert(0, tools_dir)
sys.dont_write_bytecode = True  # keep the source tree clean
import pyheaders  # noqa: E402

header_sets = pyheaders.all_sets()
for version in header_sets:
    config.available_features.add("python" + version)
if header_sets:
    config.available_features.add("python-headers")
default_headers = pyheaders.default_set()
if default_headers is None:
    lit_config.warning("no CPython headers found (install python3-dev): tests that use %pyinc will fail")
each, missing = pyheaders.for_each_sets()
if missing:
    lit_config.fatal("GILCHECK_TEST_PYTHONS names versions whose headers are not installed: %s"
                     % " ".join(missing))
lit_config.note("CPython headers: %%pyinc is %s; %%for-each-python runs %s" % (
    default_headers[1] if default_headers else "(none)",
    ", ".join(label for label, _, _ in each) or "(none)"))

# The SARIF Multitool: the native binary that scripts/setup installs under
# .tools/ (no node start-up, no shell in between), else the npm wrapper, else
# one on PATH or named by $SARIF_MULTITOOL.
sarif_multitool = None
for cand in (os.environ.get("SARIF_MULTITOOL", ""),
             os.path.join(repo_root, ".tools", "node_modules", "@microsoft",
                          "sarif-multitool-linux", "Sarif.Multitool"),
             os.path.join(repo_root, ".tools", "node_modules", ".bin", "sarif-multitool"),
             shutil.which("sarif-multitool") or ""):
    if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
        sarif_multitool = cand
        break
if sarif_multitool:
    config.available_features.add("sarif-multitool")
    config.environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
if shutil.which("nvim"):
    config.available_features.add("nvim")
if shutil.which("pre-commit") and shutil.which("git"):
    config.available_features.add("pre-commit")
if llvm_version:
    config.available_features.add("libclang-" + llvm_version)
    # libclang 17 and later name operators, also those written in a macro's
    # body (older ones place every token of a macro's body at its use)
    if llvm_version.split(".")[0].isdigit() and int(llvm_version.split(".")[0]) >= 17:
        config.available_features.add("libclang-operators")
if getattr(config, "gilcheck_sanitize", "") in ("ON", "1", "TRUE", "YES", "on", "true"):
    config.available_features.add("sanitize")
# CI sets GILCHECK_TEST_REQUIRE_FEATURES="sarif-multitool nvim" so that the
# tests which need them can never be skipped there unnoticed.
absent = [f for f in os.environ.get("GILCHECK_TEST_REQUIRE_FEATURES", "").split()
          if f not in config.available_features]
if absent:
    lit_config.fatal("required lit features missing (GILCHECK_TEST_REQUIRE_FEATURES): %s; "
                     "run scripts/setup" % " ".join(absent))


def sub(key, value):
    """A literal %-substitution (lit treats keys as regexes and values as
    replacement templates, so escape both)."""
    config.substitutions.append((re.escape(key) + r"(?![\w-])", value.replace("\\", "\\\\")))


def tool_sub(name, value):
    """A bare tool name, replaced where it stands as a word of its own (not
    inside a path, an option, a quoted string or another name)."""
    config.substitutions.append((r"(?<![\w./%'\"(\[,=-])" + re.escape(name) + r"(?![\w./'\"-])",
                                 value.replace("\\", "\\\\")))


python = sys.executable or "python3"
# Each key ends where a word ends, so %pyinc leaves %pyinc-3.13 alone; lit
# applies these before its own %s, %p and %t, so %sarif-multitool is safe.
for version in sorted(header_sets, key=lambda v: -len(v)):
    sub("%pyinc-" + version, "-I" + header_sets[version])
config.substitutions.append((r"%pyinc(?![\w-])", ("-I" + default_headers[1]) if default_headers else ""))
sub("%for-each-python", "%s %s" % (python, os.path.join(tools_dir, "for-each-python")))
sub("%sarif-multitool", sarif_multitool or "sarif-multitool-not-installed")
sub("%gilcheck", gilcheck)
sub("%FileCheck", filecheck)
sub("%python", python)
tool_sub("FileCheck", filecheck)
tool_sub("not", not_tool)
