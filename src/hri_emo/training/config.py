"""Typed experiment configuration: dataclasses, YAML files and dotted command-line overrides.

A run is described by one `ExperimentConfig` (data, model, text encoder, optimiser, training
behaviour, trainer). YAML files under `configs/` and `key.sub=value` overrides are merged onto
the dataclass schema with OmegaConf, so an unknown key or a wrongly typed value is a
`ConfigError` naming the key; the resolved config is saved as YAML in every run folder.

Example:
    >>> cfg = load_config(None, ["data.corpus=my.csv", "trainer.max_epochs=3"])
    >>> cfg.trainer.max_epochs, cfg.model.name
    (3, 'hriemo-v2')
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hri_emo.errors import ConfigError


@dataclass
class ValidationSplitConfig:
    """Carve the validation split out of the training split when the corpus has none.

    About `fraction` of the training groups (whole groups, never single utterances) become the
    `val_split` (hri_emo.data.splits.carve_validation); `group_by` names a record attribute
    ("speaker") or a key of `record.extra` ("video_id"). 0 keeps the corpus's own split.
    """

    fraction: float = 0.0
    group_by: str = "speaker"
    seed: int = 0


@dataclass
class DataConfig:
    """Where the corpus and its features are, how splits are chosen, how batches are formed.

    `text_features` / `audio_features`: a feature store (HDF5) path, "record" for features that
    the reader put in the records, or null to leave that modality out. `noisy_audio_features`:
    a store of the same encoder made from noisy recordings (`hri-emo extract-noisy`), which a
    `noisy_audio_fraction` of the training items (fixed per item) read instead of the clean
    one. `standardize` lists modalities whose features are z-scored per dimension with
    training-split statistics (stored in the checkpoint and re-applied at evaluation).
    `allow_unseen_labels`: a label that the validation or test split has but training never
    saw stops training (the model cannot learn it) unless this is true; then training warns,
    and evaluation reports those classes separately from the classes seen in training.
    `context_turns`: k > 0 lets the model (hriemo only) read the text features of up to k
    preceding turns of the same dialogue (the corpus needs dialogue ids and turns); 0 = off.
    `context_audio`: with context_turns > 0 and audio features, those turns' pooled audio too.
    """

    corpus: str = MISSING
    format: str | None = None
    reader_options: dict[str, Any] = field(default_factory=dict)
    train_split: str = "train"
    val_split: str = "valid"
    test_split: str = "test"
    allow_unseen_labels: bool = False
    validation: ValidationSplitConfig = field(default_factory=ValidationSplitConfig)
    text_features: str | None = None
    audio_features: str | None = None
    noisy_audio_features: str | None = None
    noisy_audio_fraction: float = 0.5
    standardize: list[str] = field(default_factory=list)
    max_text_len: int | None = None
    max_audio_len: int | None = None
    context_turns: int = 0
    context_audio: bool = False
    batch_size: int = 32
    eval_batch_size: int | None = None
    shuffle: bool = True
    bucket_by_length: bool = False
    num_workers: int = 0


@dataclass
class ModelConfig:
    """A registry model (`hri_emo.model.create_model`) and its `HriEmoConfig` overrides.

    `params` apply to whichever model is named; `per_model` maps a model name to extra
    params for that model only (applied on top, so one config can serve a benchmark of
    several models). Input dimensions, emotions, task and class weights come from the data.
    """

    name: str = "hriemo-v2"
    params: dict[str, Any] = field(default_factory=dict)
    per_model: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolved_params(self) -> dict[str, Any]:
        """`params` plus the `per_model` entry of `name`."""
        return {**self.params, **self.per_model.get(self.name, {})}


@dataclass
class TextEncoderConfig:
    """Optional end-to-end fine-tuning of the text encoder on the raw transcripts.

    Off by default (frozen, precomputed features). When on, the encoder's own learning rate
    and weight decay form a separate optimiser parameter group; `params` go to
    `TrainableTextEncoder`.
    """

    finetune: bool = False
    name: str = "minilm"
    lr: float = 2e-5
    weight_decay: float = 0.01
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    """AdamW with linear warm-up then cosine decay (or a constant rate), gradient clipping."""

    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    schedule: str = "cosine"
    warmup_fraction: float = 0.05
    min_lr_fraction: float = 0.0
    gradient_clip_val: float = 1.0
    # The pooled read-outs (`model.pooled_readout`) train at readout_lr_scale x lr: a linear
    # probe of pooled features needs ~10x the rate of the attention layers to converge within
    # the epochs early stopping allows (docs/benchmarks.md, "How the v2 recipe was chosen").
    readout_lr_scale: float = 10.0


@dataclass
class ModalityDropoutConfig:
    """Per-item probability of masking out a whole modality during training (never both)."""

    text: float = 0.0
    audio: float = 0.0


@dataclass
class CorruptionConfig:
    """Training-time corruption (hri_emo.training.corruption): each training item is corrupted
    with probability `fraction` by one enabled kind (a null range disables that kind):
    audio-feature noise with SNR drawn from `audio_noise_snr` dB, or word dropout at a rate
    drawn from `word_dropout`. Waveform noise comes from a pre-extracted store instead
    (`data.noisy_audio_features`, `data.noisy_audio_fraction`)."""

    fraction: float = 0.0
    audio_noise_snr: list[float] | None = field(default_factory=lambda: [0.0, 20.0])
    word_dropout: list[float] | None = field(default_factory=lambda: [0.1, 0.5])


@dataclass
class TrainConfig:
    """Training behaviour: seed, robustness, imbalance, early stopping, thresholds, outputs."""

    seed: int = 0
    modality_dropout: ModalityDropoutConfig = field(default_factory=ModalityDropoutConfig)
    corruption: CorruptionConfig = field(default_factory=CorruptionConfig)
    class_weights: bool = True
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    patience: int = 5
    threshold_criterion: str = "f1"
    # Models with pooled read-outs (hriemo-v2): their read-outs as logistic-regression probes of
    # the training split (L-BFGS, scikit-learn's C; docs/training.md, "Never below the probe").
    # "stack": fit them first, freeze them, train the rest as a residual on their out-of-fold
    # logits (training/readout_fit.py); "none": train everything from scratch; "select": train
    # the candidates below, keep the one validation prefers, then its probes where they validate
    # better (training/recipe_select.py); "fallback": after a "none" run, the probes alone
    # replace the model if they validate better.
    readout_fit: str = "select"
    # the recipes "select" trains and compares (any of stack, experts, none; default all three;
    # fewer train faster: docs/training.md)
    select_candidates: list[str] = field(default_factory=lambda: ["stack", "experts", "none"])
    readout_fit_c: float | None = None  # None: chosen by grouped cross-validation
    # Models with an audio-reliability head (hriemo-v2) trained with a noisy copy of the audio:
    # fit the head to its SNR targets to convergence before the first step, as the probes are
    # (training/reliability_fit.py); without it the head stays near its starting value.
    reliability_fit: bool = True
    # > 0: validate and export an exponential moving average of the weights with this decay
    # per optimizer step (training/callbacks.py AveragedWeights); 0: the raw weights.
    weight_averaging: float = 0.0
    output_dir: str = "runs"
    run_name: str | None = None
    tensorboard: bool = True


@dataclass
class TrainerConfig:
    """Arguments passed to `lightning.Trainer` (devices, strategy and limits)."""

    max_epochs: int = 30
    accelerator: str = "auto"
    devices: Any = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    accumulate_grad_batches: int = 1
    limit_train_batches: Any = 1.0
    limit_val_batches: Any = 1.0
    num_sanity_val_steps: int = 0
    log_every_n_steps: int = 10
    enable_progress_bar: bool = True
    deterministic: bool = True
    num_threads: int | None = None


@dataclass
class BenchmarkConfig:
    """`hri-emo benchmark`: every model trained and evaluated with every seed on the same data
    (model-specific settings go in `model.per_model`)."""

    models: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    split: str = "test"
    # also evaluate each model's seeds as one model (`hri-emo ensemble`: mean of their logits),
    # a row "<model> (ensemble of N seeds)"; models that fine-tune a text encoder are skipped
    ensemble: bool = False


@dataclass
class ExperimentConfig:
    """Everything one training run needs (and the benchmark that repeats it)."""

    name: str = "experiment"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    text_encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)


# (key, smallest allowed value, whether the smallest is excluded); None values are allowed.
RANGES = (
    ("data.batch_size", 1, False),
    ("data.eval_batch_size", 1, False),
    ("data.num_workers", 0, False),
    ("data.max_text_len", 1, False),
    ("data.max_audio_len", 1, False),
    ("data.context_turns", 0, False),
    ("optim.lr", 0.0, True),
    ("optim.weight_decay", 0.0, False),
    ("optim.warmup_fraction", 0.0, False),
    ("optim.gradient_clip_val", 0.0, False),
    ("train.patience", 0, False),
    ("train.readout_fit_c", 0.0, True),
    ("trainer.max_epochs", 1, False),
    ("trainer.accumulate_grad_batches", 1, False),
    ("trainer.num_nodes", 1, False),
    ("trainer.log_every_n_steps", 1, False),
    ("text_encoder.lr", 0.0, True),
)

CHOICES = {
    "optim.schedule": ("cosine", "constant"),
    "train.monitor_mode": ("min", "max"),
    "train.threshold_criterion": ("f1", "wa", "none"),
    "train.readout_fit": ("select", "stack", "none", "fallback"),
}


def load_config(
    paths: str | Path | Sequence[str | Path] | None = None, overrides: Sequence[str] = ()
) -> ExperimentConfig:
    """Merge YAML files (in order) and `key.sub=value` overrides onto the schema and validate."""
    if paths is None:
        paths = []
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    merged = OmegaConf.structured(ExperimentConfig)
    for path in paths:
        merged = _merge(merged, _read_yaml(Path(path)), f"config file {path}")
    merged = _merge(merged, _parse_overrides(overrides), "command-line override")
    try:
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ConfigError(f"invalid configuration: {_describe(err)}") from err
    validate_config(config)
    return config


def validate_config(cfg: ExperimentConfig) -> None:
    """Value checks the schema's types cannot express; each error names the full key."""
    for key, allowed in CHOICES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value not in allowed:
            raise ConfigError(
                f"{key}: expected one of {', '.join(allowed)}; got {value!r}", key=key
            )
    for key, low, exclusive in RANGES:
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value is not None and (value <= low if exclusive else value < low):
            relation = ">" if exclusive else ">="
            raise ConfigError(f"{key} must be {relation} {low}, got {value}", key=key)
    for modality in ("text", "audio"):
        prob = getattr(cfg.train.modality_dropout, modality)
        if not 0.0 <= prob < 1.0:
            key = f"train.modality_dropout.{modality}"
            raise ConfigError(f"{key}: expected [0, 1), got {prob}", key=key)
    if not 0.0 <= cfg.train.weight_averaging < 1.0:
        key = "train.weight_averaging"
        raise ConfigError(
            f"{key}: expected a decay in [0, 1), got {cfg.train.weight_averaging}", key=key
        )
    _validate_corruption(cfg)
    candidates = cfg.train.select_candidates
    if not candidates or not set(candidates) <= {"stack", "experts", "none"}:
        raise ConfigError(
            "train.select_candidates: expected one or more of stack, experts, none; "
            f"got {list(candidates)}",
            key="train.select_candidates",
        )
    for modality in cfg.data.standardize:
        if modality not in ("text", "audio"):
            raise ConfigError(
                f"data.standardize: expected 'text'/'audio', got {modality!r}",
                key="data.standardize",
            )
    if not 0.0 <= cfg.data.validation.fraction < 1.0:
        raise ConfigError(
            f"data.validation.fraction: expected [0, 1), got {cfg.data.validation.fraction}",
            key="data.validation.fraction",
        )


