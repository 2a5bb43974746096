"""docs/tutorial.md, run exactly as printed, on a tiny generated corpus of spoken recordings."""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hri_emo.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
WORDS = {
    "happy": ["I am so happy to see you", "What a wonderful day", "This is great news"],
    "sad": ["I miss her so much", "Nothing went right today", "I feel so alone"],
}
VOICE = {"happy": {"rate": 200, "pitch": 80, "pitch_range": 100}, "sad": {"rate": 110, "pitch": 20}}


def tutorial_commands() -> list[str]:
    """The shell commands of the tutorial's ```bash blocks, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def write_tiny_corpus(folder: Path) -> None:
    """4 training speakers and 1 test speaker, 2 emotions carried by words and voice, plus the
    `new_001.wav` the tutorial predicts on."""
    (folder / "wav").mkdir(parents=True)
    rows = []
    speakers = {"en-us+m1": "train", "en+f2": "train", "en-us+m3": "train", "en+f4": "train",
                "en-us+m7": "test"}  # fmt: skip
    for voice, split in speakers.items():
        name = voice.replace("+", "_")
        for label, sentences in WORDS.items():
            for i, text in enumerate(sentences):
                uid = f"{name}_{label}_{i}"
                synthesize(text, voice=voice, **VOICE[label]).resampled(16000).write(
                    folder / "wav" / f"{uid}.wav"
                )
                rows.append({"id": uid, "split": split, "speaker": name, "text": text,
                             "wav": f"wav/{uid}.wav", "label": label})  # fmt: skip
    with (folder / "manifest.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    synthesize(WORDS["sad"][0], voice="en+m2", **VOICE["sad"]).write(folder / "wav" / "new_001.wav")


def test_the_tutorial_runs_as_printed(tmp_path):
    commands = tutorial_commands()
    assert len(commands) == 7 and all(c.startswith("hri-emo ") for c in commands)
    write_tiny_corpus(tmp_path / "my-recordings")
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    outputs = []
    for command in commands:
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        outputs.append(done.stdout)
    assert (tmp_path / "runs" / "my-robot" / "eval" / "best-test" / "metrics.json").is_file()
    assert (tmp_path / "my-report" / "report.html").is_file()
    assert '"predicted"' in outputs[-1] and '"sad"' in outputs[-1]


@pytest.mark.parametrize("command", tutorial_commands())
def test_every_tutorial_command_parses(command):
    """No flag in the tutorial that the CLI does not have."""
    from hri_emo.cli.main import build_parser

    _, unknown = build_parser().parse_known_args(shlex.split(command)[1:])
    assert all("=" in u for u in unknown), unknown  # only dotted config overrides are left
