"""Ollama's template semantics (runtime/gotemplate/ollama.py): its values, functions, message
collation, variable detection and its three execution paths.

The templates below are written for these tests in the styles of Ollama's library (ChatML,
Llama 3 with tools, Mistral [INST], Gemma, legacy .Prompt/.Response, thinking, fill-in-the-
middle); every one is rendered on every conversation case by both runtime/gotemplate and the Go
oracle (Go's text/template with Ollama's execution rules) and must match byte for byte. A few
expectations are also spelled out by hand so the behaviour is pinned without Go as well."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from llmrt.runtime.errors import TemplateError
from llmrt.runtime.gotemplate import OllamaTemplate, render_ollama

from tests.runtime.gotemplate_oracle.oracle import Oracle, build_oracle, mismatch

CHATML = """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""

CHATML_LEGACY = """{{ if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ .Response }}<|im_end|>
"""

INST_LEGACY = "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }} [/INST]"

ALPACA_LEGACY = """{{ if .System }}{{ .System }}

{{ end }}{{ if .Prompt }}### Instruction:
{{ .Prompt }}

{{ end }}### Response:
{{ .Response }}

"""

INST_MESSAGES = """{{- if .System }}{{ .System }}

{{ end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}[INST] {{ .Content }} [/INST]
{{- else if eq .Role "assistant" }} {{ .Content }}{{ if not $last }}</s>{{ end }}
{{- end }}
{{- end }}"""

GEMMA = """{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if or (eq .Role "user") (eq .Role "system") }}<start_of_turn>user
{{ .Content }}<end_of_turn>
{{ if $last }}<start_of_turn>model
{{ end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- end }}"""

LLAMA3_TOOLS = """{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>
{{- if .System }}

{{ .System }}
{{- end }}
{{- if .Tools }}

You may call these functions. Reply with JSON {"name": ..., "parameters": ...}.
{{- range .Tools }}
{{ json . }}
{{- end }}
{{- end }}<|eot_id|>
{{- end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>

{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>
{{- if .ToolCalls }}
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "parameters": {{
.Function.Arguments }}}{{ end }}
{{- else }}

{{ .Content }}
{{- end }}{{ if not $last }}<|eot_id|>{{ end }}
{{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>

{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- end }}
{{- end }}"""

TYPESCRIPT_TOOLS = """{{- with .Tools }}# Tools
namespace functions {
{{- range . }}
// {{ .Function.Description }}
type {{ .Function.Name }} = (_: {
{{- range $name, $prop := .Function.Parameters.Properties }}
{{- if $prop.Description }}
  // {{ $prop.Description }}
{{- end }}
  {{ $name }}{{ if ne $name "city" }}?{{ end }}: {{ toTypeScriptType $prop }} {{
$prop.ToTypeScriptType }} {{ $prop.Type }}
{{- if $prop.Enum }} /* one of {{ range $j, $e := $prop.Enum }}{{ if $j }}, {{ end }}{{
printf "%q" (print $e) }}{{ end }} */{{ end }},
{{- end }}
}) => any; // required: {{ .Function.Parameters.Required }} props: {{
.Function.Parameters.Properties }}
{{- end }}
} // {{ len . }} tools; {{ $.Tools }}
{{ end }}
{{- range .Messages }}<{{ .Role }}{{ if .ToolName }} name={{ .ToolName }}{{ end }}>
{{- .Content }}
{{- with .ToolCalls }}{{ range $k, $v := (index . 0).Function.Arguments }} {{ $k }}={{
$v }}{{ end }}{{ end }}
{{- with .ToolCalls }}{{ range . }} [{{ .Function.Index }}:{{ .Function.Name }}({{
json .Function.Arguments }})]{{ end }}{{ end }}
{{- end }}"""

