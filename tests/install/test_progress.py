"""A cold build shows its progress, although pip captures the build backend's output.

pip shows a backend's stdout/stderr only with ``-v`` or after a failure; the first cold install
showed nothing but "still running..." for 17 minutes. build_ffi.py's progress lines go to the
controlling terminal, and to stderr where there is none (CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for ninja: the status lines ninja prints when its output is a pipe.
# A stand-in for ninja: the status lines ninja prints when its output is a pipe, one every 0.4 s
# (progress lines wait for 5 s and come at most every 5 s, so a no-op build stays quiet), with a
# nested build's smaller counts in between (ggml-vulkan builds its shader generator so).
FAKE_NINJA = """import time
print('[0/2] Performing build step for vulkan-shaders-gen', flush=True)
for i in range(1, 41):
    print(f'[{i}/40] Building CXX obj/{i}.o', flush=True)
    print(f'[1/2] nested step', flush=True)
    time.sleep(0.4)
"""
DRIVER = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("build_ffi", {str(ROOT / 'build_ffi.py')!r})
b = importlib.util.module_from_spec(spec)
spec.loader.exec_module(b)
b.PROGRESS.run([sys.executable, "-c", {FAKE_NINJA!r}], "build demo")
"""


def test_progress_reaches_the_terminal_when_stderr_is_captured(tmp_path):
    err = tmp_path / "stderr"
    child = pexpect.spawn("/bin/sh", ["-c", f'"{sys.executable}" -c "$DRIVER" 2>"{err}"'],
                          env={**os.environ, "DRIVER": DRIVER}, encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    seen = child.before.replace("\r", "")
    lines = [ln for ln in seen.splitlines() if ln.startswith("llmrt build:")]
    progress = [re.match(r"llmrt build: build demo: (\d+)% \((\d+)/40 steps\), 0m\d\ds elapsed, "
                         r"about 0m\d\ds left$", ln) for ln in lines[:-1]]
    assert all(progress) and 2 <= len(progress) <= 4, lines
    percents = [int(m[1]) for m in progress if m]
    assert percents == sorted(percents) and percents[0] >= 25  # nothing in the first 5 s
    assert lines[-1].startswith("llmrt build: build demo: done in 0m1")
    # the raw build output goes to the captured stderr (pip shows it on failure), not the tty
    captured = err.read_text()
    assert "[40/40] Building CXX obj/40.o" in captured
    assert "Building CXX" not in seen


def test_without_a_terminal_progress_goes_to_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True,
                          start_new_session=True, timeout=60)  # no controlling terminal
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"llmrt build: build demo: \d+% \(\d+/40 steps\)", proc.stderr)
    assert "llmrt build: build demo: done in " in proc.stderr


def test_a_failing_step_raises_with_its_output(tmp_path):
    failing = "print('[1/2] cc x.c'); print('x.c:1: error: boom'); raise SystemExit(3)"
    driver = DRIVER.replace(repr(FAKE_NINJA), repr(failing))
    proc = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True,
                          start_new_session=True, timeout=60)
    assert proc.returncode != 0
    assert "x.c:1: error: boom" in proc.stderr
    assert "CalledProcessError" in proc.stderr and "exit status 3" in proc.stderr


@pytest.mark.slow
def test_pip_install_shows_build_progress_on_the_terminal(tmp_path):
    """The real thing: ``pip`` building llmrt from a copy of this checkout, in a terminal. The
    CMake build is cached (same source and flags), so this is the short path, but the lines reach
    the terminal through pip's capture exactly as a cold build's do."""
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    cmd = (f'"{sys.executable}" -m pip wheel --no-deps --no-build-isolation -w "{tmp_path}/w" '
           f'"{src}"')
    child = pexpect.spawn("/bin/sh", ["-c", cmd], encoding="utf-8", timeout=900)
    child.expect(pexpect.EOF)
    child.close()
    seen = child.before.replace("\r", "")
    assert child.exitstatus == 0, seen[-3000:]
    assert "llmrt build: build llama.cpp: done in " in seen
    assert "llmrt build: llama.cpp is built; compiling the cffi binding" in seen
    assert list((tmp_path / "w").glob("llmrt-*.whl"))
