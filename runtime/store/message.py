"""A chat message as a model's ``messages`` layer stores it (Modelfile ``MESSAGE``)."""

from __future__ import annotations

import msgspec


class Message(msgspec.Struct, omit_defaults=True):
    role: str
    content: str = ""
    images: list[str] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(list[Message])
_encoder = msgspec.json.Encoder()


def decode_messages(data: bytes) -> list[Message]:
    return _decoder.decode(data)


def encode_messages(messages: list[Message]) -> bytes:
    return _encoder.encode(messages)
