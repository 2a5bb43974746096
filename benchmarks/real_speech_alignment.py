"""The alignment map on real English speech with known word times.

pocketsphinx's source distribution on PyPI ships five LibriVox recordings (Jane Austen, "Sense
and Sensibility", one reader, read speech, 16 kHz, 25 s, 49 words) with their transcripts and
each word's time from CMU Sphinx's HMM forced aligner (en-us acoustic model): real speech, and
a reference independent of Whisper. Against those spans, per word:

- the built-in aligner (Whisper tiny.en forced alignment of the transcript, what the time prior
  reads): its word centre inside the reference span, mean absolute boundary error;
- the model's alignment map (a run's recognizer, `classify(wave, transcript)`): its peak inside
  the reference span, against chance (the share of frames inside the span);
- the ASR path (`classify(wave, None)`): the built-in ASR's words that match the reference words
  (difflib), their times and the map's peaks scored the same way.

The sdist (34 MB) is fetched once from PyPI into --work-dir, its sha256 checked against PyPI's;
only the five recordings are unpacked. Writes the HTML report of the five (transcripts given)
into --work-dir/report. Nothing is committed; the numbers are in docs/explanations.md.

    python benchmarks/real_speech_alignment.py hri-emo-demo/benchmark/runs/hriemo-v2/seed0 \\
        --work-dir runs/real_speech
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import tarfile
import urllib.request
from pathlib import Path

import numpy as np

from hri_emo.encoders import load_audio
from hri_emo.explain import alignment_accuracy, write_report
from hri_emo.inference import EmotionRecognizer

INDEX = "https://pypi.org/simple/pocketsphinx/"  # the registry's simple API (PEP 691 JSON)
SDIST = "pocketsphinx-5.1.1.tar.gz"
FOLDER = "pocketsphinx-5.1.1/test/data/librivox/"


def fetch(work_dir: Path) -> Path:
    """The five recordings, their transcripts and word times, unpacked into work_dir."""
    out = work_dir / "librivox"
    if out.is_dir() and len(list(out.glob("*.wav"))) == 5:
        return out
    request = urllib.request.Request(
        INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        sdist = next(f for f in json.load(response)["files"] if f["filename"] == SDIST)
    archive = work_dir / SDIST
    if not archive.exists():
        urllib.request.urlretrieve(sdist["url"], archive)
    if hashlib.sha256(archive.read_bytes()).hexdigest() != sdist["hashes"]["sha256"]:
        raise SystemExit(f"{archive}: sha256 differs from PyPI's")
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name
            if name.startswith(FOLDER) and re.search(r"-\d{4}\.(wav|txt|json)$", name):
                member.name = Path(name).name
                tar.extract(member, out, filter="data")
    return out


def reference(path: Path) -> list[tuple[str, tuple[float, float]]]:
    """(word, (start, end)) of each spoken word: the aligner's segments less its silences, and
    its pronunciation variants ("was(2)") named as the word."""
    segments = json.loads(path.read_text())["w"]
    return [
        (re.sub(r"\(\d+\)$", "", s["t"]), (s["b"], s["b"] + s["d"]))
        for s in segments
        if not s["t"].startswith("<")
    ]


def centre_scores(times: list, spans: list) -> tuple[list[bool], list[float]]:
    """Per word with both: is the centre of `times` inside the reference span; boundary error."""
    inside, errors = [], []
    for timed, span in zip(times, spans):
        if timed is None or not np.all(np.isfinite(timed)):
            continue
        inside.append(span[0] <= (timed[0] + timed[1]) / 2 <= span[1])
        errors += [abs(timed[0] - span[0]), abs(timed[1] - span[1])]
    return inside, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run, checkpoint or save_pretrained folder")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/real_speech"))
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    folder = fetch(args.work_dir)
    recognizer = EmotionRecognizer.from_pretrained(args.run)
    given, heard = [], []  # (explanation, reference spans per word)
    aligner_inside, aligner_errors, asr_inside, asr_errors = [], [], [], []
    for wav in sorted(folder.glob("*.wav")):
        ref = reference(wav.with_suffix(".json"))
        words = [w for w, _ in ref]
        wave = load_audio(wav)
        exp = recognizer.classify(wave, " ".join(words))
        exp.utterance_id = wav.stem
        if exp.words != words:
            raise SystemExit(f"{wav.name}: encoder words {exp.words} differ from {words}")
        spans = [span for _, span in ref]
        given.append((exp, spans))
        inside, errors = centre_scores(exp.word_times or [], spans)
        aligner_inside += inside
        aligner_errors += errors
        asr = recognizer.classify(wave, None)
        matched: list = [None] * len(asr.words)
        blocks = difflib.SequenceMatcher(a=[w.lower() for w in asr.words], b=words)
        for block in blocks.get_matching_blocks():
            for k in range(block.size):
                matched[block.a + k] = spans[block.b + k]
        heard.append((asr, matched))
        pairs = [(t, s) for t, s in zip(asr.word_times or [], matched) if s is not None]
        inside, errors = centre_scores([t for t, _ in pairs], [s for _, s in pairs])
        asr_inside += inside
        asr_errors += errors
        print(f"{wav.stem}: {len(words)} words; ASR heard {asr.transcript!r}")
    model = alignment_accuracy([e for e, _ in given], [s for _, s in given])
    own = alignment_accuracy([e for e, _ in given])
    for exp, spans in given:  # the report's red bars: the reference spans, as the demo's
        exp.word_times = [tuple(span) for span in spans]
        exp.notes.append("Red bars: each word's time from CMU Sphinx's forced alignment.")
    report = write_report([e for e, _ in given], args.work_dir / "report", title="Real speech")
    print(f"report (the transcripts given): {report}")
    asr_map = alignment_accuracy([e for e, _ in heard], [s for _, s in heard])
    print(
        f"\nReal speech, {len(given)} LibriVox recordings, {model['words']} words; reference: "
        "CMU Sphinx forced alignment"
    )
    print(
        f"  built-in aligner (Whisper tiny.en): word centre inside the reference span "
        f"{np.mean(aligner_inside):.3f} ({len(aligner_inside)} words), mean boundary error "
        f"{np.mean(aligner_errors) * 1000:.0f} ms"
    )
    print(
        f"  model's alignment map, transcript given: peak inside the reference span "
        f"{model['accuracy']:.3f} (chance {model['chance']:.3f}); inside Whisper's span "
        f"{own['accuracy']:.3f} (chance {own['chance']:.3f})"
    )
    print(
        f"  ASR transcript: {len(asr_inside)} of {model['words']} reference words heard and "
        f"matched; their time's centre inside the reference span {np.mean(asr_inside):.3f}, "
        f"boundary error {np.mean(asr_errors) * 1000:.0f} ms; map peak inside "
        f"{asr_map['accuracy']:.3f} (chance {asr_map['chance']:.3f})"
    )


if __name__ == "__main__":
    main()
