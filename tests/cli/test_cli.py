"""The `llmrt` command as a person uses it: a real terminal (pty), pipes, a running server, and
embedded mode (no server listening)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pexpect
import pytest

from tests.api.conftest import Server
from tests.conftest import free_port

LLMRT = [sys.executable, "-m", "llmrt"]


def _env(url: str | None) -> dict[str, str]:
    """Point the CLI at ``url``, or at a port where nothing listens (embedded mode)."""
    host = url.removeprefix("http://") if url else f"127.0.0.1:{free_port()}"
    return {**os.environ, "LLMRT_HOST": host, "LLMRT_CONTEXT_LENGTH": "2048"}


def llmrt(*args: str, url: str | None, stdin: str | None = None,
          check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*LLMRT, *args], input=stdin, capture_output=True, text=True,
                          env=_env(url), timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_interactive_run_in_a_terminal():
    child = pexpect.spawn(LLMRT[0], [*LLMRT[1:], "run", "smollm2:135m"], env=_env(None),
                          encoding="utf-8", timeout=120, dimensions=(40, 120))
    try:
        child.expect("running in-process")
        child.expect(">>> ")
        child.sendline("/set parameter num_predict 12")
        child.expect("Set parameter 'num_predict' to '12'")
        child.expect(">>> ")
        child.sendline("/set parameter temperature 0")
        child.expect(">>> ")
        child.sendline("What is the capital of France?")
        child.expect(">>> ")
        answer = child.before.split("France?", 1)[1].strip()
        assert answer  # streamed text arrived before the next prompt
        child.sendline('"""Say the word')
        child.expect(r"\.\.\. ")
        child.sendline('hello."""')
        child.expect(">>> ")
        child.sendline("/bye")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_piped_stdin():
    out = llmrt("run", "smollm2:135m", url=None, stdin="What is the capital of France?")
    assert out.stdout.strip()
    assert "running in-process" in out.stderr


def test_verbose_prints_stats(server):
    out = llmrt("run", "smollm2:135m", "Hi", "--verbose", url=server.url)
    assert "eval rate:" in out.stderr and "prompt eval count:" in out.stderr
    assert "running in-process" not in out.stderr


def test_format_json(server, tmp_path):
    # deterministic and bounded: at the default temperature a long answer may be cut off by
    # the token limit mid-string, which no grammar can prevent
    mf = tmp_path / "Modelfile"
    mf.write_text("FROM smollm2:135m\nPARAMETER temperature 0\nPARAMETER num_predict 200\n")
    llmrt("create", "json-cat", "-f", str(mf), url=server.url)
    out = llmrt("run", "json-cat", "Describe a cat as JSON with keys name and age.",
                "--format", "json", url=server.url)
    assert isinstance(json.loads(out.stdout), dict)


@pytest.mark.parametrize("mode", ["server", "embedded"])
def test_list_and_show(mode, server):
    url = server.url if mode == "server" else None
    lst = llmrt("list", url=url).stdout
    assert lst.splitlines()[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert "smollm2:135m" in lst
    info = llmrt("show", "smollm2:135m", url=url).stdout
    assert "architecture" in info and "Q4_1" in info
    tmpl = llmrt("show", "smollm2:135m", "--template", url=url).stdout
    assert "im_start" in tmpl


def test_ps_and_stop(server):
    llmrt("run", "smollm2:135m", "Hi", "--keepalive", "10m", url=server.url)
    ps = llmrt("ps", url=server.url).stdout
    assert "smollm2:135m" in ps and "100% CPU" in ps and "from now" in ps
    llmrt("stop", "smollm2:135m", url=server.url)
    assert "smollm2:135m" not in llmrt("ps", url=server.url).stdout


def test_errors_are_one_line(server):
    bad = llmrt("run", "nonesuch:7b", "hi", url=server.url, check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        'Error: model "nonesuch:7b" not found, try pulling it first']
    down = llmrt("ps", url=None, check=False)  # ps needs a server: no embedded mode
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert down.stderr.startswith("Error: could not connect")


def test_version_and_doctor():
    assert "llmrt" in llmrt("--version", url=None).stdout
    report = json.loads(llmrt("doctor", "--json", url=None).stdout)
    assert report
