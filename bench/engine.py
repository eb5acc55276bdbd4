"""llmrt's in-process engine against llama.cpp's llama-bench, same build, same run.

    python bench/engine.py [--model smollm2:135m] [--threads 2] [--reps 3]

Prints pp512 and tg128 tokens/s for both and the ratios (target: >= 0.98x on both).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess

from llmrt.runtime import bundled, native
from llmrt.runtime.llm import LLM
from llmrt.runtime.options import Options


def llama_bench(model: str, threads: int, reps: int) -> dict[str, float]:
    cmd = [str(native.tool("llama-bench")), "-m", model, "-t", str(threads), "-p", "512",
           "-n", "128", "-r", str(reps), "-o", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = {}
    for row in json.loads(out):
        key = "pp512" if row["n_prompt"] == 512 else "tg128"
        res[key] = row["avg_ts"]
    return res


def ours(model: str, threads: int, reps: int) -> dict[str, float]:
    llm = LLM(model, num_ctx=2048, num_batch=512, num_thread=threads)
    try:
        n_vocab = llm.model.tokenizer.n_vocab
        rnd = random.Random(0)
        greedy = Options(temperature=0, num_predict=1).resolved()
        pp = []
        for _ in range(reps + 1):  # first run warms up
            tokens = [rnd.randrange(n_vocab) for _ in range(512)]
            gen = llm.session.generate(tokens, greedy)
            for _ in gen:
                pass
            pp.append(512 / gen.result.prompt_eval_duration * 1e9)
        tg = []
        for _ in range(reps + 1):
            r = llm.generate("Once upon a time", num_predict=128, temperature=0)
            tg.append(r.eval_count / r.eval_duration * 1e9)
        return {"pp512": statistics.mean(pp[1:]), "tg128": statistics.mean(tg[1:])}
    finally:
        llm.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2:135m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    path = str(bundled.ensure(a.model) if bundled.lookup(a.model) else a.model)
    theirs = llama_bench(path, a.threads, a.reps)
    mine = ours(path, a.threads, a.reps)
    print(f"model {a.model}, {a.threads} threads, cpu variant {native.cpu_variant()}")
    print(f"{'test':8} {'llama-bench t/s':>16} {'llmrt t/s':>10} {'ratio':>7}")
    for k in ("pp512", "tg128"):
        print(f"{k:8} {theirs[k]:16.1f} {mine[k]:10.1f} {mine[k] / theirs[k]:7.3f}")


if __name__ == "__main__":
    main()
