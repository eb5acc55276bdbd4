"""Model names: Ollama's parsing, defaults, validity, and case-insensitive identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llmrt.runtime.errors import InvalidName
from llmrt.runtime.store.names import Name, is_valid_name, parse_name

FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
REST = FIRST + "-."


def part(rest: str = REST, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(FIRST),
                     st.text(rest, max_size=max_size))


hosts = st.one_of(part(), st.builds(lambda h, p: f"{h}:{p}", part(), st.integers(1, 65535)))
namespaces = part(FIRST + "-")
names = st.builds(Name, hosts, namespaces, part(), part())


@pytest.mark.parametrize(("text", "parts"), [
    ("llama3.2", ("registry.ollama.ai", "library", "llama3.2", "latest")),
    ("llama3.2:1b", ("registry.ollama.ai", "library", "llama3.2", "1b")),
    ("alice/tiny", ("registry.ollama.ai", "alice", "tiny", "latest")),
    ("example.com/alice/tiny:v2", ("example.com", "alice", "tiny", "v2")),
    ("127.0.0.1:5000/ns/m:t", ("127.0.0.1:5000", "ns", "m", "t")),
    ("localhost:5000/ns/m", ("localhost:5000", "ns", "m", "latest")),
    ("http://localhost:5000/ns/m:t", ("localhost:5000", "ns", "m", "t")),
])
def test_parse_fills_ollamas_defaults(text, parts):
    assert parse_name(text).parts == parts


def test_scheme_is_kept_but_not_part_of_identity():
    n = parse_name("http://localhost:5000/ns/m:t")
    assert n.scheme == "http"
    assert n == parse_name("localhost:5000/ns/m:t")


@pytest.mark.parametrize("text", [
    "", ":tag", "model:", "/model", "ns/", "a/b/c/d/e", "../etc/passwd", "a/../b", "../../x:y",
    "/abs/path", "model:../x", "ns.dot/model", "-model", ".hidden", "m:-tag", "m:t/x",
    "ftp://host/ns/m", "a" * 81, "m:" + "t" * 81, "mod el", "m\x00x", "ns/mo/del:t:x",
])
def test_invalid_names_are_refused(text):
    with pytest.raises(InvalidName):
        parse_name(text)
    assert not is_valid_name(text)


@given(names)
def test_printing_then_parsing_gives_the_same_name(name):
    assert parse_name(str(name)) == name


@given(names)
def test_display_shortest_parses_back_to_the_same_name(name):
    assert parse_name(name.display_shortest()) == name


def test_display_shortest_drops_only_defaults():
    assert parse_name("llama3.2").display_shortest() == "llama3.2:latest"
    assert parse_name("alice/tiny:v1").display_shortest() == "alice/tiny:v1"
    assert parse_name("h:1/library/m:t").display_shortest() == "h:1/library/m:t"


@given(names)
def test_lookup_identity_ignores_case(name):
    upper = parse_name(str(name).upper())
    lower = parse_name(str(name).lower())
    assert upper.key == lower.key == name.key


@given(st.text(max_size=120))
def test_any_accepted_name_stays_inside_the_store(text):
    try:
        name = parse_name(text)
    except InvalidName:
        return
    for p in name.parts:
        assert p and p not in (".", "..") and "/" not in p and "\\" not in p and "\x00" not in p
        assert p[0] not in "-."