def _validate_corruption(cfg: ExperimentConfig) -> None:
    corruption = cfg.train.corruption
    for key, value in (
        ("train.corruption.fraction", corruption.fraction),
        ("data.noisy_audio_fraction", cfg.data.noisy_audio_fraction),
    ):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{key}: expected [0, 1], got {value}", key=key)
    ranges = {"audio_noise_snr": (-10.0, 60.0), "word_dropout": (0.0, 0.95)}
    for name, (low, high) in ranges.items():
        value = getattr(corruption, name)
        if value is None:
            continue
        if len(value) != 2 or not low <= value[0] <= value[1] <= high:
            raise ConfigError(
                f"train.corruption.{name}: expected [min, max] within {low:g}..{high:g}, "
                f"got {list(value)}"
            )
    if cfg.data.noisy_audio_features and not cfg.data.audio_features:
        raise ConfigError("data.noisy_audio_features is set but data.audio_features is not")


def config_to_yaml(cfg: ExperimentConfig) -> str:
    """The config as YAML (interpolations resolved)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg), resolve=True)


def save_config(cfg: ExperimentConfig, path: str | Path) -> None:
    Path(path).write_text(config_to_yaml(cfg))


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain nested dict (for hyper-parameter logging and JSON reports)."""
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


def _read_yaml(path: Path):
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return OmegaConf.load(path)
    except Exception as err:  # YAML syntax errors come from several libraries
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from err


def _parse_overrides(overrides: Sequence[str]):
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key.sub=value")
    try:
        return OmegaConf.from_dotlist(list(overrides))
    except OmegaConfBaseException as err:
        raise ConfigError(f"bad command-line override: {_describe(err)}") from err


def _merge(base, update, source: str):
    try:
        return OmegaConf.merge(base, update)
    except OmegaConfBaseException as err:
        raise ConfigError(f"{source}: {_describe(err)}") from err


def _describe(err: OmegaConfBaseException) -> str:
    """'<key>: <what went wrong>' from an OmegaConf error."""
    key = getattr(err, "full_key", None)
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    if "not in" in message and key:
        return f"unknown key '{key}' ({message})"
    return f"'{key}': {message}" if key else message


def without_unused_text_features(cfg: ExperimentConfig) -> ExperimentConfig:
    """The config as its data is read: a run that fine-tunes its text encoder feeds it the raw
    transcripts, so precomputed `data.text_features` are not read (a copy; `cfg` is kept)."""
    if not (cfg.text_encoder.finetune and cfg.data.text_features):
        return cfg
    cfg = copy.deepcopy(cfg)
    cfg.data.text_features = None
    return cfg
