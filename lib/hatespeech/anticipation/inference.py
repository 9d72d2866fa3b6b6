"""The one scoring path of the study: p_hate of prefixes and per-word trajectories with a prefix classifier.

Evaluation (:mod:`.evaluation`, phase-2 examples), the ``hatespeech`` CLI, the speed benchmark and the
notebook demo all score through :class:`Anticipator`:

>>> anticipator = Anticipator.from_pretrained("artifacts/cpu/anticipation/decoder")   # doctest: +SKIP
>>> anticipator.trajectory("I am not sexist, but")                                    # doctest: +SKIP
   k    word          prefix    p_hate
   1       I               I  0.08...
>>> anticipator.trajectories(["I am not", "You people"])   # one float64 array per text  # doctest: +SKIP
>>> stream = anticipator.stream(); stream.add_word("I"); stream.add_word("am")       # doctest: +SKIP

Behaviour, the same in every method:

* **Words** are whitespace tokens, as in the prefix_probability set; prefix k is the first k words joined by
  one space. Texts are tokenized once with their word ends by
  :func:`hatespeech.anticipation.examples.encode_sentences`, as in training.
* **Truncation**: the scorer reads at most ``max_length`` tokens (special tokens included); the default is
  the backbone's limit (``max_position_embeddings``), and evaluation passes the profile's
  ``anticipation.max_length`` (the length the models train at). A longer text is scored on the words that
  fit: :meth:`Anticipator.score` gives the p_hate of its longest word-prefix that fits, and in a trajectory
  every word beyond the limit gets the last fitting prefix's p_hate. Every call counts what it cut in
  ``last_truncation`` (``last_truncated``: texts cut; ``PrefixStream.truncated_words``); the CLI prints a
  warning. A text whose first word alone exceeds the limit raises ValueError naming its index.
* **float64** probabilities (the sigmoid of the logit, taken in float64).
* The model's training mode is restored after every call (scoring runs in eval mode under
  ``torch.inference_mode``), so a training callback may score.

Every method takes the fastest *exact* path for the model's variant (``p_hate`` is the same number whichever
path computes it, up to float32 rounding in the backbone: max |p - p_alone| measured at 5e-6 on the tiny
test models, see ``tests/test_anticipation_inference.py``):

* ``decoder``: one forward pass over a sentence scores every word-prefix (its state at word i's last token
  sees only words <= i); batch scoring groups texts that are token-prefixes of one another into one pass;
  streaming keeps the keys/values (``past_key_values``) and feeds only the new word's tokens.
* ``decoder+bilstm``: the same shared causal backbone pass, with the biLSTM run once per prefix.
* ``encoder`` / ``encoder+bilstm``: each prefix is its own sequence (an encoder would otherwise see later
  words), batched with length-sorted dynamic padding; identical prefix texts (the shared openings of
  templated texts, e.g. HateCheck's) are scored once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from ..models.prefix import PrefixClassifier, PrefixClassifierConfig
from ..runtime import resolve_device
from .examples import EncodedSentence, encode_sentences, truncation_counts


class NotAModelDirError(ValueError):
    """The given folder does not hold a saved prefix classifier (config.json + weights + tokenizer)."""


def check_model_dir(model_dir: str | Path) -> Path:
    """``model_dir`` as a Path if it holds a saved :class:`PrefixClassifier`, else NotAModelDirError."""
    folder = Path(model_dir).expanduser()
    if not folder.exists():
        raise NotAModelDirError(f"model dir {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotAModelDirError(f"model dir {str(folder)!r} is a file, not a folder holding a saved model")
    config_file = folder / "config.json"
    if not config_file.exists():
        raise NotAModelDirError(f"model dir {str(folder)!r} has no config.json: not a saved model folder")
    try:
        model_type = json.loads(config_file.read_text()).get("model_type")
    except (OSError, ValueError) as exc:
        raise NotAModelDirError(f"model dir {str(folder)!r}: cannot read config.json ({exc})") from exc
    if model_type != PrefixClassifierConfig.model_type:
        raise NotAModelDirError(
            f"model dir {str(folder)!r} holds a {model_type!r} model, not a prefix classifier "
            f"({PrefixClassifierConfig.model_type!r}); save one with hatespeech.anticipation"
        )
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
        raise NotAModelDirError(f"model dir {str(folder)!r} has a config but no weights (*.safetensors)")
    if not (folder / "tokenizer_config.json").exists() and not (folder / "tokenizer.json").exists():
        raise NotAModelDirError(
            f"model dir {str(folder)!r} has no tokenizer files; save the tokenizer beside the model "
            "(tokenizer.save_pretrained(dir))"
        )
    return folder


def split_words(text: str) -> list[str]:
    """Whitespace words of ``text``; ValueError for an empty or blank text."""
    if not isinstance(text, str):
        # ValueError, not TypeError: the CLI reports every bad text as a ValueError (exit status 2)
        raise ValueError(f"text must be a string, got {type(text).__name__}: {text!r}")  # noqa: TRY004
    words = text.split()
    if not words:
        raise ValueError("empty text: give at least one word")
    return words


class Anticipator:
    """Predict P(finished sentence is hateful | prefix) with a prefix classifier (see the module docstring).

    ``device=None`` keeps the model where it is; ``max_length`` (tokens) is capped at the backbone's limit,
    which is also its default.
    """

    def __init__(self, model: PrefixClassifier, tokenizer, device=None, max_length: int | None = None):
        self.model = model if device is None else model.to(resolve_device(device))
        self.device = next(self.model.parameters()).device
        self.tokenizer = tokenizer
        limits = [
            n for n in (max_length, getattr(model.backbone.config, "max_position_embeddings", None)) if n
        ]
        self.max_length = int(min(limits)) if limits else int(tokenizer.model_max_length)
        self.last_truncation = truncation_counts([])
        self.quantization: dict | None = None  # set by from_pretrained(quantize=...)

    @classmethod
    def from_pretrained(
        cls, model_dir: str | Path, device=None, max_length: int | None = None, quantize: str | None = None
    ) -> Anticipator:
        """Load model + tokenizer from a ``save_pretrained`` folder onto ``device`` (default: cuda when
        available); NotAModelDirError if it is not one. ``quantize="int8"`` (or ``"bf16"``) converts the model
        for CPU scoring (:mod:`.quantize`; ``device`` then defaults to the CPU, and another device is an
        error); what it converted is in ``quantization``. int8 caches its exported backbone in the model
        dir's ``onnx-int8/`` folder (a temporary one where the dir is read-only)."""
        folder = check_model_dir(model_dir)
        model = PrefixClassifier.from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if quantize is None:
            return cls(model, tokenizer, device=resolve_device(device), max_length=max_length)
        from .quantize import QuantizationError, quantize_model  # only a quantized scorer needs it

        target = resolve_device(device if device is not None else "cpu")
        if target.type != "cpu":
            raise QuantizationError(f"{quantize} scoring is for the CPU, not {target}: pass device='cpu'")
        anticipator = cls(model, tokenizer, device=target, max_length=max_length)
        # int8 keeps its exported backbone beside the model, so the next load skips the export
        anticipator.quantization = quantize_model(anticipator.model, quantize, folder / "onnx-int8")
        return anticipator

    @property
    def variant(self) -> str:
        return self.model.variant

    @property
    def last_truncated(self) -> int:
        """Texts of the last call longer than ``max_length`` tokens (scored on the words that fit)."""
        return self.last_truncation["sentences_truncated"]

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def _scoring(self) -> Iterator[None]:
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)

    @staticmethod
    def _probabilities(logits: torch.Tensor) -> np.ndarray:
        return torch.sigmoid(logits.double()).cpu().numpy()

    def _pad(self, sequences) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(s) for s in sequences)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _encode(self, texts) -> list[EncodedSentence]:
        encoded = encode_sentences(self.tokenizer, texts, self.max_length, desc="tokenizing", what="text")
        self.last_truncation = truncation_counts(encoded)
        for index, e in enumerate(encoded):
            if e.n_fit == 0:
                raise ValueError(
                    f"text {index}: its first word alone has more than max_length={self.max_length} tokens "
                    f"({e.words[0][:40]!r})"
                )
        return encoded

    # ------------------------------------------------------------------ trajectories
    def trajectory(self, text: str) -> pd.DataFrame:
        """One row per word-prefix: ``k`` (words seen), ``word`` (the k-th word), ``prefix``, ``p_hate``."""
        words = split_words(text)
        (probs,) = self.trajectories([" ".join(words)])
        return pd.DataFrame(
            {
                "k": np.arange(1, len(words) + 1),
                "word": words,
                "prefix": [" ".join(words[:k]) for k in range(1, len(words) + 1)],
                "p_hate": probs,
            }
        )

    def trajectories(self, texts, batch_size: int = 32, progress: bool | str = False) -> list[np.ndarray]:
        """p_hate of every word-prefix of each text (float64, ``len == n_words``); words beyond
        ``max_length`` repeat the last fitting prefix's p_hate. ``progress``: a bar (a string names it)."""
        encoded = self._encode(texts)
        fitted = self._score_words(encoded, [range(e.n_fit) for e in encoded], batch_size, progress)
        return [np.concatenate([p, np.full(e.n_words - e.n_fit, p[-1])]) for e, p in zip(encoded, fitted)]

    # ------------------------------------------------------------------ batch scoring
    def score(self, texts, batch_size: int = 64, progress: bool | str = False) -> np.ndarray:
        """p_hate of each text (scored as all the input seen so far), float64, in input order; a text longer
        than ``max_length`` tokens is scored on its longest fitting word-prefix."""
        encoded = self._encode(texts)
        fitted = self._score_words(encoded, [[e.n_fit - 1] for e in encoded], batch_size, progress)
        return np.array([p[0] for p in fitted], dtype=np.float64)

    def _score_words(self, encoded, words, batch_size: int, progress: bool | str) -> list[np.ndarray]:
        """p_hate of the word-prefixes ``words[i]`` (0-based word indices, all fitting) of sentence i."""
        if not encoded:
            return []
        desc = progress if isinstance(progress, str) else f"scoring ({self.variant})"
        words = [list(w) for w in words]
        with self._scoring():
            if self.model.shares_backbone_pass:
                items = [
                    (e.input_ids[: e.word_ends[max(w)] + 1], [e.word_ends[j] for j in w])
                    for e, w in zip(encoded, words)
                ]
                return self._score_shared(items, batch_size, desc, bool(progress))
            flat = [(i, j) for i, w in enumerate(words) for j in w]
            texts = [encoded[i].prefix(j + 1) for i, j in flat]
            unique = list(dict.fromkeys(texts))  # a prefix shared by several texts is scored once
            lookup = dict(zip(unique, self._score_each(unique, batch_size, desc, bool(progress))))
            probs = [lookup[text] for text in texts]
        out = [np.zeros(len(w)) for w in words]
        column = {(i, j): c for i, w in enumerate(words) for c, j in enumerate(w)}
        for (i, j), p in zip(flat, probs):
            out[i][column[i, j]] = p
        return out

    def _score_each(self, texts: list[str], batch_size: int, desc: str, progress: bool) -> np.ndarray:
        """Every text its own sequence; sorting by length keeps padding (wasted compute) small."""
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = np.zeros(len(encoded), dtype=np.float64)
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for batch in tqdm(batches, desc=desc, leave=False, disable=not progress):
            input_ids, mask = self._pad([encoded[i] for i in batch])
            out[batch] = self._probabilities(self.model(input_ids, mask).logits)
        return out

    def _score_shared(self, items, batch_size: int, desc: str, progress: bool) -> list[np.ndarray]:
        """Causal decoders: ``items`` are (token ids, positions wanted); p_hate at each position.

        A sequence whose tokens start another one is read off that one's pass. In lexicographic order of
        token tuples, a sequence that is a token-prefix of some other is a prefix of its successor; walking
        backwards, each sequence inherits its successor's carrier. Exact: the carrier's state at a position
        is computed from the very same tokens.
        """
        keys = [tuple(ids) for ids, _ in items]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        carrier = list(range(len(keys)))
        for pos in range(len(order) - 2, -1, -1):
            i, j = order[pos], order[pos + 1]
            if keys[j][: len(keys[i])] == keys[i]:
                carrier[i] = carrier[j]
        wanted: dict[int, set[int]] = {}
        for i, c in enumerate(carrier):
            wanted.setdefault(c, set()).update(items[i][1])
        carriers = sorted(wanted, key=lambda c: len(keys[c]))
        found: dict[tuple[int, int], float] = {}
        batches = [carriers[i : i + batch_size] for i in range(0, len(carriers), batch_size)]
        for batch in tqdm(batches, desc=f"{desc}, shared passes", leave=False, disable=not progress):
            input_ids, mask = self._pad([keys[c] for c in batch])
            columns = [sorted(wanted[c]) for c in batch]
            ends = torch.full((len(batch), max(map(len, columns))), -1, dtype=torch.long)
            for row, positions in enumerate(columns):
                ends[row, : len(positions)] = torch.tensor(positions)
            probs = self._probabilities(self.model.all_prefix_logits(input_ids, mask, ends.to(self.device)))
            for row, (c, positions) in enumerate(zip(batch, columns)):
                found.update({(c, p): probs[row, col] for col, p in enumerate(positions)})
        return [np.array([found[carrier[i], p] for p in items[i][1]]) for i in range(len(items))]

    # ------------------------------------------------------------------ streaming
    def stream(self) -> PrefixStream:
        """A stream that takes words one at a time (``add_word``) and returns the updated p_hate."""
        return PrefixStream(self)