THINKING = """{{- if .IsThinkSet }}think={{ .Think }} level={{ .ThinkLevel }}
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
<|{{ .Role }}|>
{{- if and .Thinking (or $last $.Think) }}<think>{{ .Thinking }}</think>{{ end }}
{{- .Content }}
{{- if and $last (ne .Role "assistant") }}<|assistant|>{{
if and $.IsThinkSet (not $.Think) }}<think></think>{{ end }}{{ end }}
{{- end }}"""

FIM = """{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>
{{- else if .Messages }}{{ range .Messages }}{{ .Content }}{{ end }}
{{- else }}{{ .Prompt }}
{{- end }}"""

FIM_LEGACY = """{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>
{{- else }}{{ .Prompt }}
{{- end }}"""

DUMP = """system={{ printf "%q" .System }} tools={{ .Tools }} {{
json .Tools }} response=[{{ .Response }}]
prompt={{ .Prompt }} think={{ .Think }}/{{ .ThinkLevel }}/{{ .IsThinkSet }}
{{ range .Messages }}{{ . }} {{ json . }}
{{ end }}{{ len .Messages }}"""

DEFINES = """{{- define "turn" }}<{{ .Role }}>{{ .Content }}</{{ .Role }}>{{ end }}
{{- range .Messages }}{{ template "turn" . }}{{ end }}
{{- block "tail" . }}<tail>{{ len .Messages }}</tail>{{ end }}"""

NO_VARIABLES = "You are a parrot."
TEMPLATES = {name: value for name, value in globals().items()
             if name.isupper() and isinstance(value, str)}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string", "description": "City name, e.g. <Paris>"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": ["integer", "null"], "description": "How many days"},
        "where": {"type": "object", "properties": {"lat": {"type": "number"},
                                                   "lon": {"type": "number"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
    }}}}
CLOCK_TOOL = {"type": "function", "function": {"name": "now", "description": "",
                                               "parameters": {"type": "object"}}}

CONVERSATIONS: dict[str, dict[str, Any]] = {
    "user": {"messages": [{"role": "user", "content": "Hello, how are you?"}]},
    "user-assistant-user": {"messages": [
        {"role": "user", "content": "Hello, how are you?"},
        {"role": "assistant", "content": "Fine, and you?"},
        {"role": "user", "content": "Show me how templates work!"}]},
    "system-user-assistant-user": {"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"}]},
    "collated": {"messages": [
        {"role": "system", "content": "First rule."},
        {"role": "system", "content": "Second rule."},
        {"role": "user", "content": "one"}, {"role": "user", "content": "two"},
        {"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"},
        {"role": "system", "content": "Late rule."}, {"role": "user", "content": "three"}]},
    "ends-with-assistant": {"messages": [
        {"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi and"}]},
    "tools": {"tools": [WEATHER_TOOL, CLOCK_TOOL], "messages": [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Paris & Rome?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"index": 0, "name": "get_weather",
                          "arguments": {"city": "Paris", "days": 2, "where": {"lat": 48.85}}}},
            {"id": "call_2", "function": {"index": 1, "name": "get_weather",
                                          "arguments": {"city": "Rome", "unit": "celsius"}}}]},
        {"role": "tool", "tool_name": "get_weather", "content": "18 C"},
        {"role": "tool", "tool_name": "get_weather", "tool_call_id": "call_2", "content": "21 C"},
        {"role": "user", "content": "Thanks <3"}]},
    "thinking": {"think": True, "messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "thinking": "Add them.", "content": "4"},
        {"role": "user", "content": "3+3?"}]},
    "thinking-off": {"think": False, "messages": [{"role": "user", "content": "2+2?"}]},
    "thinking-high": {"think": "high", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "thinking": "hm", "content": "a"}]},
    "fim": {"prompt": "def add(a, b):\n    ", "suffix": "\n    return c\n"},
    "prompt-only": {"prompt": "def add(", "messages": [{"role": "user", "content": "def add("}]},
    "empty": {"messages": []},
    "unicode": {"messages": [{"role": "user", "content": "héllo \u2028 ✓ \"quoted\" \t tab"},
                             {"role": "assistant", "content": "<ok> & done"}]},
    "images": {"messages": [{"role": "user", "content": "look", "images": ["aGVsbG8="]}]},
}


