"""`hri-emo predict MODEL`: emotions of one utterance, a manifest or a folder of recordings.

One utterance (`--audio x.wav` and/or `--text "..."`) prints a table, or its UtteranceExplanation
as JSON with `--json`. Many (`--input manifest.csv|.jsonl|folder`) are classified in batches and
written one row per utterance (CSV, or JSONL holding each UtteranceExplanation); a file that
cannot be used gets its error in the `error` column and the run goes on.

`load_item` reads an item's recording and transcript; each problem is an error naming the file.
The table shows a transcript through `terminal_safe`: control characters, ANSI escapes and
bidirectional overrides are shown escaped (`\\x1b[31m`), never sent to the terminal raw.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hri_emo.cli.predict_io import PredictItem, atomic_output, check_options, output_format
from hri_emo.errors import AudioError, DataError, HriEmoError
from hri_emo.paths import AUDIO_SUFFIXES

if TYPE_CHECKING:
    import numpy as np

ITEM_ERRORS = (HriEmoError, OSError, RuntimeError, ValueError)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="recognise emotions in recordings and/or transcripts with a trained model",
        description=(
            "Classifies one utterance (--audio and/or --text) or many (--input: a CSV/JSONL "
            "manifest with audio/text columns, or a folder of wavs with NAME.txt transcripts "
            "beside them). Recordings without a transcript are transcribed offline (embedded "
            "Whisper tiny.en) unless --asr none."
        ),
    )
    parser.add_argument("model", help="a run folder, checkpoint folder or save_pretrained folder")
    parser.add_argument(
        "--audio",
        default=None,
        help=f"one recording (any rate and channels; {', '.join(AUDIO_SUFFIXES)})",
    )
    parser.add_argument("--text", default=None, help="its transcript")
    parser.add_argument(
        "--input",
        default=None,
        help="a manifest (.csv/.jsonl) or a folder of recordings "
        f"({', '.join(AUDIO_SUFFIXES)}; NAME.txt beside NAME.wav is its transcript)",
    )
    parser.add_argument(
        "--output", default=None, help="many inputs: .csv or .jsonl file (default: stdout)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --output file"
    )
    parser.add_argument("--json", action="store_true", help="JSON (one input) / JSONL output")
    parser.add_argument("--maps", action="store_true", help="include the explanation maps")
    parser.add_argument(
        "--attribution",
        default="attention",
        choices=("attention", "erasure", "integrated-gradients"),
        help="the word map: the model's own (default; exact contributions for hriemo-v2), word "
        "erasure (each word removed, the rest encoded again; ~30 ms more) or Integrated "
        "Gradients (seconds per utterance)",
    )
    parser.add_argument(
        "--asr", default="auto", help="auto (embedded tiny.en), none, or a Whisper folder/size"
    )
    parser.add_argument("--backend", default="torch", choices=("torch", "onnxruntime"))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=2, help="CPU threads of torch, the ASR and onnxruntime"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="longest recording accepted (s)"
    )
    parser.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    check_options(args)  # before anything heavy is imported, opened or loaded
    import torch

    from hri_emo.inference import EmotionRecognizer
    from hri_emo.inference.asr import create_asr

    torch.set_num_threads(args.threads)
    asr = create_asr(args.asr, threads=args.threads)
    recognizer = EmotionRecognizer.from_pretrained(args.model, asr=asr, backend=args.backend)
    recognizer.check_compatible()  # as serve's warm-up does
    code = predict_many(recognizer, args) if args.input else predict_one(recognizer, args)
    cache_fast_text_route(recognizer)
    return code


def cache_fast_text_route(recognizer: Any) -> None:
    """The first run with the embedded MiniLM exports it to ONNX (once, ~20 s): later runs
    skip importing transformers (~3 s of each start-up; docs/benchmarks.md)."""
    if "hri_emo.encoders.text_hf" not in sys.modules:  # transformers was not used: all done
        return
    from hri_emo.inference.onnx_text import export_minilm_once

    path = export_minilm_once(recognizer)
    if path is not None:
        print(f"note: cached {path} once; later runs start faster", file=sys.stderr)


def predict_one(recognizer: Any, args: argparse.Namespace) -> int:
    audio = Path(args.audio) if args.audio else None
    wave, text, _ = load_item(PredictItem("input", audio, args.text), args.max_seconds)
    try:
        result = recognizer.classify(wave, text, attribution=args.attribution)
    except HriEmoError as err:  # name the user's input, not the Python call
        where = args.audio or "--text"
        raise type(err)(str(err).replace("classify()", where, 1)) from None
    if args.json:
        print(json.dumps(result.to_dict(maps=args.maps), indent=1))
    else:
        print_table(result)
    return 0


def print_table(result: Any) -> None:
    source = f" ({result.transcript_source})" if result.transcript_source else ""
    print(f"transcript{source}: {terminal_safe(result.transcript or '-')}")
    if result.asr_confidence is not None:
        print(f"ASR confidence: {result.asr_confidence:.2f}")
    print(f"{'emotion':<12} {'probability':>11}  top words")
    for emotion, prob in sorted(result.probabilities.items(), key=lambda kv: -kv[1]):
        top = ", ".join(f"{terminal_safe(w)} ({a:.2f})" for w, a in result.top_words(emotion))
        print(f"{emotion:<12} {prob:>11.3f}  {top or '-'}")
    print(f"predicted ({result.task}): {', '.join(result.predicted) or 'none above threshold'}")
    if result.beta_mean is not None:
        print(f"beta (audio trust, 0..1): {result.beta_mean:.3f}")
    if result.transcript_reliability is not None:  # low: words missing or not matching
        print(f"transcript reliability (0..1): {result.transcript_reliability:.2f}")
    if result.logit_sources and result.predicted:
        emotion = result.predicted[0]
        print(f"{result.logit_label(emotion)}: {result.logit_split(emotion)}")
    print("time (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in result.timings_ms.items()))
    for note in result.notes:
        print(f"note: {terminal_safe(note)}")


def predict_many(recognizer: Any, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hri_emo.cli.predict_io import items_from_path
    from hri_emo.distributed import DistContext

    ctx = DistContext.from_env()
    if ctx.distributed:  # under torchrun: the ranks share the items, rank 0 writes the output
        from hri_emo.cli.predict_sharded import predict_many_sharded

        return predict_many_sharded(recognizer, args, ctx, classify_items, RowWriter)
    items = items_from_path(args.input)
    fmt = output_format(args)
    errors = 0
    with contextlib.ExitStack() as stack:
        handle = sys.stdout
        if args.output:  # a temporary file, renamed over --output when the run is done
            handle = stack.enter_context(atomic_output(args.output))
        writer = RowWriter(handle, fmt, recognizer.emotions, args.maps)
        bar = stack.enter_context(tqdm(total=len(items), unit="utt", file=sys.stderr))
        for first in range(0, len(items), args.batch_size):
            batch = items[first : first + args.batch_size]
            for item, outcome in zip(batch, classify_items(recognizer, batch, args)):
                errors += isinstance(outcome, str)
                writer.write(item, outcome)
            bar.update(len(batch))
    where = args.output or "stdout"
    print(f"{len(items) - errors} of {len(items)} utterances classified -> {where}"
          + (f"; {errors} with errors (see the error column)" if errors else ""),
          file=sys.stderr)  # fmt: skip
    return 0


def classify_items(recognizer: Any, batch: list, args: argparse.Namespace) -> list[Any]:
    """Per item: its UtteranceExplanation, or the error message (a string)."""
    outcomes: list[Any] = [None] * len(batch)
    loaded = []
    for i, item in enumerate(batch):
        try:
            loaded.append((i, *load_item(item, args.max_seconds)))
        except ITEM_ERRORS as err:
            outcomes[i] = describe(err)
    if loaded:
        waves, texts, times = ([x[k] for x in loaded] for k in (1, 2, 3))
        results = None
        if args.attribution == "attention":  # other maps are measured per utterance
            with contextlib.suppress(*ITEM_ERRORS):  # else one by one, to find the item at fault
                results = recognizer.predict_batch(
                    waves, texts, batch_size=len(loaded), word_times=times
                )
        if results is None:
            results = [
                classify_one(recognizer, wave, text, spans, args.attribution)
                for wave, text, spans in zip(waves, texts, times)
            ]
        for (i, *_), result in zip(loaded, results):
            outcomes[i] = result
    return outcomes


def classify_one(recognizer: Any, wave: Any, text: Any, spans: Any, attribution: str) -> Any:
    """One item's UtteranceExplanation, or its error message."""
    try:
        return recognizer.classify(wave, text, word_times=spans, attribution=attribution)
    except ITEM_ERRORS as err:
        return describe(err)


