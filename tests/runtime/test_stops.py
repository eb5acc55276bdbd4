from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from llmrt.runtime.stops import StopMatcher


def _run(pieces: list[str], stops: list[str]) -> tuple[str, bool]:
    m = StopMatcher(stops)
    out = []
    for p in pieces:
        text, hit = m.push(p)
        out.append(text)
        if hit:
            return "".join(out), True
    return "".join(out) + m.flush(), False


@given(st.lists(st.text(alphabet="ab<|>", max_size=6), max_size=12),
       st.lists(st.text(alphabet="ab<|>", min_size=1, max_size=4), max_size=3))
def test_emits_exactly_the_text_before_the_first_stop(pieces, stops):
    full = "".join(pieces)
    got, hit = _run(pieces, stops)
    cuts = [i for s in stops if (i := full.find(s)) >= 0]
    if cuts:
        # the earliest stop that is complete when its last piece arrives
        assert hit
        assert got == full[: min(cuts)] or any(got == full[:c] for c in cuts)
        assert not any(s in got for s in stops)
    else:
        assert not hit and got == full


def test_stop_split_across_pieces():
    assert _run(["Hello <|e", "nd|> more"], ["<|end|>"]) == ("Hello ", True)
    assert _run(["a<", "b"], ["<|"]) == ("a<b", False)
