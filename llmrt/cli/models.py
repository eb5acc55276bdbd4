"""Model management verbs: list, ps, show, cp, rm, stop, pull, push."""

from __future__ import annotations

import datetime
from typing import Any

import click

from .client import Client, CLIError


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def since(iso: str) -> str:
    then = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    secs = (datetime.datetime.now(datetime.UTC) - then).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size:
            n = int(secs // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "Less than a minute ago"


def until(iso: str) -> str:
    then = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    secs = (then - datetime.datetime.now(datetime.UTC)).total_seconds()
    if secs > 50 * 365 * 86400:
        return "Forever"
    if secs <= 0:
        return "Stopping..."
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size:
            n = int(secs // size)
            return f"{n} {unit}{'s' if n != 1 else ''} from now"
    return "Less than a minute from now"


def table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        click.echo("    ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def list_models() -> None:
    with Client(embedded_ok=True) as c:
        models = c.get("/api/tags")["models"]
    table(["NAME", "ID", "SIZE", "MODIFIED"],
          [[m["name"], m["digest"][:12], human_size(m["size"]), since(m["modified_at"])]
           for m in models])


def ps() -> None:
    with Client() as c:
        models = c.get("/api/ps")["models"]
    rows = []
    for m in models:
        vram = m.get("size_vram", 0)
        proc = "100% GPU" if vram and vram >= m["size"] else (
            "100% CPU" if not vram else f"{100 - vram * 100 // m['size']}%/"
                                        f"{vram * 100 // m['size']}% CPU/GPU")
        rows.append([m["name"], m["digest"][:12], human_size(m["size"]), proc,
                     str(m.get("context_length", "")), until(m["expires_at"])])
    table(["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], rows)


def show(model: str, part: str | None) -> None:
    with Client(embedded_ok=True) as c:
        info: dict[str, Any] = c.post("/api/show", {"model": model})
    if part is not None:
        click.echo(info.get(part, ""))
        return
    d = info.get("details", {})
    mi = info.get("model_info", {})
    arch = mi.get("general.architecture", d.get("family", ""))
    click.echo("  Model")
    for k, v in (("architecture", arch), ("parameters", d.get("parameter_size", "")),
                 ("context length", mi.get(f"{arch}.context_length", "")),
                 ("embedding length", mi.get(f"{arch}.embedding_length", "")),
                 ("quantization", d.get("quantization_level", ""))):
        click.echo(f"    {k:<20}{v}")
    if info.get("capabilities"):
        click.echo("\n  Capabilities")
        for cap in info["capabilities"]:
            click.echo(f"    {cap}")
    if info.get("parameters"):
        click.echo("\n  Parameters")
        for line in info["parameters"].splitlines():
            click.echo(f"    {line}")


def copy(src: str, dst: str) -> None:
    with Client() as c:
        c.send("/api/copy", {"source": src, "destination": dst})
    click.echo(f"copied '{src}' to '{dst}'")


def remove(models: tuple[str, ...]) -> None:
    with Client() as c:
        for m in models:
            c.delete("/api/delete", {"model": m})
            click.echo(f"deleted '{m}'")


def stop(model: str) -> None:
    with Client() as c:
        loaded = [m["name"] for m in c.get("/api/ps")["models"]]
        if model not in loaded:
            raise CLIError(f"couldn't find model \"{model}\" to stop")
        c.post("/api/generate", {"model": model, "keep_alive": 0})


def transfer(verb: str, model: str, insecure: bool) -> None:
    """pull or push with progress bars (rich) from the server's progress records."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Client(embedded_ok=verb == "pull") as c, Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), transient=False) as bars:
        tasks: dict[str, Any] = {}
        status = None
        for rec in c.stream(f"/api/{verb}", {"model": model, "insecure": insecure}):
            digest = rec.get("digest")
            if digest and rec.get("total"):
                if digest not in tasks:
                    tasks[digest] = bars.add_task(f"{verb}ing {digest[7:19]}",
                                                  total=rec["total"])
                bars.update(tasks[digest], completed=rec.get("completed", 0))
            elif rec.get("status") != status:
                status = rec.get("status")
                bars.console.print(status)


def create(name: str, modelfile: str, quantize: str) -> None:
    """Parse the Modelfile here, upload the local files it names as blobs, then /api/create."""
    from pathlib import Path

    import msgspec

    from llmrt.api.records import create_body
    from llmrt.runtime.store import prepare_modelfile

    path = Path(modelfile)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CLIError(f"cannot read {modelfile}: {exc.strerror}") from None
    req, uploads = prepare_modelfile(name, text, base_dir=path.parent, quantize=quantize)
    with Client(embedded_ok=True) as c:
        for digest, file in uploads.items():
            if c.http.head(f"/api/blobs/{digest}").status_code != 200:
                click.echo(f"uploading {file.name}", err=True)
                with file.open("rb") as f:
                    c._check(c.http.post(f"/api/blobs/{digest}", content=f))
        status = None
        for rec in c.stream("/api/create", msgspec.to_builtins(create_body(req))):
            if rec.get("status") != status:
                status = rec.get("status")
                click.echo(status, err=True)
