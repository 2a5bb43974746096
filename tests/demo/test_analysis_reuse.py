"""The demo's last step is reused only while nothing it reads has changed."""

from __future__ import annotations

import json

from hri_emo.demo.pipeline import STAMP, analysis_inputs, finished_analysis


def test_the_analysis_is_reused_until_an_input_changes(tmp_path):
    manifest, store = tmp_path / "manifest.csv", tmp_path / "text.h5"
    manifest.write_text("id,split\na,test\n")
    store.write_bytes(b"features")
    best = tmp_path / "benchmark" / "runs" / "hriemo-v2" / "seed0" / "checkpoints" / "best"
    best.mkdir(parents=True)
    (best / "model.safetensors").write_bytes(b"weights")
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    inputs = analysis_inputs(manifest, {"text": store}, tmp_path / "benchmark")
    assert str(best / "model.safetensors") in inputs["files"] and len(inputs["code"]) == 64
    finished = {"status": "finished", "inputs": inputs, "report": str(report), "map": 0.8}
    (tmp_path / STAMP).write_text(json.dumps(finished))
    assert finished_analysis(tmp_path, inputs) == {"report": str(report), "map": 0.8}

    (best / "model.safetensors").write_bytes(b"retrained weights")
    changed = analysis_inputs(manifest, {"text": store}, tmp_path / "benchmark")
    assert finished_analysis(tmp_path, changed) is None  # a checkpoint changed: explain again
    report.unlink()
    assert finished_analysis(tmp_path, inputs) is None  # the report is gone: write it again
    report.write_text("<html></html>")
    (tmp_path / STAMP).write_text(json.dumps({**finished, "status": "started"}))
    assert finished_analysis(tmp_path, inputs) is None  # an interrupted run
