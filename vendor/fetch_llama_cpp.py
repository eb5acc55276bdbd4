"""Fetch the pinned llama.cpp source: the llama-cpp-python sdist from PyPI, sha256-verified.

Reads vendor/llama.cpp.toml, downloads the sdist with ``pip download`` into the cache
(``$LLMRT_CACHE_DIR`` or ``~/.cache/llmrt``), checks its sha256 (a mismatch is a hard error and the
file is deleted), and extracts only the sdist's ``vendor/llama.cpp`` tree. The download goes
through runtime/pipfetch.py, which finds a pip even where the running interpreter has none (pip's
isolated build environment, a ``venv --without-pip``); the user's pip configuration applies.

Run it directly to (re)create ``vendor/llama.cpp`` in the checkout::

    python vendor/fetch_llama_cpp.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIN_FILE = HERE / "llama.cpp.toml"
STAMP = ".llmrt-source-sha256"


def _load_pipfetch():
    # by path: this runs before llmrt is installed, inside pip's isolated build environment
    spec = importlib.util.spec_from_file_location("llmrt_pipfetch",
                                                  HERE.parent / "runtime" / "pipfetch.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def say(msg: str) -> None:
    """Report a stage; build_ffi.py replaces this with its terminal progress reporter."""
    print(f"llmrt: {msg}", file=sys.stderr, flush=True)


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
        pipfetch = _load_pipfetch()
        spec = f"{pin['package']}=={pin['version']}"
        say(f"downloading {spec} (the pinned llama.cpp source, 77 MB) with pip")
        with tempfile.TemporaryDirectory(dir=dl) as tmp:
            try:
                pipfetch.download([spec], Path(tmp), binary=False)
                got = pipfetch.find_download(Path(tmp), pin["package"], pin["version"], ".tar.gz")
            except (pipfetch.PipNotFound, pipfetch.DownloadFailed) as exc:
                raise FetchError(f"could not download {spec}: {exc}\n(or place the sdist, sha256 "
                                 f"{pin['sha256']}, at {path})") from exc
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
    say(f"extracting {pin['subdir']} from {sdist.name} into {dest}")
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
