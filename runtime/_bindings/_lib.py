"""The only importer of the compiled module: ``ffi``/``lib``, init once, the error choke point.

Every other module in this package takes ``ffi``/``lib`` from here; nothing outside
``llmrt.runtime._bindings`` may import them.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import LlmrtError, NativeBuildError

#: The llama.cpp commit this package was written against (vendor/llama.cpp.toml pins the same).
EXPECTED_LLAMA_CPP_COMMIT = "0c1e570"

try:
    from .._llama import ffi, lib  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - depends on the build
    raise NativeBuildError(
        f"llmrt's compiled module is missing or broken ({exc}); build it with `pip install -e .`"
    ) from exc


def verify_build(built: str, expected: str = EXPECTED_LLAMA_CPP_COMMIT) -> None:
    """Refuse a compiled module built from another llama.cpp than this package expects."""
    if built != expected:
        raise NativeBuildError(
            f"llmrt.runtime._llama was built from llama.cpp {built}, but this package expects "
            f"{expected}; rebuild with `pip install -e .`"
        )


BUILD_COMMIT = ffi.string(lib.llmrt_build_commit()).decode()
verify_build(BUILD_COMMIT)

NULL = ffi.NULL
_log = logging.getLogger("llmrt.llama")
_LEVELS = {
    lib.GGML_LOG_LEVEL_DEBUG: logging.DEBUG,
    lib.GGML_LOG_LEVEL_INFO: logging.INFO,
    lib.GGML_LOG_LEVEL_WARN: logging.WARNING,
    lib.GGML_LOG_LEVEL_ERROR: logging.ERROR,
}
_last_level = [logging.INFO]


@ffi.def_extern()
def _llmrt_log(level: int, text: Any, user_data: Any) -> None:
    if level == lib.GGML_LOG_LEVEL_CONT:
        py_level = _last_level[0]
    else:
        py_level = _LEVELS.get(level, logging.INFO)
        _last_level[0] = py_level
    if _log.isEnabledFor(py_level):
        msg = ffi.string(text).decode("utf-8", "replace").rstrip("\n")
        if msg:
            _log.log(py_level, "%s", msg)


def _init() -> None:
    lib.llama_log_set(lib._llmrt_log, NULL)
    lib.ggml_log_set(lib._llmrt_log, NULL)
    lib.llama_backend_init()


ffi.init_once(_init, "llmrt-backend-init")


def check(rc: int, what: str, exc: type[LlmrtError] = LlmrtError, ok: int = 0) -> int:
    """Raise ``exc`` unless ``rc == ok``; return rc."""
    if rc != ok:
        raise exc(f"{what} failed (code {rc})")
    return rc


def check_ptr(ptr: Any, what: str, exc: type[LlmrtError] = LlmrtError) -> Any:
    """Raise ``exc`` when a C constructor returned NULL; return the pointer."""
    if ptr == NULL:
        raise exc(f"{what} failed")
    return ptr


def cstr(ptr: Any) -> str:
    """A C string as str ('' for NULL), decoded leniently."""
    return "" if ptr == NULL else ffi.string(ptr).decode("utf-8", "replace")
