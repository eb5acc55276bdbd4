"""runtime/gotemplate without the Go oracle: errors name line and column, execution has a
time and output budget, and the Go 1.22+ features the oracle's Go may lack (range over an
int, {{else with}}) behave as Go documents them."""

from __future__ import annotations

import pytest
from llmrt.runtime.errors import LlmrtError, TemplateBudgetExceeded, TemplateError
from llmrt.runtime.gotemplate import Budget, Template


def render(source: str, data: object = None, **kw: object) -> str:
    return Template(source).execute(data, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("source", "where", "what"), [
    ("{{ .A }}\n{{ nosuch }}", "line 2, column 4", "function 'nosuch' not defined"),
    ("ok\n\n  {{ if .A }}", "line 3, column 14", "unexpected EOF"),
    ("{{ $x }}", "line 1, column 4", "undefined variable '$x'"),
    ("{{ end }}", "line 1, column 4", "unexpected {{end}}"),
    ("a\n{{ .A | 3 }}", "line 2, column 9", "non executable command in pipeline stage 2"),
    ("{{ range .L }}{{ end }}{{ break }}", "line 1, column 27", "{{break}} outside {{range}}"),
    ("x {{ .A", "line 1, column 3", "unclosed action"),
    ("{{ /* c */ }}", "line 1, column 4", 'unexpected "/" in command'),
    ('{{ "abc }}', "line 1, column 4", "unterminated quoted string"),
])
def test_parse_errors_name_line_and_column(source: str, where: str, what: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template(source)
    assert where in str(info.value) and what in str(info.value)
    assert isinstance(info.value, LlmrtError)


def test_execution_errors_name_the_node() -> None:
    with pytest.raises(TemplateError, match=r"line 2, column 4: executing at <index \.L 5>: "
                                            r"error calling index: index out of range: 5"):
        render("ok\n{{ index .L 5 }}", {"L": [1]})
    with pytest.raises(TemplateError, match=r"can't evaluate field B in type string"):
        render("{{ .A.B }}", {"A": "s"})


def test_a_runaway_loop_hits_the_time_budget() -> None:
    with pytest.raises(TemplateBudgetExceeded, match="time budget of 0.2 s"):
        render("{{ range 1000000000000 }}{{ range 1000000 }}{{ end }}{{ end }}",
               budget=Budget(max_seconds=0.2))


def test_an_exploding_template_hits_the_output_budget() -> None:
    source = '{{ define "x" }}{{ . }}{{ . }}{{ end }}{{ range 100000 }}{{ template "x" "abc" }}'
    with pytest.raises(TemplateBudgetExceeded, match="output exceeds the limit of 1000 chara"):
        render(source + "{{ end }}", budget=Budget(max_output=1000))


def test_unbounded_recursion_is_an_error() -> None:
    with pytest.raises(TemplateError, match="exceeded maximum template depth"):
        render('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}')


def test_range_over_an_int() -> None:
    assert render("{{ range 3 }}{{ . }}{{ end }}|{{ range $i := 2 }}{{ $i }}{{ end }}") == "012|01"
    assert render("{{ range 0 }}x{{ else }}none{{ end }}") == "none"
    with pytest.raises(TemplateError, match="iterate over more than one variable"):
        render("{{ range $i, $v := 3 }}{{ end }}")


def test_else_with_chains() -> None:
    source = "{{ with .A }}a={{ . }}{{ else with .B }}b={{ . }}{{ else }}none{{ end }}"
    assert render(source, {"A": 0, "B": "x"}) == "b=x"
    assert render(source, {"A": 1, "B": "x"}) == "a=1"
    assert render(source, {}) == "none"


def test_go_printing_rules() -> None:
    data = {"F": 1e7, "G": 0.1, "M": {"b": [1, None], "a": True}}
    assert render("{{ .F }} {{ .G }} {{ .M }} {{ .Missing }}", data) == \
        "1e+07 0.1 map[a:true b:[1 <nil>]] <no value>"
    assert render('{{ printf "%05.1f|%-4d|%q|%x|%v" 3.14159 7 "a\\"b" "hi" .M.b }}', data) == \
        '003.1|7   |"a\\"b"|6869|[1 <nil>]'
