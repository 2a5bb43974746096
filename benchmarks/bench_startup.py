"""Start-up of `hri-emo predict` as a user meets it: a fresh process each time.

- an input error (`--batch-size 0`, and a recording that does not exist): target < 1 s, since
  options and inputs are checked before anything heavy is imported or loaded;
- a first prediction of a 3 s recording with its transcript (an untrained hriemo-v2 with the
  embedded MiniLM and Whisper tiny.en encoders, so the weights do not change the time):
  target < 4 s.

Prints the median and the range of `--repeats` runs of each (wall time of the whole process).
The first (untimed) run caches the MiniLM ONNX export if it is missing (once, ~20 s): timed
runs then take the transformers-free text route (`encoders/text_onnx.py`).

    python benchmarks/bench_startup.py --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENTENCE = "I am so happy to see you again today my friend"


def timed(command: list[str], expect_rc: int) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    seconds = time.perf_counter() - start
    if run.returncode != expect_rc:
        raise SystemExit(f"{' '.join(command)} -> rc {run.returncode}:\n{run.stderr[-2000:]}")
    return seconds


def prepare(folder: Path) -> tuple[Path, Path]:
    """An untrained hriemo-v2 (384-d inputs) and a 3.0 s eSpeak recording of SENTENCE."""
    import numpy as np
    import soundfile as sf
    import torch

    from hri_emo.model import create_model
    from hri_emo.synth import synthesize

    torch.manual_seed(0)
    model = create_model("hriemo-v2", text_dim=384, audio_dim=384).save_pretrained(folder / "m")
    voice = synthesize(SENTENCE).resampled(16000).wave
    wave = np.zeros(48000, np.float32)
    wave[: min(len(voice), 48000)] = voice[:48000]
    sf.write(folder / "three_seconds.wav", wave, 16000)
    return model, folder / "three_seconds.wav"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "hri_emo.cli.main", "predict"]
    with tempfile.TemporaryDirectory() as tmp:
        model, wav = prepare(Path(tmp))
        cases = {
            "input error: --batch-size 0": (
                [*cli, str(model), "--input", tmp, "--batch-size", "0"],
                2,
            ),
            "input error: missing recording": ([*cli, str(model), "--audio", "nope.wav"], 2),
            "first prediction, 3 s + transcript": (
                [*cli, str(model), "--audio", str(wav), "--text", SENTENCE],
                0,
            ),
        }
        timed(cases["first prediction, 3 s + transcript"][0], 0)  # warm the OS file cache
        print(f"{'case':<38} {'median s':>9} {'min s':>7} {'max s':>7}")
        for name, (command, rc) in cases.items():
            times = [timed(command, rc) for _ in range(args.repeats)]
            print(
                f"{name:<38} {statistics.median(times):>9.2f} {min(times):>7.2f} {max(times):>7.2f}"
            )


if __name__ == "__main__":
    main()
