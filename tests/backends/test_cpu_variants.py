"""The CPU variant is chosen by running it: crashing variants are rejected."""

from __future__ import annotations

from pathlib import Path

from llmrt.backends import cpu_variants
from llmrt.runtime import native


def test_crashing_variant_is_rejected_and_next_one_chosen(variant_dir: Path):
    chosen, verdicts = cpu_variants.choose(variant_dir)
    assert [v.variant for v in verdicts] == ["sapphirerapids", "x64"]
    assert not verdicts[0].ok and "SIGILL" in verdicts[0].reason
    assert chosen is not None and chosen.variant == "x64" and chosen.ok
    # cached: the second call probes nothing and agrees
    again, cached = cpu_variants.choose(variant_dir)
    assert again == chosen and cached == verdicts


def test_real_choice_generates(smollm2):
    """The variant chosen on this machine ran the probe and now runs the model."""
    assert native.cpu_variant() is not None
    assert smollm2.generate("Hello", num_predict=3, temperature=0).eval_count == 3


def test_forced_variant(variant_dir: Path):
    chosen, _ = cpu_variants.choose(variant_dir, forced="x64")
    assert chosen.variant == "x64" and "forced" in chosen.reason
    none, verdicts = cpu_variants.choose(variant_dir, forced="nonesuch")
    assert none is None and "no such" in verdicts[0].reason
