"""llama_vocab: tokenize, detokenize, pieces, special tokens."""

from __future__ import annotations

import threading
from typing import Any

from ..errors import TokenizeError
from ._lib import cstr, ffi, lib

_tls = threading.local()


def _piece_buf() -> Any:
    buf = getattr(_tls, "buf", None)
    if buf is None:
        buf = _tls.buf = ffi.new("char[]", 256)
    return buf


def n_tokens(vocab: Any) -> int:
    return lib.llama_vocab_n_tokens(vocab)


def specials(vocab: Any) -> dict[str, int]:
    return {"bos": lib.llama_vocab_bos(vocab), "eos": lib.llama_vocab_eos(vocab),
            "eot": lib.llama_vocab_eot(vocab)}


def add_bos(vocab: Any) -> bool:
    return bool(lib.llama_vocab_get_add_bos(vocab))


def add_eos(vocab: Any) -> bool:
    return bool(lib.llama_vocab_get_add_eos(vocab))


def vocab_type(vocab: Any) -> int:
    return lib.llama_vocab_type(vocab)


def is_eog(vocab: Any, token: int) -> bool:
    return bool(lib.llama_vocab_is_eog(vocab, token))


def token_text(vocab: Any, token: int) -> str:
    return cstr(lib.llama_vocab_get_text(vocab, token))


def tokenize(vocab: Any, text: str, add_special: bool, parse_special: bool) -> list[int]:
    data = text.encode("utf-8")
    cap = len(data) + 8
    buf = ffi.new("llama_token[]", cap)
    n = lib.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
    if n < 0:
        if n == -(2**31):
            raise TokenizeError("tokenization overflowed")
        cap = -n
        buf = ffi.new("llama_token[]", cap)
        n = lib.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
        if n < 0:
            raise TokenizeError(f"llama_tokenize failed ({n})")
    return list(ffi.unpack(buf, n))


def detokenize(vocab: Any, tokens: list[int], remove_special: bool,
               unparse_special: bool) -> bytes:
    if not tokens:
        return b""
    arr = ffi.new("llama_token[]", tokens)
    cap = len(tokens) * 8 + 16
    buf = ffi.new("char[]", cap)
    n = lib.llama_detokenize(vocab, arr, len(tokens), buf, cap, remove_special, unparse_special)
    if n < 0:
        cap = -n
        buf = ffi.new("char[]", cap)
        n = lib.llama_detokenize(vocab, arr, len(tokens), buf, cap, remove_special,
                                 unparse_special)
        if n < 0:
            raise TokenizeError(f"llama_detokenize failed ({n})")
    return ffi.unpack(buf, n)


def piece(vocab: Any, token: int, special: bool) -> bytes:
    """The raw bytes of one token (may be part of a UTF-8 character)."""
    pbuf = _piece_buf()
    n = lib.llama_token_to_piece(vocab, token, pbuf, 256, 0, special)
    if n < 0:
        buf = ffi.new("char[]", -n)
        n = lib.llama_token_to_piece(vocab, token, buf, -n, 0, special)
        if n < 0:
            raise TokenizeError(f"llama_token_to_piece failed for token {token}")
        return ffi.unpack(buf, n)
    return ffi.unpack(pbuf, n)
