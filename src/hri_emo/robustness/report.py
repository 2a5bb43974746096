"""The robustness table (Markdown + JSON) and plot, from ConditionResult rows.

Runs of the same model (several seeds) are one column: mean ± std over them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hri_emo.robustness.runner import ConditionResult


def aggregate(results: list[ConditionResult]) -> dict[str, dict[str, dict[str, float | None]]]:
    """condition -> model -> {metric, metric_std, beta, beta_std, wer, runs}."""
    grouped: dict[tuple[str, str], list[ConditionResult]] = defaultdict(list)
    for r in results:
        grouped[(r.condition, r.model)].append(r)
    table: dict[str, dict[str, dict[str, float | None]]] = defaultdict(dict)
    for (condition, model), rows in grouped.items():
        metric = [r.metric for r in rows if r.metric is not None]
        beta = [r.beta for r in rows if r.beta is not None]
        wer = [r.wer for r in rows if r.wer is not None]
        table[condition][model] = {
            "metric": _mean(metric),
            "metric_std": _std(metric),
            "beta": _mean(beta),
            "beta_std": _std(beta),
            "wer": _mean(wer),
            "runs": len(rows),
            "note": next((r.note for r in rows if r.note), None),
        }
    return dict(table)


def write_robustness_report(
    results: list[ConditionResult], out_dir: Path, metric_name: str, title: str
) -> dict[str, Path]:
    """robustness.json (every run, and the aggregate), robustness.md and robustness.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = aggregate(results)
    files = {
        "json": out_dir / "robustness.json",
        "markdown": out_dir / "robustness.md",
        "plot": out_dir / "robustness.png",
    }
    payload = {"metric": metric_name, "runs": [asdict(r) for r in results], "table": table}
    files["json"].write_text(json.dumps(payload, indent=2) + "\n")
    files["markdown"].write_text(markdown_table(results, table, metric_name, title))
    plot_robustness(results, table, metric_name, files["plot"])
    return files


def markdown_table(results, table, metric_name: str, title: str) -> str:
    models = list(dict.fromkeys(r.model for r in results))
    conditions = list(dict.fromkeys(r.condition for r in results))
    family = {r.condition: r.family for r in results}
    runs = {m: table[conditions[0]][m]["runs"] for m in models}
    header = [f"{m} ({runs[m]} run{'s' if runs[m] > 1 else ''})" for m in models]
    lines = [
        f"# {title}",
        "",
        f"{metric_name} (mean ± std over runs) and mean beta (1 = audio trusted) per condition.",
        "",
        "| condition | family | WER | " + " | ".join(header) + " |",
        "|---|---|---|" + "---|" * len(models),
    ]
    for condition in conditions:
        cells = [_cell(table[condition][m]) for m in models]
        wers = [table[condition][m]["wer"] for m in models if table[condition][m]["wer"]]
        wer = f"{wers[0]:.3f}" if wers else ""
        lines.append(f"| {condition} | {family[condition]} | {wer} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_robustness(results, table, metric_name: str, path: Path) -> Path:
    """Metric (left) and mean beta (right) per condition, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r.model for r in results))
    conditions = list(dict.fromkeys(r.condition for r in results))
    x = np.arange(len(conditions))
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.6 * len(conditions) + 4), 4.2))
    for model in models:
        for ax, key in zip(axes, ("metric", "beta")):
            values = [table[c][model][key] for c in conditions]
            spread = [table[c][model][f"{key}_std"] or 0.0 for c in conditions]
            y = np.array([np.nan if v is None else v for v in values], dtype=float)
            ax.errorbar(x, y, yerr=spread, marker="o", capsize=2, label=model)
    for ax, label in zip(axes, (metric_name, "mean beta (1 = audio)")):
        ax.set_xticks(x, conditions, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _cell(entry: dict) -> str:
    if entry["metric"] is None:
        return f"n/a ({entry['note']})" if entry["note"] else "n/a"
    text = f"{entry['metric']:.3f}"
    if entry["metric_std"] is not None:
        text += f" ± {entry['metric_std']:.3f}"
    if entry["beta"] is not None:
        text += f" (β {entry['beta']:.2f})"
    return text


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _std(values: list[float]) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None
