"""A client that leaves while its long prompt is being decoded stops that decode.

Before, the route waited for the first token before it could notice anything, so a 3,000-token
prefill ran to its end for nobody, holding the slot. Now the disconnect cancels the request at
once (api/disconnect.py) and the engine aborts the running llama_decode (llama.cpp's abort
callback). Measured here and printed: the time from the hang-up until the slot is free again.
"""

from __future__ import annotations

import json
import re
import socket
import time

import httpx
import pytest

from .conftest import Server

PROMPT_WORDS = 3000


def _log(srv: Server) -> str:
    srv.log.seek(0)
    return srv.log.read().decode(errors="replace")


def _wait_for(srv: Server, pattern: str, timeout: float = 120) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if m := re.search(pattern, _log(srv)):
            return m
        time.sleep(0.01)
    raise AssertionError(f"{pattern!r} not in the server log:\n{_log(srv)[-3000:]}")


@pytest.mark.slow
@pytest.mark.parametrize("stream", [True, False])
def test_hang_up_during_a_3000_token_prompt_stops_its_prefill(stream: bool):
    srv = Server(LLMRT_NUM_PARALLEL="1", LLMRT_CONTEXT_LENGTH="4096", LLMRT_ENGINE="inprocess")
    try:
        small = {"model": "smollm2:135m", "prompt": "Hi", "stream": False,
                 "options": {"num_predict": 1}}
        assert httpx.post(srv.url + "/api/generate", json=small, timeout=120).status_code == 200
        body = json.dumps({"model": "smollm2:135m", "prompt": "word " * PROMPT_WORDS,
                           "stream": stream, "options": {"num_predict": 1}}).encode()
        sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        # its prefill has begun (the template adds a few tokens around the words)
        n_prompt = int(_wait_for(srv, r"slot 0: (3\d\d\d) prompt tokens")[1])
        t0 = time.monotonic()
        sock.close()
        m = _wait_for(srv, r"prompt decode stopped for a cancelled request \((\d+) of (\d+) ")
        t_abort = time.monotonic() - t0
        assert "/api/generate: the client disconnected; request cancelled" in _log(srv)
        # the slot is free: the next request is admitted and answered
        r = httpx.post(srv.url + "/api/generate", json=small, timeout=120)
        t_free = time.monotonic() - t0
        assert r.status_code == 200 and r.json()["done"]
        left = int(m[1])
        assert 0 < left <= int(m[2]) <= n_prompt  # prompt tokens that were never decoded
        print(f"\nstream={stream}: decode stopped {t_abort * 1000:.0f} ms after the hang-up, "
              f"{left} of {n_prompt} prompt tokens left undecoded; the next request was "
              f"answered {t_free * 1000:.0f} ms after the hang-up")
    finally:
        srv.close()
