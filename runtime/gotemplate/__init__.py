"""Go ``text/template`` in pure Python, and Ollama's use of it (``TEMPLATE`` layers).

    Template(source, funcs=None, missingkey="default").execute(data)   Go's text/template
    render_ollama(text, messages=..., tools=..., think=..., prompt=..., suffix=...)
    OllamaTemplate(text): .vars, .uses_messages, .render(...)            parse once, render often

Modules: ``lexer`` and ``parser`` (source to ``nodes``), ``exec`` (the evaluator and its
``Budget``), ``builtins`` (Go's predefined functions), ``values`` (how Go values look in
Python), ``gofmt`` and ``gojson`` (Go's fmt and encoding/json output), ``ollama_data`` (the
structs Ollama hands its templates), ``ollama`` (its functions and execution rules).
Every error is a ``TemplateError`` naming the line and column.
"""

from .builtins import Func
from .exec import Budget
from .ollama import OLLAMA_FUNCS, OllamaTemplate, render_ollama
from .template import Template

__all__ = ["OLLAMA_FUNCS", "Budget", "Func", "OllamaTemplate", "Template", "render_ollama"]
