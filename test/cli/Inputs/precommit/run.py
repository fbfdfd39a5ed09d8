#!/usr/bin/env python3
"""run.py WORKDIR GILCHECK HOOKS_YAML PYINC: gilcheck's pre-commit hook, end
to end, on a small project laid out like psutil (project/: sources for
Linux, Windows and macOS; the last two excluded in .gilcheck.yml).

It makes WORKDIR/hooks, a git repository holding HOOKS_YAML as its
.pre-commit-hooks.yaml (standing in for gilcheck's own repository at a
release tag); WORKDIR/bin/gilcheck, the binary under test, first on PATH
(the hook is `language: system`); and WORKDIR/project, a git repository
with the project, a compile_commands.json listing the Linux sources only
(what bear records on Linux; spam/arch/linux/threads.c is newer than the
recording) and a .pre-commit-config.yaml naming the hook repository at its
commit. Then it prints, for each step, a line "== STEP", pre-commit's
output and "status=N":

  all         pre-commit run --all-files --verbose (which shows the
              output of a hook that passed)
  staged      a bug written into spam/_spam_posix.c (a call, inside
              Py_BEGIN_ALLOW_THREADS, to a helper that raises, defined in
              spam/_spam_common.c), only that file staged: pre-commit run
  no-exclude  the bug undone, .gilcheck.yml emptied and staged:
              pre-commit run --all-files
"""
import json
import os
import shutil
import subprocess
import sys

work, gilcheck, hooks_yaml, pyinc = sys.argv[1:5]
work = os.path.abspath(work)
here = os.path.dirname(os.path.abspath(__file__))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(os.path.join(work, "bin"))
os.makedirs(os.path.join(work, "home"))
os.symlink(os.path.abspath(gilcheck), os.path.join(work, "bin", "gilcheck"))

env = dict(os.environ)
env.update({
    "PATH": os.path.join(work, "bin") + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
    "HOME": os.path.join(work, "home"),
    "PRE_COMMIT_HOME": os.path.join(work, "pre-commit-cache"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "NO_COLOR": "1",
})
for var in ("PRE_COMMIT_COLOR", "TERM"):
    env.pop(var, None)


def git(cwd, *args):
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The hook repository.
hooks = os.path.join(work, "hooks")
os.makedirs(hooks)
shutil.copy(hooks_yaml, os.path.join(hooks, ".pre-commit-hooks.yaml"))
git(hooks, "init", "-q")
git(hooks, "add", ".pre-commit-hooks.yaml")
git(hooks, "commit", "-q", "-m", "hooks")
rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, env=env, check=True,
                     capture_output=True, text=True).stdout.strip()

# The project.
proj = os.path.join(work, "project")
shutil.copytree(os.path.join(here, "project"), proj)
with open(os.path.join(proj, ".pre-commit-config.yaml.in")) as f:
    cfg = f.read().replace("@HOOK_REPO@", hooks).replace("@HOOK_REV@", rev)
os.remove(os.path.join(proj, ".pre-commit-config.yaml.in"))
with open(os.path.join(proj, ".pre-commit-config.yaml"), "w") as f:
    f.write(cfg)
listed = ["spam/_spam_common.c", "spam/_spam_linux.c", "spam/_spam_posix.c", "spam/arch/linux/proc.c"]
entries = [{"directory": proj, "file": f,
            "arguments": ["cc", "-c", "-DSPAM_LINUX=1", "-Ispam", pyinc, "-o", f[:-2] + ".o", f]}
           for f in listed]
with open(os.path.join(proj, "compile_commands.json"), "w") as f:
    json.dump(entries, f, indent=1)
with open(os.path.join(proj, ".gitignore"), "w") as f:
    f.write("compile_commands.json\n")
git(proj, "init", "-q")
git(proj, "add", "-A")
git(proj, "commit", "-q", "-m", "project")


def step(name, *args):
    print("== " + name, flush=True)
    p = subprocess.run(["pre-commit", "run", *args], cwd=proj, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(p.stdout)
    print("status=%d" % p.returncode, flush=True)


step("all", "--all-files", "--verbose")

posix = os.path.join(proj, "spam", "_spam_posix.c")
shutil.copy(os.path.join(here, "_spam_posix-bug.c"), posix)
git(proj, "add", "spam/_spam_posix.c")
step("staged")

git(proj, "checkout", "HEAD", "--", "spam/_spam_posix.c")
with open(os.path.join(proj, ".gilcheck.yml"), "w") as f:
    f.write("# nothing excluded\n")
git(proj, "add", ".gilcheck.yml")
step("no-exclude", "--all-files")
