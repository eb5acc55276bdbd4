"""The CLI talks to a server over HTTP, like `ollama` does; with none listening, it starts one
in-process (embedded mode) on a free loopback port and says so on stderr."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from llmrt.api.config import env, parse_host


class CLIError(Exception):
    """One line for the user; the command exits non-zero."""


def server_url() -> str:
    raw = env("HOST")
    host, port = parse_host(raw)
    scheme = "https" if raw and raw.startswith("https://") else "http"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"{scheme}://{host}:{port}"


def _listening(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


class _Embedded:
    """A real uvicorn server on a background thread, stopped at exit."""

    def __init__(self) -> None:
        import uvicorn

        from llmrt.api.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="error",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="embedded")
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise CLIError("could not start the embedded server")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


class Client:
    def __init__(self, *, embedded_ok: bool = False) -> None:
        self.url = server_url()
        self._embedded: _Embedded | None = None
        if not _listening(self.url):
            if not embedded_ok:
                raise CLIError(f"could not connect to llmrt at {self.url}: is `llmrt serve` "
                               "running?")
            print(f"llmrt: no server at {self.url}; running in-process", file=sys.stderr)
            self._embedded = _Embedded()
            self.url = self._embedded.url
        self.http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(None, connect=5))

    def close(self) -> None:
        self.http.close()
        if self._embedded is not None:
            self._embedded.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str) -> Any:
        return self._check(self.http.get(path)).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(self.http.post(path, json=body)).json()

    def send(self, path: str, body: dict[str, Any]) -> None:
        """POST where only the status matters (the body may be empty)."""
        self._check(self.http.post(path, json=body))

    def delete(self, path: str, body: dict[str, Any]) -> None:
        self._check(self.http.request("DELETE", path, json=body))

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        with self.http.stream("POST", path, json=body) as r:
            if r.status_code >= 400:
                r.read()
                self._check(r)
            for line in r.iter_lines():
                if not line:
                    continue
                rec = json.loads(line)
                if "error" in rec:
                    raise CLIError(rec["error"])
                yield rec

    @staticmethod
    def _check(r: httpx.Response) -> httpx.Response:
        if r.status_code >= 400:
            try:
                msg = r.json().get("error", r.text)
            except ValueError:
                msg = r.text or r.reason_phrase
            raise CLIError(str(msg))
        return r


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))
