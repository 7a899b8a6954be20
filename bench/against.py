"""Builds another revision of gofer beside the working tree, for the A/B
mode of the benchmark scripts (`--against REV`).

The revision's files are exported with `git archive` (the working tree and
its index are not touched) into build/against/<commit>/src and built, as a
release build with tests and examples off, into build/against/<commit>/build.
Both stay there: a second run against the same commit only checks that the
target is up to date, which is what makes bisecting with the benchmark cheap.
"""
import datetime
import os
import shutil
import subprocess
import sys


def resolve(root, rev):
    """The full commit id of `rev` (a branch, tag, sha or `HEAD~3`)."""
    out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=root,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"--against {rev}: not a commit in this repository")
    return out.stdout.strip()


def build(root, rev, target, artifact):
    """Builds `target` of `rev`; returns (short commit id, path of `artifact`
    relative to the revision's build directory)."""
    commit = resolve(root, rev)
    base = os.path.join(root, "build", "against", commit)
    src = os.path.join(base, "src")
    bld = os.path.join(base, "build")
    if not os.path.exists(os.path.join(src, ".complete")):
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        archive = subprocess.Popen(["git", "archive", "--format=tar", commit], cwd=root, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", src], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            sys.exit(f"git archive {commit} failed")
        open(os.path.join(src, ".complete"), "w").close()
    if not os.path.exists(os.path.join(bld, "build.ninja")):
        subprocess.run(["cmake", "-S", src, "-B", bld, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DGOFER_BUILD_TESTS=OFF", "-DGOFER_BUILD_EXAMPLES=OFF"], check=True,
                       stdout=subprocess.DEVNULL)
    print(f"building {target} of {commit[:10]} in {os.path.relpath(bld, root)}", file=sys.stderr)
    subprocess.run(["cmake", "--build", bld, "--target", target, "-j", "2"], check=True,
                   stdout=subprocess.DEVNULL)
    return commit[:10], os.path.join(bld, artifact)


def differs(root, rev, path):
    """True if `path` in the working tree is not the same file as in `rev`
    (then an A/B also measures a change of the benchmark itself)."""
    return subprocess.run(["git", "diff", "--quiet", resolve(root, rev), "--", path], cwd=root).returncode != 0


def describe_tree(root):
    """`tree <commit>[+uncommitted] <date>`: what a run measured, for the
    tables that quote it."""
    commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=root).returncode != 0
    return f"tree {commit}{'+uncommitted' if dirty else ''} {datetime.date.today().isoformat()}"
