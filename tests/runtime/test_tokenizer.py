"""Tokenizer properties on the real vocabularies (hypothesis), and UTF-8-safe piece decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llmrt.runtime.llm import LLM

# Any assigned Unicode text with ordinary white space. Surrogates cannot be encoded, and
# llama.cpp's pre-tokenizer drops or mangles some C0 controls (U+0016 -> no token) and
# unassigned/private-use code points (U+40000 -> 3 x U+FFFD): the round trip is claimed for
# real text, not for every code point.
texts = st.text(st.characters(blacklist_categories=("Cs", "Cn", "Co", "Cc")) |
                st.sampled_from("\t\n\r "), max_size=80)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_smollm2_byte_level_bpe_round_trips_exactly(smollm2: LLM, text: str):
    tok = smollm2.model.tokenizer
    assert tok.detokenize(tok.tokenize(text, add_special=False)) == text


@settings(max_examples=150, deadline=None)
@given(texts)
def test_gemma_spm_tokenization_is_stable(gemma: LLM, text: str):
    """Gemma's SPM tokenizer: tokenizing what it detokenizes gives the same tokens back."""
    tok = gemma.model.tokenizer
    ids = tok.tokenize(text, add_special=False)
    assert tok.tokenize(tok.detokenize(ids), add_special=False) == ids


@pytest.mark.parametrize("text", ["héllo 🎉 世界 ñandú", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ – 日本語のテキスト"])
def test_piece_decoder_never_splits_a_character(any_llm: LLM, text: str):
    tok = any_llm.model.tokenizer
    ids = tok.tokenize(text, add_special=False)
    raw = [tok.piece(t) for t in ids]
    assert any(not _valid_utf8(p) for p in raw) or len(ids) > 0  # multibyte chars exist
    dec = tok.decoder()
    pieces = [dec.feed(t) for t in ids] + [dec.flush()]
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)


def test_special_tokens_parse_only_when_asked(smollm2: LLM):
    tok = smollm2.model.tokenizer
    as_special = tok.tokenize("<|im_start|>", add_special=False, parse_special=True)
    as_text = tok.tokenize("<|im_start|>", add_special=False, parse_special=False)
    assert len(as_special) == 1 and len(as_text) > 1


def _valid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
