"""runtime/gotemplate against Go's own text/template, byte for byte: a corpus of templates over
the whole grammar and the builtins, and Hypothesis-generated templates over the grammar of
actions. Both sides render the same JSON data with Ollama's function set; a case Go refuses
(parse or execution error) must raise TemplateError here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmrt.runtime.errors import TemplateError
from llmrt.runtime.gotemplate import OLLAMA_FUNCS, Template

from tests.runtime.gotemplate_oracle.oracle import Oracle, build_oracle, mismatch

DATA: dict[str, Any] = {
    "Name": "Ada", "Empty": "", "Zero": 0, "One": 1, "Neg": -7, "Big": 12345678901,
    "Pi": 3.14159, "Half": 0.5, "Float": 1e7, "Tiny": 1.5e-7, "Whole": 2.0, "T": True,
    "F": False, "Nil": None, "Html": "<b>\"a&b\"</b> it's", "Uni": "héllo wörld ✓ \u2028",
    "List": [1, 2, 3], "Strs": ["a", "b", "c"], "Mixed": [1, "two", 3.5, None, True, [4]],
    "EmptyList": [], "Map": {"b": 2, "a": 1, "c": {"d": "deep"}}, "EmptyMap": {},
    "Messages": [
        {"Role": "system", "Content": "Be brief."},
        {"Role": "user", "Content": "Hello"},
        {"Role": "assistant", "Content": "Hi!", "ToolCalls": [
            {"Function": {"Name": "get", "Arguments": {"city": "Paris", "n": 2}}}]},
        {"Role": "user", "Content": "Bye"},
    ],
}

CORPUS = [
    # text, trimming, comments
    "plain text only", "", "{{/* a comment */}}x", "a {{- /* trimmed */ -}} b", "a  {{- 1 -}}  b",
    "a\n\n{{- .Name }}\n\n{{- .Name -}}\n\nz", "{{- .Name -}}", "x{{ 3 -}}\n  y",
    "{{ .Name }}{{/* c */}}", "{{-3}}", "{{ - 3}}", "{{/*x*/ }}", "{{ /* bad */ }}",
    "{{ .Name\n}}", "{{\n.Name\n}}",
    # literals
    "{{ 1 }} {{ -2 }} {{ +3 }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}",
    "{{ 1.5 }} {{ 1e3 }} {{ .5 }} {{ 1e21 }} {{ 1e-7 }} {{ 0x1p-2 }} {{ 123456789.0 }}",
    "{{ 'a' }} {{ '\\n' }} {{ 'é' }} {{ '\\u00e9' }} {{ '\\x41' }}",
    '{{ "a\\tb\\n" }}{{ `raw\\n` }}{{ "\\u00e9\\U0001F600\\x41\\101" }}', "{{ true }} {{ false }}",
    "{{ nil }}", '{{ "unterminated }}', "{{ `raw\nline` }}", "{{ 1e }}", "{{ 08 }}",
    "{{ 9223372036854775807 }}", "{{ 9223372036854775808 }}", "{{ 18446744073709551616 }}",
    # fields, maps, variables
    "{{ .Name }} {{ .Missing }} {{ .Nil }} {{ .Map.a }} {{ .Map.c.d }} {{ .Map.zz }}",
    "{{ .Missing.Deeper }}", "{{ .Nil.X }}", "{{ .Name.X }}", "{{ .List.X }}", "{{ . }}",
    "{{ .Map }} {{ .List }} {{ .Mixed }} {{ .EmptyMap }} {{ .EmptyList }}",
    "{{ $ }}", "{{ $.Name }}", "{{ $x := .Name }}{{ $x }}{{ $x = 3 }}{{ $x }}",
    "{{ $x := 1 }}{{ if .T }}{{ $x = 2 }}{{ $y := 5 }}{{ end }}{{ $x }}", "{{ $y }}",
    "{{ if .T }}{{ $y := 5 }}{{ end }}{{ $y }}", "{{ $x = 1 }}", "{{ $x := 1 }}{{ $x.Y }}",
    "{{ $m := .Map }}{{ $m.a }} {{ $m.c.d }}", "{{ $x, $y := 1 }}",
    # pipelines and parentheses
    '{{ .Name | printf "%s!" }}', '{{ "a" | printf "%s-%s" "b" }}', "{{ (1) }} {{ (.Map).a }}",
    "{{ (.Map.c).d }}", '{{ len (print "abc" "def") }}', "{{ .Name | len | print }}",
    "{{ 1 | 2 }}", "{{ .Name 1 }}", "{{ $ 1 }}", '{{ "x" | .Name }}', "{{ . | not }}",
    "{{ (nil).X }}", "{{ () }}", "{{ | }}", "{{ .Name | }}", "{{ }}", "{{ ( }}", "{{ ) }}",
    # control structures
    "{{ if .T }}yes{{ end }}{{ if .F }}no{{ else }}else{{ end }}",
    "{{ if .F }}1{{ else if .Zero }}2{{ else if .One }}3{{ else }}4{{ end }}",
    "{{ if .EmptyList }}a{{ else if .EmptyMap }}b{{ else if .Nil }}c{{ else }}d{{ end }}",
    "{{ if .Map }}{{ if .List }}{{ .Name }}{{ end }}{{ end }}", "{{ if }}{{ end }}",
    "{{ with .Map }}{{ .a }}{{ end }}{{ with .Missing }}x{{ else }}none{{ end }}",
    "{{ with $x := .Map.c }}{{ $x.d }}{{ .d }}{{ end }}",
    "{{ with .Zero }}{{ else }}{{ . }}{{ end }}",
    "{{ range .List }}{{ . }},{{ end }}", "{{ range $i, $v := .Strs }}{{ $i }}={{ $v }} {{ end }}",
    "{{ range $v := .Strs }}{{ $v }}{{ end }}", "{{ range .EmptyList }}x{{ else }}empty{{ end }}",
    "{{ range $k, $v := .Map }}{{ $k }}:{{ $v }};{{ end }}",
    "{{ range .Missing }}x{{ else }}e{{ end }}",
    "{{ range .Name }}{{ . }}{{ end }}", "{{ range .Pi }}{{ . }}{{ end }}",
    "{{ range .Mixed }}[{{ . }}]{{ end }}",
    "{{ range .Messages }}{{ .Role }}:{{ .Content }}|{{ end }}",
    "{{ range .List }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}",
    "{{ range .List }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}",
    "{{ break }}", "{{ range .List }}{{ else }}{{ break }}{{ end }}", "{{ continue }}",
    "{{ range $i, $v := .List }}{{ range $v2 := $.Strs }}{{ $i }}{{ $v2 }}{{ end }}{{ end }}",
    "{{ range $i, $v := .List }}{{ $i }}{{ end }}{{ $i }}",
    "{{ range $a, $b, $c := .List }}{{ end }}",
    "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Name }}{{ json .Function.Arguments }}"
    "{{ end }}{{ end }}",
    "{{ if .T }}", "{{ end }}", "{{ else }}", "{{ if .T }}{{ else }}{{ else }}{{ end }}",
    "{{ range .List }}{{ end }}{{ end }}", "{{ with }}{{ end }}",
    # define / template / block
    '{{ define "a" }}A{{ . }}{{ end }}{{ template "a" .Name }}{{ template "a" }}',
    '{{ template "nope" }}', '{{ block "b" .Map }}{{ .a }}{{ end }}-{{ template "b" .Map }}',
    '{{ define "r" }}{{ if . }}{{ len . }}{{ template "r" slice . 1 }}{{ end }}{{ end }}'
    '{{ template "r" .Strs }}',
    '{{ define "x" }}1{{ end }}{{ define "x" }}2{{ end }}', '{{ define "x" }}{{ end }}'
    '{{ define "x" }}2{{ end }}{{ template "x" }}', '{{ if .T }}{{ define "x" }}{{ end }}{{ end }}',
    '{{ define "v" }}{{ $ }}{{ end }}{{ $z := 1 }}{{ template "v" 5 }}', '{{ template .Name }}',
    '{{ define "inf" }}{{ template "inf" }}{{ end }}{{ template "inf" }}',
    # builtins: logic and comparison
    "{{ and 1 2 }} {{ and 0 2 }} {{ or 0 \"\" }} {{ or 0 3 }} {{ not 0 }} {{ not .List }}",
    "{{ and .T .Missing.X }}", "{{ or .T .Nil.X }}", "{{ and }}", "{{ not 1 2 }}",
    "{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ eq \"a\" \"a\" }} {{ eq .Name \"Ada\" }} {{ ne 1 2 }}",
    "{{ eq 1 1.0 }}", "{{ eq .List .List }}", "{{ eq .Nil nil }}", "{{ eq .Missing 1 }}",
    "{{ eq .Nil .Missing }}", "{{ eq 1 }}", "{{ eq .T true }} {{ eq .T 1 }}",
    "{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 1 2 }} {{ lt \"a\" \"b\" }} {{ lt 1.5 2.5 }}",
    "{{ lt 1 2.0 }}", "{{ lt true false }}", "{{ lt .Nil 1 }}", "{{ lt 1 }}",
    "{{ le \"b\" \"a\" }}",
    "{{ $x := .Missing }}{{ eq $x 1 }}", "{{ $x := .Missing }}{{ $x }}{{ print $x }}",
    # builtins: containers
    "{{ len .Name }} {{ len .List }} {{ len .Map }} {{ len .Uni }} {{ len .EmptyList }}",
    "{{ len 3 }}", "{{ len .Nil }}", "{{ len .Missing }}", "{{ len }}",
    "{{ index .List 1 }} {{ index .Map \"a\" }} {{ index .Map \"c\" \"d\" }} {{ index .Name 0 }}",
    "{{ index .List 3 }}", "{{ index .List -1 }}", "{{ index .Map 1 }}", "{{ index .Map \"zz\" }}",
    "{{ index .Nil 0 }}", "{{ index .List }}", "{{ index .One 0 }}", "{{ index .Mixed 5 0 }}",
    "{{ index .List 1.0 }}", "{{ index .List .One }}", "{{ index .Mixed 3 }}",
    "{{ slice .Name 1 }} {{ slice .Name 1 2 }} {{ slice .List 1 }} {{ slice .List 0 3 }} "
    "{{ slice .List }}", "{{ slice .Name 2 1 }}", "{{ slice .List 0 4 }}",
    "{{ slice .Name 0 1 2 }}",
    "{{ slice .List 0 1 2 }}", "{{ slice .One 0 }}", "{{ slice .List 1 2 1 }}",
    "{{ call .Name }}", "{{ call .Nil }}",
    # builtins: strings
    "{{ html .Html }} {{ js .Html }} {{ urlquery .Html }} {{ html 1 2 }} {{ js .Uni }}",
    "{{ urlquery \"a b\" \"c/d?e=f\" }} {{ js \"\\x01\\t\" }} {{ html .List }} {{ urlquery .Uni }}",
    "{{ print }}{{ print 1 2 }}{{ print \"a\" \"b\" }}{{ print 1 \"a\" 2 }}{{ print .Nil }}",
    "{{ println 1 \"a\" .List }}{{ print .Map .List .Mixed }}{{ print .Missing }}",
    '{{ printf "%d %5d %-5d| %05d %x %X %o %b %c %q %U" 42 42 42 42 255 255 8 5 65 66 67 }}',
    '{{ printf "%s %q %v %10s|%-10s| %.2s %x % x %X" "hi" "q\\"t" "v" "r" "l" "trunc" '
    '"hi" "hi" "hi" }}',
    '{{ printf "%f %.2f %8.3f %e %E %g %G %v %.3g" 3.14159 3.14159 3.14159 314.159 0.00031 '
    '3.14159 1e21 2.5 1234.5678 }}',
    '{{ printf "%v %v %v %v %v" 1e6 1e5 123456.0 1e-4 1e-5 }}',
    '{{ printf "%t %v %d" true false "x" }}', '{{ printf "%d" }}', '{{ printf "%d" 1 2 }}',
    '{{ printf "%!" }}', '{{ printf "%" }}', '{{ printf "%z" 1 }}', '{{ printf "%s" .List }}',
    '{{ printf "%v|%+v|%T|%T|%T|%T" .Map .Map .Map .List 1 .Pi }}', '{{ printf 1 }}',
    '{{ printf "%d %s" .List .Strs }}', '{{ printf "%v %s" .Nil .Nil }}', '{{ printf .Name }}',
    '{{ printf "%5.1f|%-8.2e|%+d|% d|%+.1f" 2.25 1234.5 5 5 -0.05 }}',
    '{{ printf "%6.2f%%" 99.5 }}',
    '{{ printf "%*d|%-*d|%.*f" 5 1 4 2 2 3.14159 }}', '{{ printf "%#x %#o %#v" 255 8 "s" }}',
    '{{ printf "%x %X %.3x" 3.5 -1.0 1.0 }}', '{{ printf "%q" 0x1F600 }}',
    '{{ printf "%c" 0x110000 }}',
    "{{ .Pi }} {{ .Half }} {{ .Float }} {{ .Tiny }} {{ .Whole }} {{ .Big }} {{ .Neg }}",
    "{{ json .Map }} {{ json .List }} {{ json .Html }} {{ json .Uni }} {{ json .Nil }} "
    "{{ json . }}",
    "{{ json .Float }} {{ json .Tiny }} {{ json 1e21 }} {{ json 1e20 }} {{ json .Pi }} "
    "{{ json 1 }}",
    "{{ json .Missing }} {{ json }}", "{{ toTypeScriptType .Name }} {{ toTypeScriptType .Map }}",
    "{{ len (currentDate) }} {{ len (yesterdayDate \"x\") }}", "{{ currentDate 1 }}",
    # unknown and malformed
    "{{ undefinedFunc }}", "{{ .Name undefinedFunc }}", "{{ $undefined }}", "{{ .Name. }}",
    "{{ .Name.. }}", "{{ .1 }}", "{{ .Name) }}", "{{ @ }}", "{{ # }}", "{{ ; }}", "{{ a.b }}",
    "{{ 1.X }}", '{{ "s".X }}', "{{ .Name := 1 }}", "{{ $x := }}", "{{ $x :=  }}", "{{ $x : 1 }}",
    "{{ x:= 1 }}", "{{ .a,.b }}", "{{ range $i, }}{{ end }}", "{{ , }}", "{{ $x == 1 }}",
    "unclosed {{ .Name", "{{ .Name }", "{{ .Name }}}", "}} stray", "{{{ .Name }}", "{{ \\ }}",
]

Case = tuple[str, str]


def python_render(source: str, data: Any, missingkey: str = "default") -> bytes | TemplateError:
    try:
        out = Template(source, OLLAMA_FUNCS, missingkey=missingkey).execute(  # type: ignore[arg-type]
            json.loads(json.dumps(data)))
    except TemplateError as e:
        return e
    return out.encode("utf-8", "surrogateescape")


def compare(oracle: Oracle, sources: list[str], data: Any = DATA,
            missingkey: str = "default") -> list[str]:
    """Every mismatch, described; empty when all agree."""
    go = oracle.run([{"template": s, "data": data, "missingkey": missingkey} for s in sources])
    found = (mismatch(repr(s), want, python_render(s, data, missingkey))
             for s, want in zip(sources, go, strict=True))
    return [p for p in found if p]


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return build_oracle()


@pytest.mark.parametrize("missingkey", ["default", "zero"])
def test_corpus_matches_go(oracle: Oracle, missingkey: str) -> None:
    problems = compare(oracle, CORPUS, missingkey=missingkey)
    assert not problems, "\n".join(problems)


def test_corpus_is_not_trivial(oracle: Oracle) -> None:
    """The corpus exercises both outcomes: most cases render, many are refused."""
    results = oracle.run([{"template": s, "data": DATA} for s in CORPUS])
    errors = sum(isinstance(r, str) for r in results)
    assert 60 < errors < len(CORPUS) - 60


# -- Hypothesis: templates generated over the grammar of actions -----------------------------
FIELDS = ["Name", "Empty", "Zero", "One", "Neg", "Pi", "T", "F", "Nil", "Html", "List", "Strs",
          "Mixed", "EmptyList", "Map", "EmptyMap", "Missing", "Map.a", "Map.c", "Map.c.d"]
LITERALS = ['"x"', '"<&>"', "`r`", "0", "1", "-2", "2.5", "1e3", "'a'", "true", "false"]


def _operand(depth: int) -> st.SearchStrategy[str]:
    simple = st.one_of(
        st.sampled_from([f".{f}" for f in FIELDS] + ["."] + ["$", "$.Name", "$.List"]),
        st.sampled_from(LITERALS))
    if depth <= 0:
        return simple
    return st.one_of(simple, _call(depth - 1).map(lambda c: f"({c})"))


def _call(depth: int) -> st.SearchStrategy[str]:
    one = _operand(depth)
    fixed = {"len": 1, "not": 1, "json": 1, "html": 1, "js": 1, "urlquery": 1,
             "lt": 2, "le": 2, "gt": 2, "ge": 2, "ne": 2, "eq": 2, "and": 2, "or": 2,
             "index": 2, "slice": 2, "print": 2, "println": 1, "toTypeScriptType": 1}
    calls = st.sampled_from(sorted(fixed)).flatmap(
        lambda name: st.lists(one, min_size=fixed[name], max_size=fixed[name] + 1).map(
            lambda args: " ".join([name, *args])))
    printf = st.tuples(st.sampled_from(['"%v"', '"%s|%d"', '"%q"', '"%5.1f"', '"%x %v"', '"%T"']),
                       st.lists(one, min_size=0, max_size=2)).map(
        lambda t: " ".join(["printf", t[0], *t[1]]))
    return st.one_of(one, calls, printf)


def _pipeline(depth: int) -> st.SearchStrategy[str]:
    stage = st.sampled_from(["len", "not", "print", "json", "html", 'printf "<%v>"', "urlquery",
                             "and 1", "or 0", 'eq "x"', "index .Map"])
    return st.tuples(_call(depth), st.lists(stage, max_size=2)).map(
        lambda t: " | ".join([t[0], *t[1]]))


def _trim(s: str) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["{{", "{{- "]), st.sampled_from(["}}", " -}}"])).map(
        lambda d: f"{d[0]} {s} {d[1]}")


def _template(depth: int) -> st.SearchStrategy[str]:
    text = st.sampled_from(["", "a", " ", "\n", " x \n ", "<", "\t"])
    action = _pipeline(1).flatmap(_trim)
    leaf = st.one_of(text, action, st.just("{{ $v }}"))
    if depth <= 0:
        return st.lists(leaf, max_size=4).map("".join)
    body = _template(depth - 1)
    cond = _pipeline(0)
    if_ = st.tuples(cond, body, st.one_of(st.none(), body)).map(
        lambda t: f"{{{{ if {t[0]} }}}}{t[1]}"
        + (f"{{{{ else }}}}{t[2]}" if t[2] is not None else "") + "{{ end }}")
    elseif = st.tuples(cond, body, cond, body).map(
        lambda t: f"{{{{ if {t[0]} }}}}{t[1]}{{{{ else if {t[2]} }}}}{t[3]}{{{{ end }}}}")
    with_ = st.tuples(cond, body, body).map(
        lambda t: f"{{{{ with {t[0]} }}}}{t[1]}{{{{ else }}}}{t[2]}{{{{ end }}}}")
    range_ = st.tuples(st.sampled_from([".List", ".Strs", ".Map", ".Mixed", ".EmptyList",
                                        ".Missing", ".Name", "$.Map.c"]),
                       st.sampled_from(["", "$v := ", "$i, $v := "]), body,
                       st.sampled_from(["", "{{ break }}", "{{ continue }}"]),
                       st.one_of(st.none(), body)).map(
        lambda t: f"{{{{ range {t[1]}{t[0]} }}}}{t[3] if 'v' in t[1] else ''}{t[2]}"
        + (f"{{{{ else }}}}{t[4]}" if t[4] is not None else "") + "{{ end }}")
    assign = _call(0).map(lambda c: f"{{{{ $v = {c} }}}}")
    part = st.one_of(leaf, leaf, action, if_, elseif, with_, range_, assign)
    return st.lists(part, max_size=4).map("".join)


TEMPLATES = _template(2).map(lambda body: "{{ $v := 0 }}" + body + "{{ $v }}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEMPLATES, min_size=10, max_size=10))
def test_generated_templates_match_go(oracle: Oracle, sources: list[str]) -> None:
    problems = compare(oracle, sources, missingkey="zero")
    assert not problems, "\n".join(problems)
