"""Cancel a request's handler the moment its client disconnects.

Starlette notices a disconnect only while a ``StreamingResponse`` is sending. A handler that is
still waiting for its first token (a long prompt's prefill) or for a whole ``stream: false``
answer would run on for a client that has gone. This ASGI middleware reads the connection's
messages itself, hands them to the app through a queue, and cancels the app when
``http.disconnect`` arrives: the cancellation reaches the engine, which drops the sequence and
stops a running prompt decode (llama.cpp's abort callback).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("llmrt.api")


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # unbounded: the pump must never block, or it could not see the disconnect
        to_app, from_pump = anyio.create_memory_object_stream[Message](math.inf)
        responded = False

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.body" and not message.get("more_body"):
                responded = True
            await send(message)

        async with to_app, from_pump, anyio.create_task_group() as tg:

            async def pump() -> None:
                while True:
                    message = await receive()
                    await to_app.send(message)
                    if message["type"] == "http.disconnect":
                        if not responded:
                            log.info("%s %s: the client disconnected; request cancelled",
                                     scope.get("method"), scope.get("path"))
                            tg.cancel_scope.cancel()
                        return

            tg.start_soon(pump)
            await self.app(scope, _receiver(from_pump), tracking_send)
            tg.cancel_scope.cancel()


def _receiver(stream: Any) -> Receive:
    async def receive() -> Message:
        try:
            return await stream.receive()
        except anyio.EndOfStream:
            return {"type": "http.disconnect"}

    return receive
