"""A third-party backend plugin installed with pip shows up in `llmrt doctor`; a broken one is
reported and skipped; strict mode and the block-list work from the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_doctor import by_name, doctor

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both plugin packages, pip-installed into a target directory (no network)."""
    root = tmp_path_factory.mktemp("third-party")
    target = root / "site"
    sources = []
    for name in ("llmrt_backend_example", "llmrt_backend_broken"):
        src = root / "src" / name  # build from a copy: setuptools writes build/ and egg-info
        shutil.copytree(PLUGINS / name, src)
        sources.append(str(src))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), *sources],
                   check=True, capture_output=True, timeout=300)
    return target


def env_with(site: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, **extra}


def test_installed_plugin_is_listed_and_broken_one_skipped(site: Path, tmp_path: Path):
    out = doctor("--json", env=env_with(site), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    backends = by_name(report)
    example = backends["example"]
    assert example["plugin"] == {"entry_point": "example", "value": "llmrt_backend_example",
                                 "distribution": "llmrt-backend-example", "version": "0.3.1"}
    assert example["status"] == "available" and not example["selectable"]
    assert example["devices"][0]["name"] == "Example0"
    assert example["why_not"] == "libggml-example.so is not real"
    [broken] = report["failed_plugins"]
    assert (broken["entry_point"], broken["distribution"], broken["version"]) == (
        "broken", "llmrt-backend-broken", "6.6.6")
    assert broken["error"] == "RuntimeError: this plugin is broken on purpose"
    # the rest still works
    assert backends["cpu"]["status"] == "available" and backends["cpu"]["selectable"]
    assert list(backends)[:4] == ["cuda", "metal", "vulkan", "example"]  # by priority


def test_table_names_the_broken_plugin(site: Path, tmp_path: Path):
    out = doctor(env=env_with(site), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "example (30)" in out.stdout
    assert ("plugin broken (llmrt-backend-broken 6.6.6) failed to load and was skipped: "
            "RuntimeError: this plugin is broken on purpose") in out.stdout


def test_strict_mode_reraises(site: Path, tmp_path: Path):
    out = doctor("--json", env=env_with(site, LLMRT_PLUGINS_STRICT="1"), cwd=tmp_path)
    assert out.returncode != 0
    assert ("backend plugin broken (llmrt-backend-broken 6.6.6) failed to load: RuntimeError: "
            "this plugin is broken on purpose") in out.stderr.splitlines()[-1]


def test_block_list_disables_named_plugins(site: Path, tmp_path: Path):
    out = doctor("--json", env=env_with(site, LLMRT_DISABLE_BACKENDS="broken,example,rpc"),
                 cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert sorted(by_name(report)) == ["cpu", "cuda", "metal", "vulkan"]
    assert report["failed_plugins"] == []
    assert sorted(s["entry_point"] for s in report["disabled_plugins"]) == [
        "broken", "example", "rpc"]
