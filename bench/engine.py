"""llmrt's in-process engine against llama.cpp's llama-bench, same build, same run.

    python bench/engine.py [--model smollm2:135m] [--threads 2] [--reps 3]

Prints pp512 and tg128 tokens/s for both and the ratios (target: >= 0.98x on both). The two
are measured in alternating rounds (llama-bench, then llmrt, repeated) and compared by their
medians, so that a noisy neighbour on a shared machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess

from llmrt.runtime import bundled, native
from llmrt.runtime.llm import LLM


def llama_bench(model: str, threads: int) -> dict[str, float]:
    """One llama-bench round: 3 repetitions of pp512 and tg128 in a fresh process, the median
    of the last two (the first one of a new process pays for page faults and thread start)."""
    cmd = [str(native.tool("llama-bench")), "-m", model, "-t", str(threads), "-p", "512",
           "-n", "128", "-r", "3", "-o", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {"pp512" if row["n_prompt"] == 512 else "tg128":
            statistics.median(row["samples_ts"][1:]) for row in json.loads(out)}


class Ours:
    """llmrt's engine on the same model: pp512 is one 512-token prompt evaluation, tg128 is
    128 generated tokens through the full generation loop (sampling, detokenizing, stops)."""

    def __init__(self, model: str, threads: int) -> None:
        self.llm = LLM(model, num_ctx=2048, num_batch=512, num_thread=threads)
        self.n_vocab = self.llm.model.tokenizer.n_vocab
        self.rnd = random.Random(0)
        self.round()  # warm up

    def round(self) -> dict[str, float]:
        tokens = [self.rnd.randrange(self.n_vocab) for _ in range(512)]
        first = self.llm.generate(tokens, num_predict=1, temperature=0)
        pp = 512 / first.prompt_eval_duration * 1e9
        r = self.llm.generate("1, 2, 3, 4, 5,", num_predict=128, temperature=0)
        return {"pp512": pp, "tg128": r.eval_count / r.eval_duration * 1e9}

    def close(self) -> None:
        self.llm.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2:135m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    path = str(bundled.ensure(a.model) if bundled.lookup(a.model) else a.model)
    ours = Ours(path, a.threads)
    rounds: dict[str, dict[str, list[float]]] = {"llama-bench": {}, "llmrt": {}}
    try:
        for _ in range(a.rounds):
            for side, result in (("llama-bench", llama_bench(path, a.threads)),
                                 ("llmrt", ours.round())):
                for k, v in result.items():
                    rounds[side].setdefault(k, []).append(v)
    finally:
        ours.close()
    print(f"model {a.model}, {a.threads} threads, cpu variant {native.cpu_variant()}, "
          f"{a.rounds} alternating rounds, medians")
    print(f"{'test':8} {'llama-bench t/s':>16} {'llmrt t/s':>10} {'ratio':>7}")
    for k in ("pp512", "tg128"):
        theirs = statistics.median(rounds["llama-bench"][k])
        mine = statistics.median(rounds["llmrt"][k])
        print(f"{k:8} {theirs:16.1f} {mine:10.1f} {mine / theirs:7.3f}")


if __name__ == "__main__":
    main()
