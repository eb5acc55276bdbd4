"""The Starlette application: routes, error handlers, CORS, lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import msgspec
from llmrt.runtime.catalog import Catalog
from llmrt.runtime.errors import LlmrtError
from llmrt.runtime.scheduler import Scheduler
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from . import models, ollama, openai
from .config import ServerConfig
from .disconnect import CancelOnDisconnect
from .errors import handle

DEFAULT_ORIGINS = [
    "http://localhost", "https://localhost", "http://127.0.0.1", "https://127.0.0.1",
    "http://0.0.0.0", "https://0.0.0.0", "app://*", "file://*", "tauri://*",
    "vscode-webview://*", "vscode-file://*",
]
ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|0\.0\.0\.0)(:\d+)?"


def routes() -> list[Route]:
    return [
        Route("/", ollama.root, methods=["GET", "HEAD"]),
        Route("/api/version", ollama.version, methods=["GET", "HEAD"]),
        Route("/api/generate", ollama.generate, methods=["POST"]),
        Route("/api/chat", ollama.chat, methods=["POST"]),
        Route("/api/embed", ollama.embed, methods=["POST"]),
        Route("/api/embeddings", ollama.embeddings, methods=["POST"]),
        Route("/api/ps", ollama.ps, methods=["GET"]),
        Route("/api/tags", models.tags, methods=["GET", "HEAD"]),
        Route("/api/show", models.show, methods=["POST"]),
        Route("/api/copy", models.copy, methods=["POST"]),
        Route("/api/delete", models.delete, methods=["DELETE"]),
        Route("/api/blobs/{digest}", models.blob_head, methods=["HEAD"]),
        Route("/api/blobs/{digest}", models.blob_post, methods=["POST"]),
        Route("/api/pull", models.pull_route, methods=["POST"]),
        Route("/api/push", models.push_route, methods=["POST"]),
        Route("/api/create", models.create_route, methods=["POST"]),
        Route("/v1/chat/completions", openai.chat_completions, methods=["POST"]),
        Route("/v1/completions", openai.completions, methods=["POST"]),
        Route("/v1/embeddings", openai.embeddings, methods=["POST"]),
        Route("/v1/models", openai.list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", openai.get_model, methods=["GET"]),
    ]


def create_app(config: ServerConfig | None = None, catalog: Catalog | None = None,
               scheduler: Scheduler | None = None) -> Starlette:
    config = config or ServerConfig.from_env()
    catalog = catalog or Catalog()
    scheduler = scheduler or Scheduler(catalog, config.scheduler)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(scheduler.expire_loop)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
                with anyio.CancelScope(shield=True):
                    await scheduler.close()

    middleware = [Middleware(CancelOnDisconnect),
                  Middleware(CORSMiddleware, allow_origins=DEFAULT_ORIGINS + config.origins,
                             allow_origin_regex=ORIGIN_REGEX, allow_methods=["*"],
                             allow_headers=["*"])]
    handlers = {LlmrtError: handle, msgspec.DecodeError: handle}
    app = Starlette(routes=routes(), middleware=middleware, lifespan=lifespan,
                    exception_handlers=handlers)
    app.state.config = config
    app.state.catalog = catalog
    app.state.scheduler = scheduler
    return app
