"""Chat templates: the GGUF ``tokenizer.chat_template`` rendered with jinja2 in a sandbox.

Templates written for Hugging Face's ``apply_chat_template`` expect a few helpers
(``raise_exception``, ``strftime_now``, ``tojson``) and the special-token strings; they are given
here. Rendering never touches llama.cpp.
"""

from __future__ import annotations

import datetime
import json
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError

#: ChatML, for models whose GGUF carries no template (llama.cpp's fallback too).
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

#: Gemma's turn format (no system role: the system text opens the first user turn). BOS is
#: left to the tokenizer, as llama.cpp's built-in "gemma" template does.
GEMMA = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set prefix = messages[0]['content'] + '\\n\\n' -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set prefix = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- for m in turns -%}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\\n' }}"
    "{{ (prefix if loop.first else '') + (m['content'] | trim) + '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)

#: Templates by GGUF architecture, for GGUF files that carry none.
FALLBACKS = {"gemma": GEMMA, "gemma2": GEMMA, "gemma3": GEMMA, "gemma3n": GEMMA}


def fallback_template(architecture: str) -> str:
    return FALLBACKS.get(architecture, CHATML)


def _raise(message: str) -> None:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False,
            sort_keys: bool = False, separators: Any = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys,
                      separators=separators)


@lru_cache(maxsize=32)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = _strftime_now
    env.filters["tojson"] = _tojson
    try:
        return env.from_string(source)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"chat template does not compile: {exc}") from exc


class ChatTemplate:
    def __init__(self, source: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        self.source = source or CHATML
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template = _compile(self.source)

    def with_source(self, source: str | None) -> ChatTemplate:
        """The same special tokens with another template (a Modelfile TEMPLATE)."""
        if source is None or source == self.source:
            return self
        return ChatTemplate(source, bos_token=self.bos_token, eos_token=self.eos_token)

    def render(self, messages: list[dict[str, Any]], *, add_generation_prompt: bool = True,
               tools: list[dict[str, Any]] | None = None, **extra: Any) -> str:
        try:
            return self._template.render(
                messages=messages, add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token, eos_token=self.eos_token, tools=tools, **extra)
        except TemplateError:
            raise
        except Exception as exc:  # jinja2 errors and errors raised inside the template
            raise TemplateError(f"chat template failed to render: {exc}") from exc


def template_for(source: str | None, architecture: str, *, bos_token: str = "",
                 eos_token: str = "") -> ChatTemplate:
    """The GGUF's own template, else the fallback for its architecture (ChatML by default)."""
    return ChatTemplate(source or fallback_template(architecture), bos_token=bos_token,
                        eos_token=eos_token)


def template_of(model: Any) -> ChatTemplate:
    """The chat template of a loaded runtime Model."""
    tok = model.tokenizer
    return template_for(model.chat_template, model.info.architecture,
                        bos_token=tok.token_text(tok.bos) if tok.bos >= 0 else "",
                        eos_token=tok.token_text(tok.eos) if tok.eos >= 0 else "")
