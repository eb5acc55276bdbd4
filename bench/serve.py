"""`llmrt serve` against llama.cpp's llama-server (same build, model, threads), same run.

    python bench/serve.py [--model smollm2:135m] [--clients 1 4 8 16] [--tokens 128]

For each N: N concurrent streaming clients, each generating --tokens tokens at temperature 0 from
its own counting prompt (so that no stream ends early), against `llmrt serve` with
LLMRT_NUM_PARALLEL=N and against `llama-server -np N`. Prints aggregate tokens/s, time to first
token p50/p99, and the ratios. Then a prefix-reuse check: the TTFT of a second chat turn on a
~1k-token history against the first turn's.
Targets: single stream >= 1.0x, 4-16 clients >= 1.1x llama-server; second turn TTFT <= 0.15x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from llmrt.runtime import bundled, native

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import free_port  # noqa: E402


def wait_ready(url: str, proc: subprocess.Popen, path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


class Target:
    def __init__(self, kind: str, model: Path, name: str, n: int, threads: int,
                 ctx: int) -> None:
        self.kind, self.name = kind, name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        if kind == "llmrt":
            env = {**os.environ, "LLMRT_HOST": f"127.0.0.1:{port}",
                   "LLMRT_NUM_PARALLEL": str(n), "LLMRT_CONTEXT_LENGTH": str(ctx)}
            self.proc = subprocess.Popen([sys.executable, "-m", "llmrt", "serve"], env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(self.url, self.proc, "/")
            # load with the bench's thread count before timing anything
            httpx.post(self.url + "/api/generate", timeout=120,
                       json={"model": name, "options": {"num_thread": threads}})
        else:
            cmd = [str(native.tool("llama-server")), "-m", str(model), "--port", str(port),
                   "--host", "127.0.0.1", "-np", str(n), "-c", str(ctx * n), "-t", str(threads),
                   "--no-webui"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            wait_ready(self.url, self.proc, "/health")
        self.threads = threads

    def stream(self, prompt: str, tokens: int, messages: list | None = None) -> tuple[float, int]:
        """Return (time to first token, tokens received)."""
        t0 = time.perf_counter()
        first = None
        count = 0
        body: dict[str, Any]
        if self.kind == "llmrt":
            if messages is not None:
                url, body = "/api/chat", {"model": self.name, "messages": messages}
            else:
                url, body = "/api/generate", {"model": self.name, "prompt": prompt, "raw": True}
            body.update(stream=True, options={"temperature": 0, "num_predict": tokens,
                                              "num_thread": self.threads})
            with httpx.stream("POST", self.url + url, json=body, timeout=300) as r:
                for line in r.iter_lines():
                    rec = json.loads(line)
                    if rec.get("done"):
                        count = rec["eval_count"]
                    elif first is None:
                        first = time.perf_counter() - t0
        else:
            if messages is not None:
                url, body = "/v1/chat/completions", {"messages": messages, "max_tokens": tokens,
                                                     "stream": True, "temperature": 0}
                with httpx.stream("POST", self.url + url, json=body, timeout=300) as r:
                    for line in r.iter_lines():
                        if line.startswith("data: ") and line != "data: [DONE]":
                            if first is None:
                                first = time.perf_counter() - t0
                            count += 1
                return first or 0.0, count
            body = {"prompt": prompt, "n_predict": tokens, "stream": True, "temperature": 0,
                    "samplers": ["top_k"], "top_k": 1, "cache_prompt": True}
            with httpx.stream("POST", self.url + "/completion", json=body, timeout=300) as r:
                for line in r.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    rec = json.loads(line[6:])
                    if rec.get("stop"):
                        count = rec.get("tokens_predicted", count)
                    elif first is None:
                        first = time.perf_counter() - t0
        return first or 0.0, count

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_clients(target: Target, n: int, tokens: int) -> dict[str, float]:
    results: list[tuple[float, int]] = [(0.0, 0)] * n

    def one(i: int) -> None:
        start = 10 * i + 1
        prompt = ", ".join(str(k) for k in range(start, start + 5)) + ","
        results[i] = target.stream(prompt, tokens)

    target.stream("1, 2, 3,", 4)  # warm up
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttfts = sorted(r[0] for r in results)
    total = sum(r[1] for r in results)
    return {"tps": total / wall, "ttft_p50": statistics.median(ttfts),
            "ttft_p99": ttfts[min(len(ttfts) - 1, int(0.99 * len(ttfts)))], "tokens": total}


def second_turn(target: Target) -> tuple[float, float]:
    history = [{"role": "user", "content": "Here are my notes. " + "The ocean is deep and "
                "blue, and the tides follow the moon. " * 60 + "Summarize them."}]
    first, _ = target.stream("", 16, messages=history)
    history += [{"role": "assistant", "content": "The notes describe the ocean."},
                {"role": "user", "content": "And what about the moon?"}]
    second, _ = target.stream("", 16, messages=history)
    return first, second


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2:135m")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=2048, help="context per slot")
    a = ap.parse_args()
    path = bundled.ensure(a.model)
    print(f"model {a.model}, {a.threads} threads, {a.tokens} tokens per client")
    print(f"{'N':>3} {'server':12} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9}")
    for n in a.clients:
        rows = {}
        for kind in ("llama-server", "llmrt"):
            t = Target(kind, path, a.model, n, a.threads, a.ctx)
            try:
                rows[kind] = run_clients(t, n, a.tokens)
                if n == a.clients[0]:
                    rows[kind]["turns"] = second_turn(t)  # type: ignore[assignment]
            finally:
                t.close()
            r = rows[kind]
            print(f"{n:>3} {kind:12} {r['tps']:8.1f} {r['ttft_p50'] * 1e3:7.0f}ms "
                  f"{r['ttft_p99'] * 1e3:7.0f}ms")
        ratio = rows["llmrt"]["tps"] / rows["llama-server"]["tps"]
        print(f"{n:>3} {'ratio':12} {ratio:8.3f}")
        if "turns" in rows["llmrt"]:
            for kind in ("llama-server", "llmrt"):
                turns: Any = rows[kind]["turns"]
                t1, t2 = turns
                print(f"    {kind}: first turn TTFT {t1 * 1e3:.0f}ms, second turn "
                      f"{t2 * 1e3:.0f}ms ({t2 / t1:.3f}x)")


if __name__ == "__main__":
    main()
