"""Fetch the pinned llama.cpp source: the llama-cpp-python sdist from PyPI, sha256-verified.

Reads vendor/llama.cpp.toml, downloads the sdist with ``pip download`` into the cache
(``$LLMRT_CACHE_DIR`` or ``~/.cache/llmrt``), checks its sha256 (a mismatch is a hard error and the
file is deleted), and extracts only the sdist's ``vendor/llama.cpp`` tree.

Run it directly to (re)create ``vendor/llama.cpp`` in the checkout::

    python vendor/fetch_llama_cpp.py
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIN_FILE = HERE / "llama.cpp.toml"
STAMP = ".llmrt-source-sha256"


class FetchError(RuntimeError):
    """The pinned source could not be fetched or did not verify."""


def read_pin() -> dict[str, str]:
    with PIN_FILE.open("rb") as f:
        return tomllib.load(f)["source"]


def cache_dir() -> Path:
    root = os.environ.get("LLMRT_CACHE_DIR") or Path.home() / ".cache" / "llmrt"
    return Path(root)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_sdist(pin: dict[str, str]) -> Path:
    """Return the verified sdist in the cache, downloading it with pip if needed."""
    dl = cache_dir() / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    name = f"{pin['package'].replace('-', '_')}-{pin['version']}.tar.gz"
    path = dl / name
    if not path.exists():
        with tempfile.TemporaryDirectory(dir=dl) as tmp:
            cmd = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                "--disable-pip-version-check", "-d", tmp,
                f"{pin['package']}=={pin['version']}",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / name
            if proc.returncode != 0 or not got.exists():
                raise FetchError(f"pip download of {pin['package']}=={pin['version']} failed:\n"
                                 f"{proc.stdout}{proc.stderr}")
            os.replace(got, path)
    digest = sha256_file(path)
    if digest != pin["sha256"]:
        path.unlink()
        raise FetchError(f"{name}: sha256 {digest} does not match the pin {pin['sha256']}; "
                         "the file was deleted")
    return path


def extract(sdist: Path, pin: dict[str, str], dest: Path) -> Path:
    """Extract the sdist's pinned subtree into dest (replacing it); return dest."""
    if (dest / STAMP).is_file() and (dest / STAMP).read_text().strip() == pin["sha256"]:
        return dest
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        prefix = f"{top}/{pin['subdir']}/"
        members = []
        for m in tar.getmembers():
            if not m.name.startswith(prefix):
                continue
            m.name = m.name[len(prefix):]
            if m.name:
                members.append(m)
        if not members:
            raise FetchError(f"{sdist.name} has no {pin['subdir']} tree")
        tar.extractall(tmp, members=members, filter="data")
    (tmp / STAMP).write_text(pin["sha256"] + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest


def build_source() -> Path:
    """The verified source tree CMake builds from: in the cache, keyed by the sdist hash, so that
    every checkout of the same pin shares one build directory."""
    pin = read_pin()
    dest = cache_dir() / "src" / pin["sha256"][:16] / "llama.cpp"
    if (dest / STAMP).is_file() and (dest / STAMP).read_text().strip() == pin["sha256"]:
        return dest
    return extract(fetch_sdist(pin), pin, dest)


def vendor_source() -> Path:
    """The checkout's own vendor/llama.cpp (git-ignored), for reading and for tools."""
    pin = read_pin()
    return extract(fetch_sdist(pin), pin, HERE / "llama.cpp")


if __name__ == "__main__":
    print(vendor_source())