@dataclass
class PrefixStream:
    """Words arrive one at a time; ``add_word`` returns p_hate of the text so far.

    Decoders keep the backbone's key/value cache and token states: each word re-tokenizes the text so far
    (microseconds), keeps the cached tokens that still agree with it (normally all of them), and runs the
    backbone only on the new tokens. If a new word changed the tokens before it (a BPE merge across the
    boundary, which whitespace-separated words do not cause in GPT-2 / SmolLM2 / WordPiece tokenizers) the
    cache is cropped to the agreeing part first, so the result stays exact. Encoders re-score the prefix.
    Words beyond the anticipator's ``max_length`` get the last fitting p_hate (counted in
    ``truncated_words``).
    """

    anticipator: Anticipator
    words: list[str] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    tokens_fed: int = 0  # backbone tokens computed so far (a KV cache pays only for the new ones)
    truncated_words: int = 0  # words beyond max_length (given the last fitting p_hate)

    def __post_init__(self):
        self._ids: list[int] = []
        self._cache = None
        self._states: torch.Tensor | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def state_bytes(self) -> int:
        """Memory the stream keeps between words: the key/value cache and the token states (decoders)."""
        total = 0 if self._states is None else self._states.numel() * self._states.element_size()
        for layer in getattr(self._cache, "layers", []) or []:
            for name in ("keys", "values"):
                tensor = getattr(layer, name, None)
                if torch.is_tensor(tensor):
                    total += tensor.numel() * tensor.element_size()
        return total

    def reset(self) -> None:
        self.words.clear()
        self.probabilities.clear()
        self.tokens_fed = 0
        self.truncated_words = 0
        self.__post_init__()

    def add_word(self, word: str) -> float:
        """Append ``word`` (several whitespace-separated words are added one by one) and return p_hate."""
        for piece in split_words(word if isinstance(word, str) else str(word)):
            self.words.append(piece)
            probability = self._update()
            self.probabilities.append(probability)
        return probability

    def _update(self) -> float:
        anticipator = self.anticipator
        model = anticipator.model
        if not model.is_decoder:
            self.tokens_fed += len(anticipator.tokenizer(self.text)["input_ids"])
            probability = float(anticipator.score([self.text])[0])
            self.truncated_words += anticipator.last_truncated
            return probability
        new_ids = list(anticipator.tokenizer(self.text, add_special_tokens=True)["input_ids"])
        if len(new_ids) > anticipator.max_length:
            if not self.probabilities:
                raise ValueError(
                    f"the first word alone has more than max_length={anticipator.max_length} tokens"
                )
            self.truncated_words += 1
            return self.probabilities[-1]
        common = 0
        for a, b in zip(self._ids, new_ids, strict=False):
            if a != b:
                break
            common += 1
        with anticipator._scoring():
            if common < len(self._ids):  # tokens before the new word changed: drop them from the cache
                if self._cache is not None:
                    self._cache.crop(common)
                self._states = self._states[:, :common] if self._states is not None else None
                self._ids = self._ids[:common]
            fresh = new_ids[common:]
            if fresh:
                if common == 0:
                    self._cache = None
                input_ids = torch.tensor([fresh], dtype=torch.long, device=anticipator.device)
                out = model.token_states(input_ids, None, past_key_values=self._cache, use_cache=True)
                self._cache = out.past_key_values
                states = out.last_hidden_state
                self._states = (
                    states
                    if self._states is None or common == 0
                    else torch.cat([self._states, states], dim=1)
                )
                self._ids = new_ids
                self.tokens_fed += len(fresh)
            if model.config.use_bilstm:
                logit = model.lstm_logit_from_states(self._states)
            else:
                logit = model._logit(self._states[:, -1])
        return float(anticipator._probabilities(logit).reshape(-1)[0])
