"""Child process of the CPU variant probe: load one variant, run the probe matmul, print JSON.

Usage: python -m llmrt.backends._cpu_probe_child /path/to/libggml-cpu-<variant>.so
A variant whose instructions fault kills this process; the parent reads the signal.
"""

from __future__ import annotations

import json
import logging
import sys


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def main(path: str) -> int:
    keep = _Keep()
    logging.getLogger("llmrt.llama").addHandler(keep)
    logging.getLogger("llmrt.llama").setLevel(logging.INFO)
    from llmrt.runtime._bindings import backend
    from llmrt.runtime.errors import LlmrtError

    try:
        name = backend.load_backend(path)
        ran = backend.probe_matmul(name)
    except LlmrtError as exc:
        said = [line for line in keep.lines if "not supported" in line]
        print(json.dumps({"ok": False, "reason": said[-1] if said else str(exc)}))
        return 0
    print(json.dumps({"ok": True, "registry": name, "buffer_types": ran}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
