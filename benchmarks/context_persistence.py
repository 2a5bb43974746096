"""Does conversation context pay where emotions persist across turns? A synthetic check.

Builds dialogues of 8 turns between two speakers in which the emotion (4 classes) stays the
same from one turn to the next with probability --persist and otherwise changes at random.
Each utterance's text features carry a weak, noisy cue of its own emotion (word sequences of
MiniLM's size, real HDF5 store), so the utterance alone is ambiguous and the past turns help in
proportion to how much emotions persist. Trains `hriemo-v2` (configs/meld.yaml's settings)
with `data.context_turns` = each --context value over --seeds through `run_benchmark`, and
prints test accuracy / weighted F1 per setting. With --persist 0.25 (= chance of staying among 4
classes) the past turns carry no information: the control.

With --audio-cue c > 0 each utterance also gets 8 utterance-level "acoustic functionals" (real
HDF5 store) carrying a cue of its emotion of strength c, and --context-audio lets the runs with
k > 0 read the past turns' audio too (data.context_audio): does the voice of the past pay?

    python benchmarks/context_persistence.py --out /tmp/persist --persist 0.8 --context 0 3
    python benchmarks/context_persistence.py --out /tmp/persist --audio-cue 0.5 --context 3 \
        --context-audio
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from hri_emo.data.store.feature_store import FeatureMetadata, FeatureStore
from hri_emo.training.benchmark import run_benchmark
from hri_emo.training.config import load_config

REPO_ROOT = Path(__file__).resolve().parents[1]
EMOTIONS = ["neutral", "happy", "sad", "angry"]
DIM, TURNS, FUNCTIONALS = 384, 8, 8
METRICS = ("accuracy", "weighted_f1")


def write_corpus(
    folder: Path,
    persist: float,
    cue: float,
    seed: int = 0,
    dialogues=(120, 30, 60),
    audio_cue: float = 0.0,
) -> Path:
    """dialogues.csv + text.h5 (+ audio.h5 with `audio_cue` > 0) in `folder`; returns the
    manifest."""
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(len(EMOTIONS), DIM)).astype(np.float32)
    voices = np.random.default_rng(seed + 1).normal(size=(len(EMOTIONS), FUNCTIONALS))
    folder.mkdir(parents=True, exist_ok=True)
    meta = FeatureMetadata(encoder="synthetic", revision="1", modality="text",
                           level="sequence", dim=DIM)  # fmt: skip
    audio_meta = FeatureMetadata(encoder="synthetic", revision="1", modality="audio",
                                 level="pooled", dim=FUNCTIONALS)  # fmt: skip
    audio = None
    if audio_cue > 0:
        audio = FeatureStore.create(folder / "audio.h5", audio_meta, overwrite=True)
    audio_rng = np.random.default_rng(seed + 2)  # the text draws stay those without audio
    rows = ["id,split,text,speaker,dialogue,turn,label"]
    with FeatureStore.create(folder / "text.h5", meta, overwrite=True) as store:
        for split, count in zip(("train", "valid", "test"), dialogues, strict=True):
            for d in range(count):
                emotion = int(rng.integers(len(EMOTIONS)))
                for t in range(TURNS):
                    if t and rng.random() > persist:
                        emotion = int(rng.integers(len(EMOTIONS)))
                    words = int(rng.integers(4, 9))
                    text = rng.normal(size=(words, DIM)).astype(np.float32)
                    text[int(rng.integers(words))] += cue * prototypes[emotion]  # one cue word
                    uid = f"{split}-{d}-{t}"
                    store.write(uid, text, tokens=[f"w{i}" for i in range(words)])
                    if audio is not None:
                        voice = audio_rng.normal(size=FUNCTIONALS) + audio_cue * voices[emotion]
                        audio.write(uid, voice.astype(np.float32))
                    label = EMOTIONS[emotion]
                    rows.append(f"{uid},{split},x,spk{t % 2},{split}-{d},{t},{label}")
    if audio is not None:
        audio.close()
    manifest = folder / "dialogues.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--persist", type=float, default=0.8)
    parser.add_argument("--context", type=int, nargs="+", default=[0, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cue", type=float, default=0.15, help="strength of the emotion cue")
    parser.add_argument("--audio-cue", type=float, default=0.0,
                        help="> 0: per-utterance audio, emotion cue this strong")  # fmt: skip
    parser.add_argument("--context-audio", action="store_true",
                        help="runs with context also read the past turns' audio")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = args.out / f"persist{args.persist}-cue{args.cue}"
    audio = []
    if args.audio_cue > 0:
        folder = folder.with_name(f"{folder.name}-audio{args.audio_cue}")
    manifest = write_corpus(folder, args.persist, args.cue, audio_cue=args.audio_cue)
    if args.audio_cue > 0:
        audio = [f"data.audio_features={folder / 'audio.h5'}"]
    rows = []
    for k in args.context:
        voice = args.context_audio and k > 0
        overrides = [
            f"data.corpus={manifest}",
            "data.format=manifest",
            "data.val_split=valid",
            f"data.text_features={folder / 'text.h5'}",
            *audio,
            f"data.context_turns={k}",
            f"data.context_audio={str(voice).lower()}",
            f"benchmark.seeds=[{','.join(map(str, args.seeds))}]",
            "trainer.enable_progress_bar=false",
            "train.tensorboard=false",
        ]
        cfg = load_config(REPO_ROOT / "configs" / "meld.yaml", overrides)
        name = f"context{k}" + ("-audio" if voice else "")
        summary = run_benchmark(cfg, folder / name, command=" ".join(overrides))
        metrics = summary["models"][cfg.model.name]
        cells = [f"{metrics[m]['mean']:.3f} ± {metrics[m]['std']:.3f}" for m in METRICS]
        past = f"{k}" + (" + audio" if voice else "")
        rows.append(f"| {args.persist} | {args.audio_cue} | {past} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    print(f"\ntest split, seeds {args.seeds}")
    print("| persistence | audio cue | context turns | accuracy | weighted F1 |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
