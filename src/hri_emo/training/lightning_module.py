"""`EmotionLightningModule`: any registry model + one shared step for train/val/test.

The network stays a plain `nn.Module` (hri_emo.model); this wrapper adds the optimiser and
schedule, modality dropout, optional end-to-end text-encoder fine-tuning and one metric
collector per split. Nothing here knows which corpus it is trained on: the task kind and the
label set come from the data.
"""

from __future__ import annotations

from dataclasses import replace

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat
from transformers.optimization import (
    get_constant_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
)

from hri_emo.data.batch import Batch
from hri_emo.model import HriEmoOutput
from hri_emo.training.config import (
    CorruptionConfig,
    ModalityDropoutConfig,
    OptimConfig,
    TextEncoderConfig,
)
from hri_emo.training.corruption import corrupt_batch
from hri_emo.training.metrics import compute_metrics
from hri_emo.training.modality_dropout import apply_modality_dropout

SPLITS = ("train", "val", "test")


class PredictionCollector(Metric):
    """Gathers a split's probabilities, targets and beta means (synchronised across DDP
    processes) so that metrics are computed once, on the whole split."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("probs", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")
        self.add_state(
            "beta_sum", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("beta_count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, probs: Tensor, targets: Tensor, beta_mean: Tensor | None = None) -> None:
        self.probs.append(probs.detach().float())
        self.targets.append(targets.detach())
        if beta_mean is not None:
            self.beta_sum += beta_mean.detach().double().sum()
            self.beta_count += beta_mean.numel()

    def compute(self) -> tuple[Tensor, Tensor, float | None]:
        """(probs (N, E), targets, mean beta or None)."""
        beta = float(self.beta_sum / self.beta_count) if self.beta_count > 0 else None
        return dim_zero_cat(self.probs), dim_zero_cat(self.targets), beta


class EmotionLightningModule(L.LightningModule):
    """Trains and evaluates one registry model (`hri_emo.model.create_model`)."""

    def __init__(
        self,
        model: nn.Module,
        optim: OptimConfig | None = None,
        modality_dropout: ModalityDropoutConfig | None = None,
        seed: int = 0,
        text_encoder: nn.Module | None = None,
        text_encoder_config: TextEncoderConfig | None = None,
        thresholds: list[float] | None = None,
        corruption: CorruptionConfig | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.text_encoder = text_encoder
        self.optim = optim or OptimConfig()
        self.text_encoder_config = text_encoder_config or TextEncoderConfig()
        self.modality_dropout = modality_dropout or ModalityDropoutConfig()
        self.corruption = corruption or CorruptionConfig()
        if getattr(model, "required_modalities", ()):  # single-modality baselines
            self.modality_dropout = ModalityDropoutConfig(text=0.0, audio=0.0)
        self.seed = seed
        self.thresholds = thresholds
        # keyed "<split>_predictions": "train" itself would clash with nn.Module.train
        self.collectors = nn.ModuleDict({f"{s}_predictions": PredictionCollector() for s in SPLITS})
        self._dropout_generator = torch.Generator()
        # training item id -> (E, 2) out-of-fold probe logits (training/readout_fit.py)
        self.stacked_logits: dict[str, Tensor] | None = None

    @property
    def task(self) -> str:
        return self.model.config.task

    @property
    def emotions(self) -> list[str]:
        return list(self.model.config.emotions)

    def forward(self, batch: Batch) -> HriEmoOutput:
        return self.model(**self._model_inputs(batch))

    def model_step(self, batch: Batch, split: str) -> HriEmoOutput:
        """The one step shared by train/val/test/predict: encode raw text when fine-tuning,
        apply modality dropout when training, run the model (which computes the loss)."""
        if self.text_encoder is not None:
            batch = self._encode_raw_text(batch)
        if split == "train":
            batch = apply_modality_dropout(
                batch,
                self.modality_dropout.text,
                self.modality_dropout.audio,
                self._dropout_generator,
            )
            batch = corrupt_batch(
                batch,
                self.corruption.fraction,
                self.corruption.audio_noise_snr,
                self.corruption.word_dropout,
                self._dropout_generator,
            )
            if self.stacked_logits:
                return self.model(**self._model_inputs(batch), pooled_logits=self._stacked(batch))
        return self.model(**self._model_inputs(batch))

    def _stacked(self, batch: Batch) -> Tensor:
        """(B, E, 2) out-of-fold probe logits of the batch (NaN: use the read-out's own). They
        come from the recordings as made, so an item read from the noisy copy of the audio gets
        NaN for audio: the read-out then scores the noisy frames the item actually has."""
        missing = torch.full((len(self.emotions), 2), float("nan"))
        rows = torch.stack([self.stacked_logits.get(item, missing) for item in batch.ids])
        if batch.audio_snr is not None:
            noisy = batch.audio_snr.cpu() != float("inf")  # (B,)
            rows[noisy, :, 1] = float("nan")
        return rows.to(self.device)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._step_and_record(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._step_and_record(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._step_and_record(batch, "test")

    def predict_step(self, batch: Batch, batch_idx: int) -> HriEmoOutput:
        return self.model_step(batch, "predict")

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> None:
        """Re-seed dropout and modality dropout from (seed, epoch, batch, rank), so that a step's
        randomness does not depend on what ran before it: resuming reproduces it exactly."""
        key = [self.seed, self.current_epoch, batch_idx, self.global_rank]
        step_seed = int(np.random.SeedSequence(key).generate_state(1)[0])
        torch.manual_seed(step_seed)
        self._dropout_generator.manual_seed(step_seed + 1)

    def on_train_epoch_end(self) -> None:
        self._log_split_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_split_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_split_metrics("test")

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            self.parameter_groups(),
            lr=self.optim.lr,
            betas=tuple(self.optim.betas),
            eps=self.optim.eps,
        )
        total_steps = int(self.trainer.estimated_stepping_batches)
        warmup_steps = round(self.optim.warmup_fraction * total_steps)
        if self.optim.schedule == "cosine":
            scheduler = get_cosine_with_min_lr_schedule_with_warmup(
                optimizer, warmup_steps, total_steps, min_lr_rate=self.optim.min_lr_fraction
            )
        else:
            scheduler = get_constant_schedule_with_warmup(optimizer, warmup_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def parameter_groups(self) -> list[dict]:
        """AdamW groups: fusion-model weights (decayed), its biases and norms (not decayed), the
        pooled read-outs at `optim.readout_lr_scale` x lr, and, when fine-tuning, the text
        encoder with its own learning rate and weight decay."""
        decay, no_decay, readout = [], [], []
        for name, parameter in self.model.named_parameters():
            if not parameter.requires_grad:
                continue
            if name.startswith(("text_readout.", "audio_readout.")):
                readout.append(parameter)
            else:
                (decay if parameter.ndim >= 2 else no_decay).append(parameter)
        groups = [
            {"params": decay, "weight_decay": self.optim.weight_decay, "name": "model"},
            {"params": no_decay, "weight_decay": 0.0, "name": "model_no_decay"},
        ]
        if readout:
            groups.append(
                {
                    "params": readout,
                    "lr": self.optim.readout_lr_scale * self.optim.lr,
                    "weight_decay": self.optim.weight_decay,
                    "name": "pooled_readout",
                }
            )
        if self.text_encoder is not None:
            encoder_params = [p for p in self.text_encoder.parameters() if p.requires_grad]
            groups.append(
                {
                    "params": encoder_params,
                    "lr": self.text_encoder_config.lr,
                    "weight_decay": self.text_encoder_config.weight_decay,
                    "name": "text_encoder",
                }
            )
        return [group for group in groups if group["params"]]

    def _step_and_record(self, batch: Batch, split: str) -> Tensor:
        out = self.model_step(batch, split)
        if out.loss is None:
            raise ValueError(f"{split} batch {batch.ids[:3]}...: the model returned no loss")
        self.log(
            f"{split}/loss",
            out.loss,
            batch_size=len(batch),
            on_step=split == "train",
            on_epoch=True,
            prog_bar=True,
            sync_dist=split != "train",
        )
        self.collectors[f"{split}_predictions"].update(
            out.probabilities, batch.labels, out.beta_mean
        )
        return out.loss

    def _log_split_metrics(self, split: str) -> None:
        collector = self.collectors[f"{split}_predictions"]
        if self.trainer.sanity_checking or collector.update_count == 0:
            collector.reset()
            return
        probs, targets, beta_mean = collector.compute()
        thresholds = None if split == "train" else self.thresholds
        values = compute_metrics(self.task, targets, probs, self.emotions, thresholds)
        if beta_mean is not None:
            values["beta_mean"] = beta_mean
        self.log_dict({f"{split}/{key}": value for key, value in values.items()})
        collector.reset()

    def _model_inputs(self, batch: Batch) -> dict[str, Tensor | None]:
        inputs = batch.model_inputs(times=getattr(self.model, "accepts_times", False))
        if getattr(self.model, "accepts_audio_snr", False):
            inputs["audio_snr"] = batch.audio_snr  # the audio-reliability targets
        return inputs

    def _encode_raw_text(self, batch: Batch) -> Batch:
        """Replace precomputed text features by the fine-tuned encoder's output."""
        if batch.raw_text is None:
            raise ValueError(
                f"text-encoder fine-tuning needs raw transcripts; batch {batch.ids[:3]}... has none"
            )
        texts = [text or "" for text in batch.raw_text]
        features, mask = self.text_encoder(texts)  # (B, T, D), (B, T)
        has_text = torch.tensor([bool(t.strip()) for t in texts], device=mask.device)
        return replace(batch, text=features, text_mask=mask & has_text[:, None])
