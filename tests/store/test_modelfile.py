"""Modelfiles: Ollama's syntax, errors naming the line, and print -> parse round trips."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from llmrt.runtime.errors import ModelfileError
from llmrt.runtime.store import Message, Modelfile, format_modelfile, parse_modelfile
from llmrt.runtime.store.modelfile import (
    Command,
    format_commands,
    parse_commands,
    quote,
)

EXAMPLE = '''\ufeff# a comment
from  smollm2:135m
PARAMETER temperature 0.5
parameter stop <|im_end|>
PARAMETER stop "  padded  "
PARAMETER num_ctx 2048
PARAMETER use_mmap false
PARAMETER mirostat 1
TEMPLATE """{{ if .System }}{{ .System }}
{{ end }}{{ .Prompt }}"""
  SyStEm You are "terse".
MESSAGE user Is it "quoted"?
message assistant """Yes,
on two lines."""
ADAPTER ./lora.gguf
LICENSE """MIT
"""
LICENSE Apache-2.0
'''


def test_parse_reads_every_command():
    mf = parse_modelfile(EXAMPLE)
    assert mf.from_ == "smollm2:135m"
    assert mf.parameters == {"temperature": 0.5, "stop": ["<|im_end|>", "  padded  "],
                             "num_ctx": 2048, "use_mmap": False}  # mirostat: deprecated, dropped
    assert mf.template == "{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}"
    assert mf.system == 'You are "terse".'
    assert mf.messages == [Message("user", 'Is it "quoted"?'),
                           Message("assistant", "Yes,\non two lines.")]
    assert mf.adapters == ["./lora.gguf"]
    assert mf.license == ["MIT\n", "Apache-2.0"]


def test_values_close_at_the_first_line_end_after_their_quote():
    # as Ollama's parser: a quote opened on a line runs until a line that ends with it
    cmds = parse_commands('FROM x\nSYSTEM "a\nb" c\nd"\nTEMPLATE t')
    assert [(c.name, c.value) for c in cmds] == [
        ("from", "x"), ("system", 'a\nb" c\nd'), ("template", "t")]
    assert [c.line for c in cmds] == [1, 2, 5]


def test_crlf_files_read_like_lf_files():
    assert parse_modelfile(EXAMPLE.replace("\n", "\r\n")) == parse_modelfile(EXAMPLE)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("FROM x\nFOO bar", 2, "command must be one of"),
    ("FROM x\n\n\nPARAMETER nope 1", 4, "unknown parameter 'nope'"),
    ("FROM x\nPARAMETER top_k many", 2, "invalid int value 'many'"),
    ("FROM x\nPARAMETER temperature hot", 2, "invalid float value"),
    ("FROM x\nPARAMETER use_mmap maybe", 2, "invalid bool value"),
    ("FROM x\nPARAMETER top_k", 2, "needs a name and a value"),
    ("FROM x\nMESSAGE robot hi", 2, "message role must be one of"),
    ("FROM x\nMESSAGE user", 2, "needs a role and a value"),
    ('FROM x\nSYSTEM """never\nclosed', 2, "unterminated"),
    ("FROM x\n#ok\n  TEMPLATE\tfine\nSYSTEM: x", 4, "command must be one of"),
])
def test_errors_name_the_line(text, line, message):
    with pytest.raises(ModelfileError, match=message) as err:
        parse_modelfile(text)
    assert err.value.line == line
    assert str(err.value).startswith(f"(line {line}): ")


def test_a_modelfile_needs_from():
    with pytest.raises(ModelfileError, match="no FROM line"):
        parse_modelfile("SYSTEM hi\n")


def test_printing_follows_ollamas_layout():
    mf = Modelfile(from_="/m/blobs/sha256-x", parameters={"stop": ["<a>", "b c"],
                                                           "temperature": 0.7},
                   template="{{ .Prompt }}", system="Multi\nline", license=["MIT"])
    assert format_modelfile(mf, header="made here\n") == (
        "# made here\n\nFROM /m/blobs/sha256-x\nTEMPLATE {{ .Prompt }}\n"
        'SYSTEM """Multi\nline"""\nPARAMETER stop <a>\nPARAMETER stop b c\n'
        "PARAMETER temperature 0.7\nLICENSE MIT\n")


# ---- round trips ---------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", blacklist_characters="\r"), max_size=60)
words = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
commands = st.lists(st.one_of(
    st.builds(Command, st.sampled_from(["from", "template", "system", "adapter", "license",
                                        "renderer", "parser", "requires"]), texts),
    st.builds(Command, st.just("parameter"), texts, words),
    st.builds(Command, st.just("message"), texts, st.sampled_from(["system", "user",
                                                                   "assistant"])),
), max_size=8)


def unwritable(value: str) -> bool:
    """The one thing no quoting can hold: a line (not the last) ending in triple quotes,
    which closes a triple-quoted value early."""
    return any(line.rstrip(" \t").endswith('"""') for line in value.split("\n")[:-1])


def test_unwritable_values_are_refused_not_mangled():
    with pytest.raises(ModelfileError):
        quote('a """\nb')
    assert parse_commands("SYSTEM " + quote('"""x\ny"""')) == [Command("system", '"""x\ny"""')]


@given(commands)
def test_printed_commands_parse_back_identically(cmds):
    try:
        text = format_commands(cmds)
    except ModelfileError:
        assert any(unwritable(c.value) for c in cmds)
        return
    assert parse_commands(text) == cmds


@given(texts)
def test_quote_is_exact_whenever_it_answers(value):
    try:
        quoted = quote(value)
    except ModelfileError:
        assert unwritable(value)
        return
    assert parse_commands(f"SYSTEM {quoted}") == [Command("system", value)]


parameters = st.fixed_dictionaries({}, optional={
    "temperature": st.floats(allow_nan=False, allow_infinity=False, width=32),
    "top_k": st.integers(-5, 10**6), "num_ctx": st.integers(1, 1 << 20),
    "use_mmap": st.booleans(), "stop": st.lists(texts, min_size=1, max_size=3),
    "seed": st.integers(-1, 2**31),
})
modelfiles = st.builds(
    Modelfile, from_=words, parameters=parameters, template=st.none() | texts,
    system=st.none() | texts, adapters=st.lists(words, max_size=2),
    license=st.lists(texts, max_size=2),
    messages=st.lists(st.builds(Message, st.sampled_from(["system", "user", "assistant"]),
                                texts), max_size=3))


@given(modelfiles)
def test_modelfile_round_trip(mf):
    try:
        text = str(mf)
    except ModelfileError:
        assume(False)
    assert parse_modelfile(text) == mf
