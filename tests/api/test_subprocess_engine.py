"""The llama-server child engine: a killed child fails only its request; no orphans remain."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx

from tests.api.conftest import Server

LONG = {"model": "smollm2:135m", "prompt": "1, 2, 3, 4, 5,", "raw": True,
        "options": {"temperature": 0, "num_predict": 400}}


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.split(")")[-1].split()[0] == "Z"  # a zombie is dead too


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def test_killed_child_fails_only_its_stream_and_shutdown_leaves_no_child():
    srv = Server(LLMRT_ENGINE="subprocess")
    seen: list[int] = []
    try:
        lines = []
        with httpx.stream("POST", srv.url + "/api/generate", json=LONG, timeout=120) as r:
            for line in r.iter_lines():
                if not line:
                    continue
                lines.append(json.loads(line))
                if len(lines) == 3:
                    (child,) = _children(srv.proc.pid)
                    seen.append(child)
                    os.kill(child, signal.SIGKILL)
        assert "error" in lines[-1] and not lines[-1].get("done")
        assert "llama-server" in lines[-1]["error"]
        r = httpx.post(srv.url + "/api/generate", timeout=120,
                       json={**LONG, "stream": False, "options": {"num_predict": 4}})
        assert r.status_code == 200 and r.json()["eval_count"] == 4
        (child,) = _children(srv.proc.pid)
        assert child != seen[0]
        seen.append(child)
    finally:
        srv.close()  # SIGTERM, as a service manager would
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(p) for p in seen):
        time.sleep(0.1)
    assert all(_gone(p) for p in seen)