def python_render(template: str, case: dict[str, Any]) -> bytes | TemplateError:
    try:
        out = render_ollama(template, messages=case.get("messages", ()), tools=case.get("tools"),
                            think=case.get("think"), prompt=case.get("prompt", ""),
                            suffix=case.get("suffix", ""))
    except TemplateError as e:
        return e
    return out.encode("utf-8", "surrogateescape")


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return build_oracle()


def test_library_style_templates_match_go(oracle: Oracle) -> None:
    pairs = list(itertools.product(TEMPLATES.items(), CONVERSATIONS.items()))
    go = oracle.run([{"mode": "ollama", "template": t, **case}
                     for (_, t), (_, case) in pairs])
    problems = []
    for ((tname, template), (cname, case)), want in zip(pairs, go, strict=True):
        problem = mismatch(f"{tname}/{cname}", want, python_render(template, case))
        if problem:
            problems.append(problem)
    rendered = sum(isinstance(w, bytes) for w in go)
    assert not problems, "\n".join(problems)
    assert rendered > len(pairs) * 3 // 4  # the cases render; they are not all errors


@pytest.mark.parametrize("template", [
    '{{ template "x" }}{{ define "x" }}{{ .Response }}{{ end }}',  # Ollama: Vars refuses it
    "{{ if .Prompt }}{{ .Response }}{{ else }}none{{ end }}",  # Ollama panics in its cut
    "{{ json .Prompt }}{{ .Response }}",  # the last turn has no json function
    "{{ .Prompt.Deep }}{{ .Response }}",
])
def test_odd_templates_fail_or_render_as_in_go(oracle: Oracle, template: str) -> None:
    case = CONVERSATIONS["user-assistant-user"]
    want = oracle.run([{"mode": "ollama", "template": template, **case}])[0]
    got = python_render(template, case)
    if isinstance(want, str):
        assert isinstance(got, TemplateError), (want, got)
    else:
        assert got == want


# -- pinned by hand ---------------------------------------------------------------------------
def test_messages_template_renders_the_conversation() -> None:
    out = render_ollama(CHATML, messages=CONVERSATIONS["system-user-assistant-user"]["messages"])
    assert out == ("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                   "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
                   "<|im_start|>assistant\n")


def test_collation_merges_same_role_and_joins_system() -> None:
    out = render_ollama("{{ .System }}|{{ range .Messages }}[{{ .Role }}:{{ .Content }}]{{ end }}",
                        messages=CONVERSATIONS["collated"]["messages"])
    assert out == ("First rule.\n\nSecond rule.\n\nLate rule.|[system:First rule.\n\nSecond rule.]"
                   "[user:one\n\ntwo][assistant:a\n\nb][system:Late rule.][user:three]")
    tools = render_ollama("{{ range .Messages }}[{{ .Role }}:{{ .Content }}]{{ end }}",
                          messages=CONVERSATIONS["tools"]["messages"][3:5])
    assert tools == "[tool:18 C][tool:21 C]"  # tool messages are never merged


def test_legacy_template_runs_per_turn_and_cuts_the_last_at_response() -> None:
    out = render_ollama(CHATML_LEGACY,
                        messages=CONVERSATIONS["system-user-assistant-user"]["messages"])
    assert out == ("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                   "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
                   "<|im_start|>assistant\n")
    # a template without .Response gets one appended, and the last turn stops there
    inst = render_ollama(INST_LEGACY, messages=CONVERSATIONS["user-assistant-user"]["messages"])
    assert inst == ("[INST] Hello, how are you? [/INST]Fine, and you?"
                    "[INST] Show me how templates work! [/INST]")


def test_fill_in_the_middle_uses_prompt_and_suffix() -> None:
    out = render_ollama(FIM, prompt="def add(", suffix="return x")
    assert out == "<PRE> def add( <SUF>return x <MID>"
    assert render_ollama(FIM_LEGACY, messages=[{"role": "user", "content": "hello"}]) == "hello"


