"""A small distribution-v2 registry (read side) for the cases docker-registry does not cover.

``mode`` picks how blob GETs are answered:

* ``ranges``   200/206 straight from the registry (Starlette's FileResponse honours Range)
* ``whole``    200 with the whole blob, Range ignored
* ``redirect`` 307 to ``storage_url`` (another host), which serves the bytes
* ``flaky``    the first GET of each range sends 64 KiB and drops the connection
* ``stall``    the first GET of the model blob sends 64 KiB and then goes silent

``token_url`` set: every /v2 request needs ``Bearer <token>``; the 401 names a realm at
``token_url`` (another host), which hands out the token for the right Basic credentials.
Served by uvicorn in a thread on a loopback address (``ServerThread``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

TOKEN = "let-me-in"


@dataclass
class RegistryState:
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)
    blobs: dict[str, Path] = field(default_factory=dict)
    mode: str = "ranges"
    storage_url: str = ""
    token_url: str = ""
    credentials: tuple[str, str] = ("alice", "secret")
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    failed_once: set[str] = field(default_factory=set)
    model_digest: str = ""


def make_app(state: RegistryState) -> Starlette:
    def record(request: Request) -> None:
        state.requests.append((request.method, str(request.url), dict(request.headers)))

    def unauthorized(request: Request, repo: str) -> Response | None:
        if not state.token_url:
            return None
        if request.headers.get("authorization") == f"Bearer {TOKEN}":
            return None
        challenge = (f'Bearer realm="{state.token_url}",service="test-registry",'
                     f'scope="repository:{repo}:pull"')
        return JSONResponse({"errors": [{"code": "UNAUTHORIZED", "message": "token please"}]},
                            401, headers={"WWW-Authenticate": challenge})

    async def base(request: Request) -> Response:
        record(request)
        return unauthorized(request, "") or JSONResponse({})

    async def manifest(request: Request) -> Response:
        record(request)
        repo = f"{request.path_params['ns']}/{request.path_params['model']}"
        if denied := unauthorized(request, repo):
            return denied
        body = state.manifests.get((repo, request.path_params["tag"]))
        if body is None:
            return JSONResponse({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "no"}]}, 404)
        return Response(body, media_type="application/vnd.docker.distribution.manifest.v2+json")

    async def blob(request: Request) -> Response:
        record(request)
        repo = f"{request.path_params['ns']}/{request.path_params['model']}"
        if denied := unauthorized(request, repo):
            return denied
        digest = request.path_params["digest"]
        path = state.blobs.get(digest)
        if path is None:
            return JSONResponse({"errors": [{"code": "BLOB_UNKNOWN", "message": "no"}]}, 404)
        return serve_blob(request, digest, path)

    async def storage(request: Request) -> Response:
        record(request)
        digest = request.path_params["digest"]
        return FileResponse(state.blobs[digest])

    def serve_blob(request: Request, digest: str, path: Path) -> Response:
        mode = state.mode
        if mode == "redirect":
            return RedirectResponse(f"{state.storage_url}/storage/{digest}", 307)
        if mode == "whole":
            return StreamingResponse(_file_chunks(path, 0, path.stat().st_size),
                                     headers={"Content-Length": str(path.stat().st_size)})
        rng = request.headers.get("range", "")
        if rng and rng != "bytes=0-0":
            # flaky: the first GET of each part (same range end); stall: the blob's first GET
            key = f"{digest}:{rng.rpartition('-')[2]}" if mode == "flaky" else digest
            chosen = mode == "flaky" or (mode == "stall" and digest == state.model_digest)
            if chosen and key not in state.failed_once:
                state.failed_once.add(key)
                body = _broken(path, rng) if mode == "flaky" else _stalled(path, rng)
                return StreamingResponse(body, status_code=206)
        return FileResponse(path)

    async def token(request: Request) -> Response:
        record(request)
        import base64

        user, password = state.credentials
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if request.headers.get("authorization") != want:
            return JSONResponse({"errors": [{"code": "DENIED", "message": "who are you"}]}, 401)
        return JSONResponse({"token": TOKEN})

    return Starlette(routes=[
        Route("/v2/", base),
        Route("/v2/{ns}/{model}/manifests/{tag}", manifest, methods=["GET", "HEAD"]),
        Route("/v2/{ns}/{model}/blobs/{digest}", blob, methods=["GET", "HEAD"]),
        Route("/storage/{digest}", storage),
        Route("/token", token),
    ])


def _range(path: Path, header: str) -> tuple[int, int]:
    start, _, end = header.removeprefix("bytes=").partition("-")
    return int(start or 0), int(end) if end else path.stat().st_size - 1


async def _file_chunks(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = end - start
        while left > 0 and (data := f.read(min(1 << 20, left))):
            left -= len(data)
            yield data


async def _broken(path: Path, header: str) -> AsyncIterator[bytes]:
    start, end = _range(path, header)
    async for chunk in _file_chunks(path, start, min(end + 1, start + (64 << 10))):
        yield chunk
    raise RuntimeError("test registry drops this connection on purpose")


async def _stalled(path: Path, header: str) -> AsyncIterator[bytes]:
    start, end = _range(path, header)
    async for chunk in _file_chunks(path, start, min(end + 1, start + (64 << 10))):
        yield chunk
    await anyio.sleep(3600)


class ServerThread:
    """uvicorn serving ``app`` on ``host:port`` from a daemon thread."""

    def __init__(self, app: Starlette, host: str, port: int, *, ssl_keyfile: str | None = None,
                 ssl_certfile: str | None = None) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="critical", lifespan="off",
                                ws="none", http="h11", timeout_graceful_shutdown=1,
                                ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test registry did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
