"""The ``llmrt`` command. For now: ``run`` (in-process) and ``--version``.

The server and the remaining verbs (serve, pull, push, create, list, ps, show, cp, rm, stop,
doctor) arrive with their issues.
"""

from __future__ import annotations

import sys

import click

from llmrt import __version__
from llmrt.runtime.errors import LlmrtError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmrt")
def main() -> None:
    """Run local GGUF language models."""


@main.command()
def serve() -> None:
    """Start the Ollama-compatible server (LLMRT_HOST/OLLAMA_HOST, default 127.0.0.1:11434)."""
    import logging

    import uvicorn

    from llmrt.api.app import create_app
    from llmrt.api.config import ServerConfig

    config = ServerConfig.from_env()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("llmrt.llama").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning",
                timeout_graceful_shutdown=5)


@main.command()
@click.argument("model")
@click.argument("prompt", required=False)
@click.option("--num-predict", "-n", type=int, default=128, show_default=True,
              help="Most tokens to generate.")
@click.option("--temperature", type=float, default=None, help="Sampling temperature.")
@click.option("--seed", type=int, default=None)
@click.option("--verbose", is_flag=True, help="Print timing statistics.")
def run(model: str, prompt: str | None, num_predict: int, temperature: float | None,
        seed: int | None, verbose: bool) -> None:
    """Chat with MODEL (a bundled name such as smollm2:135m, or a .gguf path) in-process."""
    from llmrt.runtime.llm import load

    if prompt is None:
        if sys.stdin.isatty():
            raise click.UsageError("give a PROMPT (interactive chat comes with the CLI issue)")
        prompt = sys.stdin.read()
    opts = {k: v for k, v in {"temperature": temperature, "seed": seed}.items() if v is not None}
    try:
        with load(model) as llm:
            gen = llm.chat([{"role": "user", "content": prompt}], stream=True,
                           num_predict=num_predict, **opts)
            for piece in gen:
                click.echo(piece, nl=False)
            click.echo()
            if verbose:
                r = gen.result
                click.echo(f"prompt eval count: {r.prompt_eval_count} token(s)", err=True)
                click.echo(f"prompt eval rate:  "
                           f"{r.prompt_eval_count / max(r.prompt_eval_duration, 1) * 1e9:.2f} "
                           "tokens/s", err=True)
                click.echo(f"eval count:        {r.eval_count} token(s)", err=True)
                click.echo(f"eval rate:         "
                           f"{r.eval_count / max(r.eval_duration, 1) * 1e9:.2f} tokens/s",
                           err=True)
    except LlmrtError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