def test_tools_and_tool_calls_print_as_json() -> None:
    case = CONVERSATIONS["tools"]
    out = render_ollama("{{ range .Tools }}{{ json . }}\n{{ end }}{{ range .Messages }}"
                        "{{ range .ToolCalls }}{{ .Function.Name }} {{ .Function.Arguments }}\n"
                        "{{ end }}{{ end }}{{ toTypeScriptType (index .Tools 0).Function."
                        "Parameters.Properties.days }}", messages=case["messages"],
                        tools=case["tools"])
    first = out.splitlines()[0]
    assert first.startswith('{"type":"function","function":{"name":"get_weather",'
                            '"description":"Current weather for a city","parameters":'
                            '{"type":"object","required":["city"],"properties":{"any":')
    assert '"city":{"type":"string","description":"City name, e.g. \\u003cParis\\u003e"}' in first
    assert '"where":{"type":"object","properties":{"lat":{"type":"number"},"lon":' in first
    assert 'get_weather {"city":"Paris","days":2,"where":{"lat":48.85}}' in out
    assert out.endswith("number | null")
    assert render_ollama("{{ .Tools }}|{{ if .Tools }}x{{ end }}{{ .Messages }}") == "null|[]"


def test_think_values() -> None:
    t = "{{ .Think }} {{ .ThinkLevel }} {{ .IsThinkSet }}{{ .Messages }}"
    assert render_ollama(t) == "false  false[]"
    assert render_ollama(t, think=True) == "true medium true[]"
    assert render_ollama(t, think=False) == "false  true[]"
    assert render_ollama(t, think="low") == "true low true[]"


def test_vars_are_detected_like_ollama() -> None:
    cases = {
        "{{ .Prompt }}": ["prompt", "response"],
        "{{ .System }} {{ .Prompt }} {{ .Response }}": ["prompt", "response", "system"],
        "{{ with .Tools }}{{ . }}{{ end }} {{ .System }}": ["response", "system", "tools"],
        "{{ range .Messages }}{{ .Role }}{{ end }}": ["messages", "role"],
        "{{ json .Messages }}": ["messages"],
        "{{ $.Messages }}{{ if $x := .A.B }}{{ end }}": ["$", "a", "b", "messages"],
        '{{ define "d" }}{{ .Suffix }}{{ end }}{{ template "d" .Prompt }}':
            ["prompt", "response", "suffix"],
        "plain": ["response"],
    }
    for source, want in cases.items():
        assert OllamaTemplate(source).vars == want, source
    assert OllamaTemplate(CHATML).uses_messages
    assert not OllamaTemplate(CHATML_LEGACY).uses_messages


def test_messages_path_leaves_prompt_as_no_value() -> None:
    # Ollama hands the messages path no .Prompt: Go prints <no value> for it
    assert render_ollama("{{ .Prompt }}|{{ range .Messages }}{{ .Content }}{{ end }}",
                         messages=[{"role": "user", "content": "x"}]) == "<no value>|x"


def test_ollama_refusals_are_template_errors() -> None:
    with pytest.raises(TemplateError, match="undefined template specified"):
        OllamaTemplate('{{ template "x" }}{{ define "x" }}{{ .Response }}{{ end }}')
    with pytest.raises(TemplateError, match=r"line 1, column 4: function 'undefined' not defined"):
        OllamaTemplate("{{ undefined }}")
    with pytest.raises(TemplateError, match="panics"):
        render_ollama("{{ if .Prompt }}{{ .Response }}{{ else }}none{{ end }}",
                      messages=[{"role": "user", "content": "x"}])
    with pytest.raises(TemplateError, match=r'"json" is not a defined function'):
        render_ollama("{{ json .Prompt }}{{ .Response }}",
                      messages=[{"role": "user", "content": "x"}])
