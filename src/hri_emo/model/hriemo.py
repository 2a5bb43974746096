"""`HriEmoModel`: the one dataset-neutral HRI-EMO model (projections + fusion backbone).

Dimension letters: B batch, Lt text positions, La audio frames, E emotions, d hidden size.

Missing modalities: a learned placeholder token stands in for a modality an item lacks, at
position 0 of that modality's axis (the rest stays padding), so attention always has a valid
key; the BetaGate then forces beta = 1 (no text) or 0 (no audio). When the whole batch has no
text, the text axis is just that placeholder (Lt = 1), and the fused sequence is the audio
context it gathered; alignment[:, 0] then shows which frames it attended to. An item gets the
same output whether its modality is None for the batch or masked out (all False).

Pooled read-out (config.pooled_readout, on in hriemo-v2): a linear probe of each modality's
mean-pooled input features adds to the logits, weighted by 1 - beta_mean (text) and beta_mean
(audio); `pooled_share` reports that part of each logit (see model/pooled.py). With
config.decoder_logits False the pooled read-outs are the whole output: two linear experts and
the gate that weighs them (the decoder then only shapes beta's inputs and the intensities).

Time prior (config.time_prior_s > 0): with `text_times` (B, Lt, 2) word spans and `audio_times`
(B, La, 2) frame spans in seconds, each word's audio attention is drawn to its own span
(model/time_prior.py). Additive read-out (config.additive_readout): in eval mode the output
carries each logit's exact split over words, frames, context turns and a bias
(`word_contributions` ... `bias_contribution`, pooled read-out shares included; model/additive.py).

Audio reliability (config.audio_reliability > 0): a head on the raw audio frames says how clean
each is (trained from items of known SNR, `audio_snr` (B,) dB); each word's beta is scaled by
the reliability of the frames it attends to (model/reliability.py); `frame_reliability` reports it.
Transcript reliability (config.transcript_reliability > 0): the word rate against the recording
says how complete the transcript is (tau); the text's share of beta shrinks with it, and
`transcript_trust` (B,) (0: the transcript does not match the speech, found at inference)
multiplies it, as far as the audio is judged clean; `transcript_reliability` reports the tau used.

Conversation context (config.context_turns > 0): `context` (B, K, Dt) holds pooled text features
of up to K preceding turns (newest first), and with config.context_audio `context_audio`
(B, K, Da) their pooled audio (`context_text_mask` (B, K): False for a turn heard but not
transcribed, read from its audio alone); a ContextEncoder encodes them and a ContextReadout
adds each emotion's context term to its logit, read apart from the utterance (its own attention
over the turns; see model/context.py). Without `context` the model runs on the utterance alone,
as for the first turn of a dialogue.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from hri_emo.errors import InputShapeError
from hri_emo.model.additive import Contributions
from hri_emo.model.backbone import FusionWithEmotionDecoder
from hri_emo.model.config import HriEmoConfig
from hri_emo.model.context import ContextEncoder, ContextReadout
from hri_emo.model.gate_supervision import gate_supervision_loss
from hri_emo.model.inputs import ModalityInput, prepare_inputs, require_any_modality
from hri_emo.model.layers import ModalityProjection, masked_mean
from hri_emo.model.output import HriEmoOutput
from hri_emo.model.pooled import PooledReadout
from hri_emo.model.pretrained import HriEmoPreTrainedModel
from hri_emo.model.reliability import AudioReliability, TextReliability, recorded_seconds
from hri_emo.model.time_prior import prior_input, time_prior_bias


class HriEmoModel(HriEmoPreTrainedModel):
    """Text and audio features in, emotions with beta, alignment and attribution out."""

    architecture = "hriemo"
    accepts_times = True  # forward() takes text_times / audio_times (the time prior)
    accepts_audio_snr = True  # forward() takes audio_snr (training's reliability targets)
    accepts_transcript_trust = True  # forward() takes transcript_trust (a transcript mismatch)

    def __init__(self, config: HriEmoConfig) -> None:
        super().__init__(config)
        d = config.hidden_dim
        self.text_projection = ModalityProjection(
            config.text_dim, d, config.input_dropout, config.positional, config.text_layers
        )
        self.audio_projection = ModalityProjection(
            config.audio_dim, d, config.input_dropout, config.positional, config.audio_layers
        )
        self.text_placeholder = nn.Parameter(0.02 * torch.randn(d))
        if config.fusion == "simplified" and not config.audio_residual:
            # items without audio get beta = 0: their placeholder can influence nothing
            self.register_buffer("audio_placeholder", torch.zeros(d))
        else:
            self.audio_placeholder = nn.Parameter(0.02 * torch.randn(d))
        self.backbone = FusionWithEmotionDecoder(config)
        self.context_encoder = ContextEncoder(config) if config.context_turns > 0 else None
        self.context_readout = ContextReadout(config) if config.context_turns > 0 else None
        self.text_readout = self.audio_readout = None
        if config.pooled_readout:
            e, drop = config.num_emotions, config.pooled_dropout
            self.text_readout = PooledReadout(config.text_dim, config.text_layers, e, drop)
            self.audio_readout = PooledReadout(config.audio_dim, config.audio_layers, e, drop)
        self.reliability = None
        if config.audio_reliability > 0:
            self.reliability = AudioReliability(config.audio_dim, config.audio_layers, d)
        self.transcript_check = TextReliability() if config.transcript_reliability > 0 else None

    def forward(
        self,
        text: Tensor | None = None,
        text_mask: Tensor | None = None,
        audio: Tensor | None = None,
        audio_mask: Tensor | None = None,
        labels: Tensor | None = None,
        intensities: Tensor | None = None,
        context: Tensor | None = None,
        context_mask: Tensor | None = None,
        context_same_speaker: Tensor | None = None,
        text_times: Tensor | None = None,
        audio_times: Tensor | None = None,
        pooled_logits: Tensor | None = None,
        audio_snr: Tensor | None = None,
        transcript_trust: Tensor | None = None,
        context_audio: Tensor | None = None,
        context_audio_mask: Tensor | None = None,
        context_text_mask: Tensor | None = None,
    ) -> HriEmoOutput:
        text_in, audio_in, batch = prepare_inputs(self.config, text, text_mask, audio, audio_mask)
        require_any_modality(text_in, audio_in, batch)
        self._check_targets(labels, intensities, batch)
        text_states, text_valid, has_text = self._embed(
            text_in, self.text_projection, self.text_placeholder, batch
        )
        audio_states, audio_valid, has_audio = self._embed(
            audio_in, self.audio_projection, self.audio_placeholder, batch
        )
        context_states, context_mask = self._context(
            context,
            context_mask,
            context_same_speaker,
            context_audio,
            context_audio_mask,
            context_text_mask,
        )
        time_bias = self._time_bias(text_times, audio_times, text_states, audio_states)
        frame_reliability = None
        if self.reliability is not None and audio_in is not None:
            audio_mask_in = audio_in.mask.to(audio_states.device)
            frame_reliability = self.reliability(audio_in.features.to(audio_states), audio_mask_in)
        completeness = self._transcript_reliability(
            text_in, audio_in, audio_times, has_text & has_audio
        )
        tau = None if completeness is None else completeness[0].detach()
        if transcript_trust is not None:  # (B,) 0: a transcript known not to match the speech
            trust = self._heard_trust(transcript_trust, frame_reliability, audio_in)
            tau = trust if tau is None else tau * trust
        result = self.backbone(
            text_states,
            text_valid,
            audio_states,
            audio_valid,
            has_text,
            has_audio,
            time_bias=time_bias,
            frame_reliability=frame_reliability,
            text_reliability=tau,
        )
        beta_mean = masked_mean(result.beta, text_valid).mean(dim=-1)  # (B,)
        logits, pooled_share = result.logits, None
        if self.text_readout is not None:
            pooled_share = self._pooled_share(text_in, audio_in, beta_mean, batch, pooled_logits)
            logits = logits + pooled_share.sum(dim=-1)
        context_shares, context_weights = self._context_terms(context_states, context_mask)
        if context_shares is not None:
            logits = logits + context_shares.sum(dim=-1)
        parts = result.contributions
        if parts is not None and self.text_readout is not None:
            parts = self._with_pooled_parts(parts, text_in, audio_in, beta_mean)
        if parts is not None:
            parts.context = context_shares
        output = self._output(
            self.backbone.heads,
            logits,
            result.intensity,
            labels,
            intensities,
            beta=result.beta,
            beta_mean=beta_mean,
            alignment=result.alignment,
            attribution=result.attribution,
            fused_mask=text_valid,
            context_attribution=context_weights,
            pooled_share=pooled_share,
        )
        if parts is not None:
            output.word_contributions, output.frame_contributions = parts.words, parts.frames
            output.context_contributions, output.bias_contribution = parts.context, parts.bias
        output.frame_reliability = frame_reliability
        output.transcript_reliability = tau  # 1 where not judged: the gate unchanged
        if completeness is not None:
            _, words, seconds, known = completeness
            if output.loss is not None and self.training:
                aux = self.transcript_check.loss(words, seconds, known)
                output.loss = output.loss + self.config.transcript_reliability * aux
        if output.loss is not None and frame_reliability is not None:
            present = audio_in.present.to(frame_reliability.device)
            mask = audio_in.mask.to(frame_reliability.device)
            if audio_snr is None:  # no noisy copies: the audio as recorded is the reliable kind
                audio_snr = torch.full((batch,), float("inf"))
            aux = self.reliability.loss(frame_reliability, mask, present, audio_snr)
            output.loss = output.loss + self.config.audio_reliability * aux
        both = has_text & has_audio
        if output.loss is not None and self.config.beta_cost > 0 and both.any():
            output.loss = output.loss + self.config.beta_cost * beta_mean[both].mean()
        supervise = self.training and self.config.gate_supervision > 0
        if output.loss is not None and supervise and both.any():
            states = (text_states, text_valid, audio_states, audio_valid, has_text, has_audio)
            context_logits = 0.0 if context_shares is None else context_shares.sum(dim=-1)

            def branch_logits(value: float) -> Tensor:
                forced = self.backbone(*states, time_bias=time_bias, force_beta=value)
                logits = forced.logits + context_logits
                if self.text_readout is not None:
                    mean = masked_mean(forced.beta, text_valid).mean(dim=-1)
                    shares = self._pooled_share(text_in, audio_in, mean, batch, pooled_logits)
                    logits = logits + shares.sum(-1)
                return logits

            aux = gate_supervision_loss(branch_logits, beta_mean, labels, both, self.backbone.heads)
            output.loss = output.loss + self.config.gate_supervision * aux
        return output

    def _context(
        self,
        context: Tensor | None,
        mask: Tensor | None,
        same_speaker: Tensor | None,
        audio: Tensor | None = None,
        audio_mask: Tensor | None = None,
        text_mask: Tensor | None = None,
    ) -> tuple[Tensor | None, Tensor | None]:
        """Encoded past turns (B, K, d) and their mask, or (None, None) without context."""
        if context is None:
            return None, None
        if self.context_encoder is None:
            raise InputShapeError(
                "this model was built without conversation context (context_turns=0); "
                "train it with data.context_turns > 0 to pass past turns"
            )
        device = self.text_placeholder.device
        if mask is None:
            mask = torch.ones(context.shape[:2], dtype=torch.bool, device=device)
        mask = mask.to(device)
        if same_speaker is not None:
            same_speaker = same_speaker.to(device)
        if audio is not None:
            audio = audio.to(device)
            audio_mask = None if audio_mask is None else audio_mask.to(device)
        if text_mask is not None:
            text_mask = text_mask.to(device)
        states = self.context_encoder(
            context.to(device), mask, same_speaker, audio, audio_mask, text_mask
        )
        return states, mask

    def _context_terms(
        self, states: Tensor | None, mask: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None]:
        """(B, E, K) each past turn's exact share of each logit and (B, E, K) its weight, or
        (None, None) without context."""
        if states is None:
            return None, None
        return self.context_readout(states, mask)

    def _heard_trust(
        self, trust: Tensor, frame_reliability: Tensor | None, audio: ModalityInput | None
    ) -> Tensor:
        """(B,) trust in the transcript: an aligner's "does not match" (trust 0) counts only as
        far as the recording it listened to was clean, 1 - (1 - trust) * mean frame reliability
        (noisy speech also makes a right transcript look unmatched)."""
        trust = trust.to(self.text_placeholder.device, torch.float32)
        if frame_reliability is None or audio is None:
            return trust
        mask = audio.mask.to(trust.device).float()
        heard = (frame_reliability * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B,)
        return 1.0 - (1.0 - trust) * heard.detach()

    def _transcript_reliability(
        self,
        text: ModalityInput | None,
        audio: ModalityInput | None,
        audio_times: Tensor | None,
        both: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
        """(tau (B,) 1 where unknown, words (B,), seconds (B,), known (B,) bool), or None when
        the model has no transcript check or the batch lacks text, audio or frame times."""
        if self.transcript_check is None or text is None or audio is None or audio_times is None:
            return None
        device = both.device
        words = text.mask.to(device).sum(dim=1)
        seconds = recorded_seconds(audio_times.to(device), audio.mask.to(device))
        known = both & ~seconds.isnan() & (words > 0)
        tau = self.transcript_check(words, seconds.nan_to_num(1.0))
        return torch.where(known, tau, torch.ones_like(tau)), words, seconds, known

    def _time_bias(
        self,
        text_times: Tensor | None,
        audio_times: Tensor | None,
        text_states: Tensor,
        audio_states: Tensor,
    ) -> Tensor | None:
        """(B, Lt, La) time prior, or None when it is off or a side has no times."""
        sigma = self.config.time_prior_s
        if sigma <= 0 or text_times is None or audio_times is None:
            return None
        (batch, lt, _), la = text_states.shape, audio_states.shape[1]
        device = text_states.device
        text = prior_input(text_times, batch, lt, device)
        audio = prior_input(audio_times, batch, la, device)
        return time_prior_bias(text, audio, sigma, self.config.time_prior_width)

    def _with_pooled_parts(
        self,
        parts: Contributions,
        text: ModalityInput | None,
        audio: ModalityInput | None,
        beta_mean: Tensor,
    ) -> Contributions:
        """Add the pooled read-outs' exact per-word and per-frame shares to the decoder's."""
        words, frames, bias = parts.words, parts.frames, parts.bias
        for modality, readout, weight in (
            (text, self.text_readout, 1.0 - beta_mean),
            (audio, self.audio_readout, beta_mean),
        ):
            if modality is None:
                continue
            device = beta_mean.device
            mask, features = modality.mask.to(device), modality.features.to(device)
            shares = weight[:, None, None] * readout.position_shares(features, mask)
            if readout is self.text_readout:
                words = words + shares
            else:
                frames = frames + shares
            bias = bias + weight[:, None] * readout.linear.bias
        return Contributions(words, frames, bias, parts.context)

    def _pooled_share(
        self,
        text: ModalityInput | None,
        audio: ModalityInput | None,
        beta_mean: Tensor,
        batch: int,
        given: Tensor | None = None,
    ) -> Tensor:
        """(B, E, 2): the logits of the pooled text and audio read-outs, weighted by 1 - beta
        and beta; zero for a modality the batch does not have. `given` (B, E, 2) replaces the
        read-outs' logits where it is not NaN and the item has the modality (training with
        out-of-fold probe logits, training/readout_fit.py)."""
        shares = []
        for column, (modality, readout, weight) in enumerate(
            ((text, self.text_readout, 1.0 - beta_mean), (audio, self.audio_readout, beta_mean))
        ):
            if modality is None:
                shares.append(beta_mean.new_zeros(batch, self.config.num_emotions))
                continue
            mask = modality.mask.to(beta_mean.device)
            logits = readout(modality.features.to(beta_mean.device), mask)  # (B, E)
            if given is not None:
                value = given[..., column].to(logits)
                use = ~value.isnan() & modality.present.to(logits.device)[:, None]
                logits = torch.where(use, value, logits)
            shares.append(weight[:, None] * logits)
        return torch.stack(shares, dim=-1)

    @staticmethod
    def _embed(
        modality: ModalityInput | None,
        projection: ModalityProjection,
        placeholder: Tensor,
        batch: int,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Project one modality and put the placeholder where an item lacks it.

        Returns (x (B, L, d), mask (B, L), present (B,)); L = 1 when the modality is None.
        """
        device = placeholder.device
        if modality is None:
            x = placeholder.expand(batch, 1, -1)  # (B, 1, d)
            mask = torch.ones(batch, 1, dtype=torch.bool, device=device)
            return x, mask, torch.zeros(batch, dtype=torch.bool, device=device)
        mask = modality.mask.to(device)
        x = projection(modality.features.to(device), mask)  # (B, L, d)
        slot = torch.zeros_like(mask)
        slot[:, 0] = ~modality.present.to(device)  # (B, L): position 0 of items without it
        x = torch.where(slot[..., None], placeholder, x)
        return x, mask | slot, modality.present.to(device)
