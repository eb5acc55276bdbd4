"""Server configuration from the environment: LLMRT_* names, and OLLAMA_* so setups carry over."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from llmrt.runtime.scheduler import SchedulerConfig, parse_keep_alive


def env(name: str, default: str | None = None) -> str | None:
    """``LLMRT_<name>``, else ``OLLAMA_<name>``, else default."""
    for prefix in ("LLMRT_", "OLLAMA_"):
        v = os.environ.get(prefix + name)
        if v not in (None, ""):
            return v
    return default


def parse_host(value: str | None) -> tuple[str, int]:
    """Ollama's OLLAMA_HOST: ``[scheme://]host[:port]``; default 127.0.0.1:11434."""
    if not value:
        return "127.0.0.1", 11434
    scheme = ""
    if "://" in value:
        scheme = value.split("://", 1)[0]
    else:
        value = "http://" + value
    parts = urlsplit(value)
    default_port = {"http": 80, "https": 443}.get(scheme, 11434)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@dataclass(slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 11434
    origins: list[str] = field(default_factory=list)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)

    @classmethod
    def from_env(cls) -> ServerConfig:
        host, port = parse_host(env("HOST"))
        keep = parse_keep_alive(env("KEEP_ALIVE", "5m"))
        sched = SchedulerConfig(
            keep_alive=300.0 if keep is None else keep,
            num_parallel=int(env("NUM_PARALLEL", "4") or 4),
            max_loaded_models=int(env("MAX_LOADED_MODELS", "3") or 3) or 3,
            max_queue=int(env("MAX_QUEUE", "512") or 512),
            context_length=int(env("CONTEXT_LENGTH", "4096") or 4096) or 4096,
        )
        sched.engine = (env("ENGINE", "auto") or "auto").lower()
        fa = env("FLASH_ATTENTION")
        if fa is not None:
            sched.flash_attn = fa.lower() in ("1", "true", "yes", "on")
        origins = [o.strip() for o in (env("ORIGINS") or "").split(",") if o.strip()]
        return cls(host=host, port=port, origins=origins, scheduler=sched)