def describe(err: Exception) -> str:
    return str(err) if isinstance(err, HriEmoError) else f"{type(err).__name__}: {err}"


class RowWriter:
    """CSV (one column per emotion) or JSONL (the UtteranceExplanation) rows."""

    def __init__(self, handle: TextIO, fmt: str, emotions: list[str], maps: bool) -> None:
        from hri_emo.result import prediction_columns, prediction_row  # the dialect of evaluate

        self.row = prediction_row
        self.handle, self.fmt, self.emotions, self.maps = handle, fmt, emotions, maps
        if fmt == "csv":
            columns = ["id", "audio", "transcript", "transcript_source", "asr_confidence"]
            columns += [*prediction_columns(emotions), "beta_mean", "duration_s"]
            self.csv = csv.DictWriter(handle, fieldnames=[*columns, "error"])
            self.csv.writeheader()

    def write(self, item: Any, outcome: Any) -> None:
        error = outcome if isinstance(outcome, str) else None
        audio = None if item.audio is None else str(item.audio)
        if self.fmt == "jsonl":
            result = None if error else outcome.to_dict(maps=self.maps)
            row = {"id": item.id, "audio": audio, "error": error, "result": result}
            self.handle.write(json.dumps(row) + "\n")
        else:
            row = {"id": item.id, "audio": audio, "error": error}
            if not error:
                row.update(
                    transcript=outcome.transcript,
                    transcript_source=outcome.transcript_source,
                    asr_confidence=outcome.asr_confidence,
                    beta_mean=outcome.beta_mean,
                    duration_s=outcome.duration_s,
                    **self.row(
                        self.emotions,
                        outcome.predicted,
                        [outcome.probabilities[e] for e in self.emotions],
                    ),
                )
            self.csv.writerow(row)
        self.handle.flush()


