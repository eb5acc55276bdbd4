"""The ``llmrt`` command: an HTTP client of `llmrt serve`, like `ollama` is of `ollama serve`.

`run`, `list`, `show` and `pull` also work with no server listening: they start one in-process
(embedded mode) and say so on stderr. Errors are one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from llmrt import __version__
from llmrt.runtime.errors import LlmrtError

from .client import CLIError


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (CLIError, LlmrtError) as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmrt")
def main() -> None:
    """Run local GGUF language models (Ollama-compatible)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("llmrt.llama").setLevel(logging.ERROR)


@main.command()
def serve() -> None:
    """Start the server (LLMRT_HOST/OLLAMA_HOST, default 127.0.0.1:11434)."""
    import uvicorn

    from llmrt.api.app import create_app
    from llmrt.api.config import ServerConfig

    config = ServerConfig.from_env()
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("llmrt.llama").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning",
                timeout_graceful_shutdown=5)


@main.command()
@click.argument("model")
@click.argument("prompt", required=False, nargs=-1)
@click.option("--format", "fmt", default=None, help='Response format ("json").')
@click.option("--keepalive", default=None, help='How long to keep the model loaded ("5m").')
@click.option("--verbose", is_flag=True, help="Print timing statistics.")
@click.option("--backend", default=None,
              help='Load the model on this backend ("vulkan", "cpu"; see llmrt doctor), '
                   "even one never chosen automatically (sent as options.backend).")
@_friendly
def run(model: str, prompt: tuple[str, ...], fmt: str | None, keepalive: str | None,
        verbose: bool, backend: str | None) -> None:
    """Chat with MODEL: one PROMPT, piped stdin, or interactively on a terminal."""
    from .run import run as run_chat

    run_chat(model, " ".join(prompt) if prompt else None, fmt=fmt, keep_alive=keepalive,
             verbose=verbose, backend=backend)


@main.command("list")
@_friendly
def list_() -> None:
    """List the models."""
    from .models import list_models

    list_models()


main.add_command(list_, "ls")


@main.command()
@_friendly
def ps() -> None:
    """List the loaded models."""
    from .models import ps as show_ps

    show_ps()


@main.command()
@click.argument("model")
@click.option("--modelfile", "part", flag_value="modelfile", help="Show the Modelfile.")
@click.option("--template", "part", flag_value="template", help="Show the template.")
@click.option("--parameters", "part", flag_value="parameters", help="Show the parameters.")
@click.option("--system", "part", flag_value="system", help="Show the system message.")
@click.option("--license", "part", flag_value="license", help="Show the license.")
@_friendly
def show(model: str, part: str | None) -> None:
    """Show information about MODEL."""
    from .models import show as show_model

    show_model(model, part)


@main.command()
@click.argument("source")
@click.argument("destination")
@_friendly
def cp(source: str, destination: str) -> None:
    """Copy a model."""
    from .models import copy

    copy(source, destination)


@main.command()
@click.argument("models", nargs=-1, required=True)
@_friendly
def rm(models: tuple[str, ...]) -> None:
    """Remove models."""
    from .models import remove

    remove(models)


@main.command()
@click.argument("model")
@_friendly
def stop(model: str) -> None:
    """Unload a running model."""
    from .models import stop as stop_model

    stop_model(model)


@main.command()
@click.argument("model")
@click.option("--insecure", is_flag=True, help="Use plain HTTP to the registry.")
@_friendly
def pull(model: str, insecure: bool) -> None:
    """Pull a model from a registry."""
    from .models import transfer

    transfer("pull", model, insecure)


@main.command()
@click.argument("model")
@click.option("--insecure", is_flag=True, help="Use plain HTTP to the registry.")
@_friendly
def push(model: str, insecure: bool) -> None:
    """Push a model to a registry."""
    from .models import transfer

    transfer("push", model, insecure)


@main.command()
@click.argument("name")
@click.option("-f", "--file", "modelfile", default="Modelfile", show_default=True,
              help="The Modelfile to build from.")
@click.option("-q", "--quantize", default="", help="Quantize to this type (e.g. q4_K_M).")
@_friendly
def create(name: str, modelfile: str, quantize: str) -> None:
    """Create a model NAME from a Modelfile."""
    from .models import create as create_model

    create_model(name, modelfile, quantize)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--model", default=None,
              help="Also plan placement for MODEL (a bundled name or a .gguf path).")
@click.option("--num-ctx", type=int, default=4096, show_default=True,
              help="Context length to plan for (with --model).")
@click.option("--parallel", type=int, default=1, show_default=True,
              help="Parallel sequences to plan for (with --model).")
@_friendly
def doctor(as_json: bool, model: str | None, num_ctx: int, parallel: int) -> None:
    """Show the backends llmrt found: devices, memory, features, and why any is unusable."""
    from llmrt.backends.doctor import run as run_doctor
    from llmrt.runtime.loader import resolve

    click.echo(run_doctor(as_json=as_json, model=model, resolve=lambda m: resolve(m).path,
                          num_ctx=num_ctx, parallel=parallel), nl=False)
