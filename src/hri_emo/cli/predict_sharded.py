"""`torchrun --nproc-per-node N -m hri_emo.cli predict MODEL --input X --output FILE`: the ranks
share the items and rank 0 writes the one output (`hri_emo.distributed.predict`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hri_emo.errors import DataError


def predict_many_sharded(
    recognizer: Any,
    args: argparse.Namespace,
    ctx: Any,
    classify_items: Any,
    row_writer: type,
) -> int:
    """One rank of a sharded `predict --input`; rank 0 prints the summary and any error (every
    rank raises it alike, the others exit 2 quietly). `classify_items(recognizer, batch, args)`
    and `row_writer` are predict's own (passed in: this module does not import it back)."""
    from hri_emo.cli.predict_io import items_from_path
    from hri_emo.distributed.predict import RowRenderer, predict_sharded, run_header

    def work() -> tuple[Path, tuple[int, int, int]]:
        if not args.output:
            raise DataError("under torchrun, predict needs --output FILE (one file for all ranks)")
        items = items_from_path(args.input)
        output = Path(args.output)
        fmt = "csv" if output.suffix.lower() == ".csv" else "jsonl"
        counts = predict_sharded(
            items,
            lambda batch: classify_items(recognizer, batch, args),
            RowRenderer(row_writer, fmt, recognizer.emotions, args.maps),
            output,
            run_header(items, fmt, args.maps),
            ctx,
            args.batch_size,
        )
        return output, counts

    done, value = ctx.run(work)
    if not done:
        return 2
    output, (rows, errors, resumed) = value
    if ctx.is_main:
        note = f"; {errors} with errors (see the error column)" if errors else ""
        again = f"; {resumed} resumed from an earlier run" if resumed else ""
        print(f"{rows - errors} of {rows} utterances classified -> {output}{note}{again} "
              f"[{ctx.world_size} workers]", file=sys.stderr)  # fmt: skip
    return 0
