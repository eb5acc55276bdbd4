"""Tokenizer over a model's vocabulary, and an incremental UTF-8-safe detokenizer."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING, Any

from ._bindings import vocab as _v

if TYPE_CHECKING:
    from .model import Model


class Tokenizer:
    """Tokenize/detokenize with the model's vocabulary. Borrowed from its Model (no own handle)."""

    def __init__(self, model: Model, vocab: Any) -> None:
        self._model = model
        self._vocab = vocab
        self.n_vocab = _v.n_tokens(vocab)
        sp = _v.specials(vocab)
        self.bos, self.eos, self.eot = sp["bos"], sp["eos"], sp["eot"]
        self.add_bos = _v.add_bos(vocab)
        self.vocab_type = _v.vocab_type(vocab)

    @property
    def vocab(self) -> Any:
        self._model._live()  # raises once the model is closed
        return self._vocab

    def tokenize(self, text: str, *, add_special: bool = True,
                 parse_special: bool = False) -> list[int]:
        return _v.tokenize(self.vocab, text, add_special, parse_special)

    def encode_prompt(self, text: str) -> list[int]:
        """A prompt as llama-server tokenizes it: specials added and parsed, and one BOS when
        the rendered template already starts with it."""
        tokens = self.tokenize(text, add_special=True, parse_special=True)
        if len(tokens) > 1 and tokens[0] == self.bos and tokens[1] == self.bos:
            tokens = tokens[1:]
        return tokens

    def detokenize(self, tokens: list[int], *, remove_special: bool = False,
                   unparse_special: bool = False) -> str:
        raw = _v.detokenize(self.vocab, list(tokens), remove_special, unparse_special)
        return raw.decode("utf-8", "replace")

    def piece(self, token: int, *, special: bool = False) -> bytes:
        return _v.piece(self.vocab, token, special)

    def is_eog(self, token: int) -> bool:
        return _v.is_eog(self.vocab, token)

    def token_text(self, token: int) -> str:
        return _v.token_text(self.vocab, token)

    def decoder(self) -> PieceDecoder:
        return PieceDecoder(self)


class PieceDecoder:
    """Turns tokens into text pieces without ever splitting a UTF-8 character."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tok = tokenizer
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self, token: int) -> str:
        return self._utf8.decode(self._tok.piece(token))

    def flush(self) -> str:
        return self._utf8.decode(b"", final=True)
