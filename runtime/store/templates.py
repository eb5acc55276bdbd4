"""Which language a stored template is written in.

Ollama stores Go ``text/template`` templates (``{{ .Prompt }}``, ``{{ range .Messages }}``);
llmrt renders Jinja chat templates (the GGUF's ``tokenizer.chat_template``). Models llmrt imports
store the GGUF's Jinja template in their template layer; a Go template (from an Ollama store) is
kept and shown as is, and the renderer falls back to the GGUF's own template for it.
"""

from __future__ import annotations

import re
from typing import Literal

_GO = re.compile(r"\{\{-?\s*(?:(?:if|range|with|else if|template|block)\s+)?[.$]"
                 r"|\{\{-?\s*(?:end|else|define\b[^}]*)\s*-?\}\}")

TemplateFormat = Literal["jinja", "go"]


def template_format(text: str) -> TemplateFormat:
    """``go`` when the template uses Go template syntax, else ``jinja``."""
    return "go" if _GO.search(text) and "{%" not in text else "jinja"
