"""Embeddings: one pooled vector per input, optionally L2-normalized."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .batch import Batch
from .errors import ContextOverflow
from .vectors import normalize

if TYPE_CHECKING:
    from .context import Context


def embed(ctx: Context, texts: list[str], *, normalized: bool = True, truncate: bool = True,
          ) -> tuple[list[list[float]], int]:
    """Embed each text (one at a time on sequence 0); return (vectors, prompt tokens used).

    The context must have been made with ``embeddings=True`` and a pooling type (see
    ``pooling_for``).
    """
    tok = ctx.model.tokenizer
    limit = min(ctx.n_ctx, ctx.n_batch)
    out: list[list[float]] = []
    used = 0
    with Batch(limit, 1) as batch:
        for text in texts:
            tokens = tok.tokenize(text, add_special=True, parse_special=False)
            if len(tokens) > limit:
                if not truncate:
                    raise ContextOverflow(f"input is {len(tokens)} tokens; the limit is {limit}")
                tokens = tokens[:limit]
            if not tokens:
                tokens = [tok.bos] if tok.bos >= 0 else []
            ctx.seq_rm(-1)
            batch.clear()
            batch.add_run(tokens, 0, 0, last_output=True)
            ctx.decode(batch)
            vec = ctx.pooled_embedding(0)
            out.append(normalize(vec) if normalized else vec)
            used += len(tokens)
        ctx.seq_rm(-1)
    return out, used


def pooling_for(metadata: dict[str, str]) -> str:
    """The model's own pooling type if its GGUF names one, else mean pooling."""
    arch = metadata.get("general.architecture", "")
    return "unspecified" if f"{arch}.pooling_type" in metadata else "mean"