def load_item(
    item: PredictItem, max_seconds: float = 120.0
) -> tuple[np.ndarray | None, str | None, Any]:
    """(16 kHz mono wave or None, transcript or None, its word times or None) of an item;
    errors name the file or the item."""
    if item.error is not None:
        raise DataError(item.error)
    text = item.text.strip() if item.text is not None and item.text.strip() else None
    if item.text_file is not None:
        text = read_transcript(item.text_file)
    if text is not None and "\x00" in text:
        raise DataError(f"item {item.id}: the transcript contains NUL characters")
    times = item.word_times
    if isinstance(times, str):  # a CSV cell
        try:
            times = json.loads(times)
        except json.JSONDecodeError as err:
            raise DataError(f"item {item.id}: word_times is not a JSON list ({err.msg})") from None
    wave = None
    if item.audio is not None:
        from hri_emo.encoders import load_audio

        check_duration(item.audio, max_seconds)
        wave = load_audio(item.audio)
    if wave is None and text is None:
        raise DataError(f"item {item.id}: no recording and no transcript")
    return wave, text, times


def read_transcript(path: Path) -> str:
    """A UTF-8 transcript file's text; an empty or undecodable file is a DataError."""
    try:
        text = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise DataError(
            f"transcript {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    if not text:
        raise DataError(f"transcript {path} is empty")
    return text


def check_duration(path: Path, max_seconds: float) -> None:
    """Refuse a recording longer than `max_seconds` before reading it."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return  # load_audio names the problem
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if seconds > max_seconds:
        raise AudioError(
            f"audio file {path} lasts {seconds:.1f} s, over the {max_seconds:g} s limit of one "
            "utterance (--max-seconds); cut it into utterances first"
        )


def terminal_safe(text: object) -> str:
    """`text` with every non-printable character (C0/C1 controls, ESC, DEL, bidi overrides,
    NUL) shown as its escape: a transcript cannot drive the terminal."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text)
    )
