"""The cpu plugin: features, cores, memory, and the variant chosen by running it."""

from __future__ import annotations

import os
from pathlib import Path

from llmrt.backends import BackendManager, DeviceKind, Status, host
from llmrt.runtime import native
from llmrt.runtime.loader import open_model

from .cpu_oracle import check_best_that_runs
from .plugins_inline import ep


def test_crashing_variant_is_rejected_by_execution(variant_dir: Path):
    m = BackendManager(variant_dir, env={}, eps=[ep("cpu")])
    probe = m.probe("cpu")
    assert probe.status is Status.AVAILABLE
    verdicts = {c.name: (c.verdict, c.reason) for c in probe.candidates}
    assert verdicts["sapphirerapids"] == ("rejected", "crashed with SIGILL while running a matmul")
    assert verdicts["x64"][0] == "chosen"
    assert probe.properties["variant"] == "x64"
    assert probe.libraries == (str(variant_dir / "libggml-cpu-x64.so"),)


def test_every_candidate_is_accounted_for():
    probe = BackendManager(native.native_dir(), env={}, eps=[ep("cpu")]).probe("cpu")
    built = sorted(p.name for p in native.native_dir().glob("libggml-cpu-*.so"))
    assert sorted(Path(c.path).name for c in probe.candidates) == built
    # the best variant that runs on this CPU, whichever CPU it is
    chosen = check_best_that_runs([(c.name, c.verdict, c.reason) for c in probe.candidates])
    assert probe.properties["variant"] == chosen


def test_reads_cores_memory_and_features():
    probe = BackendManager(native.native_dir(), env={}, eps=[ep("cpu")]).probe("cpu")
    [cpu] = probe.devices
    assert cpu.kind is DeviceKind.CPU
    assert cpu.properties["logical_cores"] == os.cpu_count()
    assert probe.properties["default_threads"] == cpu.properties["physical_cores"]
    assert probe.properties["default_threads"] == host.physical_cores()
    assert 0 < cpu.memory_free <= cpu.memory_total
    flags = Path("/proc/cpuinfo").read_text()
    assert all(f in flags for f in probe.features) and probe.features


def test_forced_variant(monkeypatch):
    monkeypatch.setenv("LLMRT_CPU_VARIANT", "x64")
    probe = BackendManager(native.native_dir(), env={}, eps=[ep("cpu")]).probe("cpu")
    assert probe.properties["variant"] == "x64"
    assert probe.reason == "variant x64: forced by LLMRT_CPU_VARIANT"


def test_models_load_on_the_chosen_variant_and_generate(smollm2_path: Path, smollm2):
    with open_model(smollm2_path) as model:
        plan = model.placement
        assert plan is not None and plan.selection.backend == "cpu"
        assert plan.n_gpu_layers == 0 and plan.devices == ()
        assert model.devices == () and model.offloaded_bytes == 0
    assert native.cpu_variant() == BackendManager(
        native.native_dir(), env={}, eps=[ep("cpu")]).probe("cpu").properties["variant"]
    assert smollm2.generate("Hello", num_predict=3, temperature=0).eval_count == 3
