"""`hri-emo demo`: the untrained smoke run, and the whole user path extract -> train -> demo."""

from __future__ import annotations

import csv

import numpy as np
import soundfile as sf

from hri_emo.cli.demo import synthetic_voice
from hri_emo.cli.main import main

SENTENCES = {
    "happy": ["what a wonderful day", "i love this so much", "this is great news"],
    "sad": ["i miss my old friend", "nothing went right today", "i feel so alone"],
}


def test_untrained_demo_prints_decision_explanations_and_timings(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "untrained hriemo-v2" in out
    assert "decision (multilabel):" in out
    assert "beta (audio trust, 0..1):" in out
    assert "'can't' aligns best with audio" in out  # whole words, frame times in seconds
    assert "audio_encoder" in out and "text_encoder" in out


def test_extract_train_then_demo_with_the_run(tmp_path, capsys):
    """A robot team's path: a manifest of recordings, the embedded encoders, a trained run."""
    rows = []
    for split, count in (("train", 3), ("valid", 2), ("test", 1)):
        for label, sentences in SENTENCES.items():
            for i in range(count):
                wav = tmp_path / f"{split}_{label}_{i}.wav"
                pitch_shift = 1.0 if label == "happy" else 0.6
                sf.write(wav, synthetic_voice(1.0 + 0.2 * i) * pitch_shift, 16000)
                text = sentences[i % len(sentences)]
                rows.append({"id": wav.stem, "split": split, "text": text, "wav": wav.name,
                             "label": label, "speaker": f"s{i}"})  # fmt: skip
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for modality in ("text", "audio"):
        store = tmp_path / f"{modality}.h5"
        args = ["extract", str(manifest), "--modality", modality, "--out", str(store)]
        assert main([*args, "--no-progress"]) == 0
    overrides = [
        f"data.corpus={manifest}",
        f"data.text_features={tmp_path / 'text.h5'}",
        f"data.audio_features={tmp_path / 'audio.h5'}",
        "data.batch_size=4",
        "model.params.hidden_dim=16",
        "model.params.num_heads=2",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "train.tensorboard=false",
        f"train.output_dir={tmp_path / 'runs'}",
        "train.run_name=demo_run",
    ]
    assert main(["train", *overrides]) == 0
    capsys.readouterr()

    wav = tmp_path / "train_happy_0.wav"
    args = ["demo", "--model", str(tmp_path / "runs" / "demo_run"), "--wav", str(wav)]
    assert main([*args, "--text", "what a wonderful day"]) == 0
    out = capsys.readouterr().out
    assert "untrained" not in out
    assert "decision (singlelabel):" in out
    decision = next(line for line in out.splitlines() if line.startswith("decision"))
    assert decision.split(": ")[1] in SENTENCES  # one of the run's two classes
    probabilities = [float(line.split()[1]) for line in out.splitlines() if line[:4] == "  ha"]
    probabilities += [float(line.split()[1]) for line in out.splitlines() if line[:4] == "  sa"]
    assert len(probabilities) == 2 and np.isclose(sum(probabilities), 1.0, atol=2e-3)
