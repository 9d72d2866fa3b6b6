"""Use a trained prefix classifier outside the notebooks: per-word trajectories, batch scoring, streaming.

>>> anticipator = Anticipator.from_pretrained("artifacts/cpu/anticipation/decoder")   # doctest: +SKIP
>>> anticipator.trajectory("I am not sexist, but")                                    # doctest: +SKIP
   k    word          prefix    p_hate
   1       I               I  0.08...
>>> stream = anticipator.stream(); stream.add_word("I"); stream.add_word("am")       # doctest: +SKIP

Every method takes the fastest *exact* path for the model's variant (``p_hate`` is the same number whichever
path computes it, up to float rounding):

* ``decoder``: one forward pass over the sentence scores every word-prefix (its state at word i's last token
  sees only words <= i); batch scoring groups prefixes that are token-prefixes of one another into one pass;
  streaming keeps the keys/values (``past_key_values``) and feeds only the new word's tokens.
* ``decoder+bilstm``: the same shared causal backbone pass, with the biLSTM run once per prefix.
* ``encoder`` / ``encoder+bilstm``: each prefix is its own sequence (an encoder would otherwise see later
  words), batched with length-sorted dynamic padding under ``torch.inference_mode``.

Words are whitespace tokens, as in the prefix_probability set; prefix k is the first k words joined by
one space.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from ..models.prefix import PrefixClassifier, PrefixClassifierConfig, encode_with_word_ends


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


def _resolve_device(device) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Anticipator:
    """Predict P(finished sentence is hateful | prefix) with a saved prefix classifier."""

    def __init__(self, model: PrefixClassifier, tokenizer, device=None, max_length: int | None = None):
        self.device = _resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"
        limit = getattr(model.backbone.config, "max_position_embeddings", None)
        self.max_length = max_length or limit

    @classmethod
    def from_pretrained(
        cls, model_dir: str | Path, device=None, max_length: int | None = None
    ) -> Anticipator:
        """Load model + tokenizer from a ``save_pretrained`` folder; NotAModelDirError if it is not one."""
        folder = check_model_dir(model_dir)
        model = PrefixClassifier.from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return cls(model, tokenizer, device=device, max_length=max_length)

    @property
    def variant(self) -> str:
        return self.model.variant

    # ------------------------------------------------------------------ helpers
    def _probabilities(self, logits: torch.Tensor) -> np.ndarray:
        return torch.sigmoid(logits.float()).cpu().numpy()

    def _check_length(self, n_tokens: int, what: str) -> None:
        if self.max_length is not None and n_tokens > self.max_length:
            raise ValueError(f"{what} has {n_tokens} tokens; the backbone takes at most {self.max_length}")

    def _pad(self, sequences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(s) for s in sequences)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return ids.to(self.device), mask.to(self.device)

    # ------------------------------------------------------------------ trajectory
    def trajectory(self, text: str) -> pd.DataFrame:
        """One row per word-prefix: ``k`` (words seen), ``word`` (the k-th word), ``prefix``, ``p_hate``."""
        words = split_words(text)
        prefixes = [" ".join(words[:k]) for k in range(1, len(words) + 1)]
        if self.model.shares_backbone_pass:
            sentence = " ".join(words)
            ids, ends = encode_with_word_ends(self.tokenizer, sentence)
            self._check_length(len(ids), "text")
            with torch.inference_mode():
                input_ids, mask = self._pad([ids])
                logits = self.model.all_prefix_logits(
                    input_ids, mask, torch.tensor([ends], device=self.device)
                )
            probs = self._probabilities(logits[0])
        else:
            probs = self.score(prefixes, progress=False)
        return pd.DataFrame(
            {
                "k": np.arange(1, len(words) + 1),
                "word": words,
                "prefix": prefixes,
                "p_hate": probs.astype(float),
            }
        )

    # ------------------------------------------------------------------ batch scoring
    def score(self, prefixes: list[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """p_hate of each text in ``prefixes`` (each scored as all the input seen so far), in input order."""
        prefixes = list(prefixes)
        for index, text in enumerate(prefixes):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"prefix {index} is empty or not text: {text!r}")
        if not prefixes:
            return np.zeros(0, dtype=np.float32)
        encoded = self.tokenizer(prefixes, add_special_tokens=True, truncation=False)["input_ids"]
        for index, ids in enumerate(encoded):
            self._check_length(len(ids), f"prefix {index}")
        if self.model.shares_backbone_pass:
            return self._score_shared(encoded, batch_size, progress)
        return self._score_each(encoded, batch_size, progress)

    def _score_each(self, encoded: list[list[int]], batch_size: int, progress: bool) -> np.ndarray:
        """Every sequence alone; sorting by length keeps padding (wasted compute) small."""
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        out = np.zeros(len(encoded), dtype=np.float32)
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        with torch.inference_mode():
            for batch in tqdm(batches, desc=f"scoring ({self.variant})", disable=not progress):
                input_ids, mask = self._pad([encoded[i] for i in batch])
                out[batch] = self._probabilities(self.model(input_ids, mask).logits)
        return out

    def _score_shared(self, encoded: list[list[int]], batch_size: int, progress: bool) -> np.ndarray:
        """Causal decoders: a sequence whose tokens start another one is read off that one's pass.

        In lexicographic order of token tuples, a sequence that is a token-prefix of some other is a prefix
        of its successor; walking backwards, each sequence inherits its successor's carrier. Exact: the
        carrier's state at position len(prefix)-1 is computed from the very same tokens.
        """
        keys = [tuple(ids) for ids in encoded]
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        carrier = {}
        for pos in range(len(order) - 1, -1, -1):
            i = order[pos]
            if pos + 1 < len(order):
                j = order[pos + 1]
                if len(keys[j]) >= len(keys[i]) and keys[j][: len(keys[i])] == keys[i]:
                    carrier[i] = carrier[j]
                    continue
            carrier[i] = i
        groups: dict[int, list[int]] = {}
        for i, c in carrier.items():
            groups.setdefault(c, []).append(i)
        carriers = sorted(groups, key=lambda c: len(keys[c]))
        out = np.zeros(len(encoded), dtype=np.float32)
        batches = [carriers[i : i + batch_size] for i in range(0, len(carriers), batch_size)]
        with torch.inference_mode():
            for batch in tqdm(batches, desc=f"scoring ({self.variant}, shared passes)", disable=not progress):
                input_ids, mask = self._pad([list(keys[c]) for c in batch])
                members = [groups[c] for c in batch]
                width = max(len(m) for m in members)
                ends = torch.full((len(batch), width), -1, dtype=torch.long)
                for row, member in enumerate(members):
                    ends[row, : len(member)] = torch.tensor([len(keys[i]) - 1 for i in member])
                probs = self._probabilities(
                    self.model.all_prefix_logits(input_ids, mask, ends.to(self.device))
                )
                for row, member in enumerate(members):
                    out[member] = probs[row, : len(member)]
        return out

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
    """

    anticipator: Anticipator
    words: list[str] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    tokens_fed: int = 0  # backbone tokens computed so far (a KV cache pays only for the new ones)

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
            return float(anticipator.score([self.text], progress=False)[0])
        new_ids = list(anticipator.tokenizer(self.text, add_special_tokens=True)["input_ids"])
        anticipator._check_length(len(new_ids), "streamed text")
        common = 0
        for a, b in zip(self._ids, new_ids, strict=False):
            if a != b:
                break
            common += 1
        with torch.inference_mode():
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
        return float(torch.sigmoid(logit.float()).reshape(-1)[0])
