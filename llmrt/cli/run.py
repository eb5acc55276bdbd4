"""`llmrt run`: one prompt (argument or piped stdin), or an interactive chat on a terminal."""

from __future__ import annotations

import sys
from typing import Any

import click

from .client import Client, CLIError

HELP = """Available commands:
  /set parameter NAME VALUE   set a model option (e.g. /set parameter temperature 0)
  /set system TEXT            set the system message
  /show info|parameters       show the model or the session's options
  /clear                      forget the conversation
  /bye                        exit
  /?, /help                   this help

Use \"\"\" to begin and end a multi-line message."""


def _fmt_duration(ns: int) -> str:
    s = ns / 1e9
    return f"{s * 1e3:.3f}ms" if s < 1 else f"{s:.3f}s"


def print_stats(rec: dict[str, Any]) -> None:
    def rate(n: int, ns: int) -> str:
        return f"{n / ns * 1e9:.2f} tokens/s" if ns else "n/a"

    lines = [
        ("total duration", _fmt_duration(rec.get("total_duration", 0))),
        ("load duration", _fmt_duration(rec.get("load_duration", 0))),
        ("prompt eval count", f"{rec.get('prompt_eval_count', 0)} token(s)"),
        ("prompt eval duration", _fmt_duration(rec.get("prompt_eval_duration", 0))),
        ("prompt eval rate", rate(rec.get("prompt_eval_count", 0),
                                  rec.get("prompt_eval_duration", 0))),
        ("eval count", f"{rec.get('eval_count', 0)} token(s)"),
        ("eval duration", _fmt_duration(rec.get("eval_duration", 0))),
        ("eval rate", rate(rec.get("eval_count", 0), rec.get("eval_duration", 0))),
    ]
    for k, v in lines:
        click.echo(f"{k + ':':22}{v}", err=True)


class Chat:
    def __init__(self, client: Client, model: str, *, fmt: str | None,
                 keep_alive: str | None, verbose: bool, backend: str | None = None) -> None:
        self.client, self.model, self.fmt = client, model, fmt
        self.keep_alive, self.verbose = keep_alive, verbose
        self.messages: list[dict[str, Any]] = []
        self.options: dict[str, Any] = {"backend": backend} if backend else {}
        self.system: str | None = None

    def ask(self, text: str) -> str:
        """Send a user message, stream the answer to stdout, keep both in the history."""
        msgs = ([{"role": "system", "content": self.system}] if self.system else [])
        msgs += self.messages + [{"role": "user", "content": text}]
        body: dict[str, Any] = {"model": self.model, "messages": msgs, "stream": True}
        if self.options:
            body["options"] = self.options
        if self.fmt:
            body["format"] = self.fmt
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        parts: list[str] = []
        last: dict[str, Any] = {}
        try:
            for rec in self.client.stream("/api/chat", body):
                piece = rec.get("message", {}).get("content", "")
                if piece:
                    parts.append(piece)
                    sys.stdout.write(piece)
                    sys.stdout.flush()
                last = rec
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            return "".join(parts)
        sys.stdout.write("\n")
        sys.stdout.flush()
        answer = "".join(parts)
        self.messages += [{"role": "user", "content": text},
                          {"role": "assistant", "content": answer}]
        if self.verbose and last:
            print_stats(last)
        return answer

    def load(self) -> None:
        body: dict[str, Any] = {"model": self.model, "messages": []}
        if self.options:  # load-time options (backend) load it as the chat will use it
            body["options"] = self.options
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        self.client.post("/api/chat", body)

    def command(self, line: str) -> bool:
        """Run a slash command; False means exit."""
        words = line.split()
        cmd = words[0].lower()
        if cmd in ("/bye", "/exit"):
            return False
        if cmd in ("/?", "/help"):
            click.echo(HELP)
        elif cmd == "/clear":
            self.messages = []
            click.echo("Cleared session context")
        elif cmd == "/set" and len(words) >= 4 and words[1] == "parameter":
            self.options[words[2]] = _value(" ".join(words[3:]))
            click.echo(f"Set parameter '{words[2]}' to '{' '.join(words[3:])}'")
        elif cmd == "/set" and len(words) >= 3 and words[1] == "system":
            self.system = line.split(None, 2)[2]
            click.echo("Set system message.")
        elif cmd == "/show":
            what = words[1] if len(words) > 1 else "info"
            if what == "parameters":
                for k, v in self.options.items():
                    click.echo(f"{k:<20}{v}")
                if not self.options:
                    click.echo("No parameters set for this session.")
            else:
                info = self.client.post("/api/show", {"model": self.model})
                key = {"modelfile": "modelfile", "template": "template", "system": "system",
                       "license": "license"}.get(what)
                if key:
                    click.echo(info.get(key, ""))
                else:
                    d = info.get("details", {})
                    click.echo(f"  Model\n    architecture    {d.get('family', '')}\n"
                               f"    parameters      {d.get('parameter_size', '')}\n"
                               f"    quantization    {d.get('quantization_level', '')}")
        else:
            click.echo(f"Unknown command '{cmd}'. Type /? for help")
        return True

    def interactive(self) -> None:
        self.load()
        click.echo(">>> Send a message (/? for help)", err=True)
        while True:
            try:
                line = _read_message()
            except EOFError:
                click.echo()
                return
            except KeyboardInterrupt:
                click.echo("\nUse Ctrl + d or /bye to exit.")
                continue
            if not line.strip():
                continue
            if line.startswith("/"):
                if not self.command(line.strip()):
                    return
                continue
            self.ask(line)


def _read_message() -> str:
    line = input(">>> ")
    if not line.lstrip().startswith('"""'):
        return line
    text = line.lstrip()[3:]
    if text.endswith('"""') and len(text) >= 3:
        return text[:-3]
    lines = [text]
    while True:
        more = input("... ")
        if more.rstrip().endswith('"""'):
            lines.append(more.rstrip()[:-3])
            return "\n".join(lines).strip("\n")
        lines.append(more)


def _value(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def run(model: str, prompt: str | None, *, fmt: str | None, keep_alive: str | None,
        verbose: bool, backend: str | None = None) -> None:
    piped = not sys.stdin.isatty()
    if piped:
        data = sys.stdin.read()
        prompt = f"{data}\n\n{prompt}" if prompt else data
    with Client(embedded_ok=True) as client:
        chat = Chat(client, model, fmt=fmt, keep_alive=keep_alive, verbose=verbose,
                    backend=backend)
        if prompt is not None:
            if not prompt.strip():
                raise CLIError("empty prompt")
            chat.ask(prompt)
        else:
            chat.interactive()
