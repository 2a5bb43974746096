"""`extract_sharded`: `extract_features` over the ranks of a torchrun job, merged into one store.

1. Rank 0 first merges shards left by a run with another number of workers (their shard
   assignment no longer matches).
2. Every rank takes the strided shard `shard_indices(len(records), rank, world_size)`, skips
   what the final store already holds (a resumed single-process store, or an earlier merge),
   and runs `extract_features` into `<out>.shards/rank-RRRRR-of-WWWWW.h5`: the feature store's
   journal makes each shard crash-safe and resumable on its own.
3. The ranks meet (`all_gather_object` of their reports). A bad utterance under
   `--on-error skip` is a row of the report as in a single-process run; under `--on-error fail`
   it stops its own rank's shard only, the other ranks finish theirs, and the run ends with the
   error naming the utterance and no merge (a rerun resumes every shard).
4. Rank 0 merges the shards into `<out>` in corpus order and writes the combined skip report.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hri_emo.data.records import Corpus, UtteranceRecord
from hri_emo.data.store.feature_store import FeatureStore
from hri_emo.distributed.context import DistContext, shard_indices
from hri_emo.distributed.store_merge import merge_shard_stores, shard_path, shard_stores
from hri_emo.encoders.extract import (
    ExtractionReport,
    OnError,
    _check_modality_present,
    _check_unique_ids,
    check_resumable,
    extract_features,
    report_path_for,
    store_metadata,
)
from hri_emo.errors import DataError, HriEmoError


def extract_sharded(
    corpus: Corpus | list[UtteranceRecord],
    encoder,
    store_path: str | Path,
    ctx: DistContext,
    *,
    batch_size: int = 8,
    on_error: OnError = "fail",
    limit: int | None = None,
    progress: bool = True,
    commit_every: int = 256,
    word_timer=None,
) -> ExtractionReport:
    """This rank's part of a sharded extraction; returns the combined report on every rank.
    Raises the same HriEmoError on every rank when a rank failed or the merge was refused.
    The options are `extract_features`'."""
    records = corpus.records if isinstance(corpus, Corpus) else list(corpus)
    records = records[:limit] if limit is not None else records
    _check_unique_ids(records)
    _check_modality_present(corpus, records, encoder.modality)
    out, start = Path(store_path), time.perf_counter()
    order = [r.id for r in records]
    metadata = store_metadata(encoder, timed=word_timer is not None)
    own = {shard_path(out, r, ctx.world_size) for r in range(ctx.world_size)}
    stale = [p for p in shard_stores(out) if p not in own] if ctx.is_main else []
    _on_main(ctx, lambda: _merge(stale, out, order, metadata))

    mine = [records[i] for i in shard_indices(len(records), ctx.rank, ctx.world_size)]
    try:
        done = _ids_in_final(out, metadata)
        todo = [r for r in mine if r.id not in done]
        report = extract_features(
            todo,
            encoder,
            shard_path(out, ctx.rank, ctx.world_size),
            batch_size=batch_size,
            on_error=on_error,
            progress=progress and ctx.is_main,
            check_inputs=False,
            commit_every=commit_every,
            word_timer=word_timer,
        )
        report.already_present += len(mine) - len(todo)
        outcome: tuple[ExtractionReport | None, str | None] = (report, None)
    except HriEmoError as err:  # a bad utterance under --on-error fail: this shard stops here
        outcome = (None, str(err))
    outcomes = ctx.gather(outcome)
    errors = [f"rank {rank}: {error}" for rank, (_, error) in enumerate(outcomes) if error]
    if errors:
        raise DataError(
            "; ".join(errors) + ". The other ranks finished their shards; nothing was merged "
            f"into {out}, and rerunning the same command resumes every shard"
        )
    _on_main(ctx, lambda: _merge(shard_stores(out), out, order, metadata))
    combined = _combine([r for r, _ in outcomes], out, encoder, order)
    combined.seconds = time.perf_counter() - start
    if combined.failed or combined.missing or on_error == "skip":
        combined.report_path = report_path_for(out)
        if ctx.is_main:
            combined.report_path.write_text(json.dumps(combined.to_json(), indent=2))
    return combined


def _on_main(ctx: DistContext, step) -> None:
    """Run `step` on rank 0; every rank raises its error (so all of them exit alike)."""
    error = None
    if ctx.is_main:
        try:
            step()
        except HriEmoError as err:
            error = str(err)
    error = ctx.broadcast(error)
    if error:
        raise DataError(error)


def _merge(shards: list[Path], out: Path, order: list[str], metadata) -> None:
    if shards:
        merge_shard_stores(out, shards, order, expected=metadata)


def _ids_in_final(out: Path, metadata) -> set[str]:
    """Ids the final store holds already (after checking it holds this encoder's features)."""
    if not out.exists():
        return set()
    with FeatureStore.open(out) as store:
        check_resumable(store, metadata)
        return set(store.ids())


def _combine(
    reports: list[ExtractionReport], out: Path, encoder, order: list[str]
) -> ExtractionReport:
    """One report for the whole corpus; skipped utterances listed in corpus order."""
    position = {utt_id: i for i, utt_id in enumerate(order)}
    combined = ExtractionReport(out, encoder.name, encoder.modality)
    for report in reports:
        combined.written += report.written
        combined.already_present += report.already_present
        combined.missing += report.missing
        combined.failed += report.failed
    combined.missing.sort(key=lambda s: position.get(s.id, len(order)))
    combined.failed.sort(key=lambda s: position.get(s.id, len(order)))
    return combined
