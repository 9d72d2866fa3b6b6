"""P(the finished sentence is hateful | its first k words), estimated the direct way: sample how the sentence
might go on with the profile's *pretrained* decoder, score each imagined ending at full length with a
phase-1 classifier, and average. No prefix labels are needed, so it is a third method beside the phase-2
models and a check on what their labels say.

>>> estimator = ContinuationEstimator.from_profile(profile, scorer_dir)        # doctest: +SKIP
>>> estimator.estimate("I am not sexist, but")                               # doctest: +SKIP
Estimate(mean=0.61..., stderr=0.07..., ...)

Choices, each with its why:

* Nucleus sampling (``top_p``, ``temperature``) from the pretrained decoder, not the fine-tuned one: the
  question is what a language model expects to follow, not what a classifier was trained to say.
* How long an ending runs: the question is about whole tweets of 8-30 words, so with ``ending_lengths`` (the
  word counts of the phase-2 *train* tweets) each sampled ending runs until the imagined text reaches a
  length drawn, per row and seeded, from the train lengths longer than the prefix, capped by
  ``max_new_tokens``; never the true sentence's length, which no other method sees. Without it, an ending
  stops at the first sentence end (``.``, ``!``, ``?``, a newline), the earlier rule.
* Seeded per prefix and sample (``seed`` + a checksum of the prefix text + the sample's index, one random
  stream per row: :class:`SeededNucleusSampler`): the same prefix gets the same samples whatever else is
  generated with it, so runs repeat and results do not depend on order or batching, while prefixes are
  generated several at a time (batches are what make it affordable on a CPU).
* The score of an ending is the classifier's probability at full length (no threshold), mapped through
  ``calibration`` when one is given (a :class:`~.calibration.PlattMap` fit on full train sentences: the
  phase-1 scorers' raw scale is inflated by their class weight), each ending *before* averaging: the
  estimate is the Monte-Carlo mean over ``n_samples`` endings and its standard error is their standard
  deviation over sqrt(n). The noise adds about stderr^2 to a squared error, reported beside the MSE. The raw
  mean is kept too (``Estimate.raw_mean``).
* At k = n there is nothing to continue: the estimate is the classifier's score of the sentence itself.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, GenerationConfig, LogitsProcessor, LogitsProcessorList

from ..models.backbones import load_tokenizer, resolve_model_dir
from .inference import Anticipator

SENTENCE_END = re.compile(r"[.!?\n]")


@dataclass
class ContinuationSettings:
    """How endings are sampled; validated on creation."""

    n_samples: int = 8
    max_new_tokens: int = 20
    top_p: float = 0.9
    temperature: float = 1.0
    seed: int = 42
    # Word counts of whole train tweets: endings run to a length drawn from these (None: first sentence end).
    ending_lengths: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.ending_lengths is not None:
            self.ending_lengths = tuple(int(n) for n in self.ending_lengths)
            if not self.ending_lengths or min(self.ending_lengths) < 1:
                raise ValueError("ending_lengths must be a non-empty list of positive word counts")
        if self.n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {self.n_samples}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


@dataclass
class Estimate:
    """The estimate for one prefix: mean classifier score over its sampled endings and its standard error."""

    prefix: str
    mean: float  # of the calibrated scores when the estimator calibrates, else of the raw ones
    stderr: float
    scores: np.ndarray  # raw classifier score, one per ending
    endings: list[str] = field(default_factory=list)  # the sampled continuations ("" at k = n)
    complete: bool = False  # k = n: the classifier's score of the text itself, nothing sampled

    @property
    def raw_mean(self) -> float:
        return float(np.mean(self.scores))

    @classmethod
    def of_scores(cls, prefix: str, raw: np.ndarray, endings: list[str], calibration=None, complete=False):
        used = np.asarray(raw, float) if calibration is None else calibration(raw)
        stderr = float(used.std(ddof=1) / np.sqrt(len(used))) if len(used) > 1 else float("nan")
        if complete:
            stderr = 0.0
        return cls(prefix, float(used.mean()), stderr, np.asarray(raw, float), endings, complete=complete)

    @classmethod
    def of_complete(cls, text: str, score: float, calibration=None) -> Estimate:
        return cls.of_scores(text, np.array([float(score)]), [""], calibration, complete=True)


def cut_at_words(text: str, n_words: int) -> str:
    """``text`` up to the end of its ``n_words``-th word (all of it when it has fewer), spacing kept."""
    if n_words <= 0:
        return ""
    match = re.match(rf"(?:\s*\S+){{{n_words}}}", text)
    return match.group(0) if match else text


def cut_at_sentence_end(text: str) -> str:
    """``text`` up to and including its first sentence end (all of it when there is none)."""
    match = SENTENCE_END.search(text)
    return text if match is None else text[: match.end()].rstrip("\n")


class ContinuationEstimator:
    """Sample endings with ``generator`` (a causal LM and its ``tokenizer``), score them with ``scorer``."""

    def __init__(
        self,
        generator,
        tokenizer,
        scorer: Anticipator,
        settings: ContinuationSettings | None = None,
        calibration: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        self.generator = generator.eval()
        self.tokenizer = tokenizer
        self.scorer = scorer
        self.settings = settings or ContinuationSettings()
        self.calibration = calibration  # raw score -> calibrated, per ending, before the mean
        if self.tokenizer.pad_token_id is None:
            raise ValueError("the generator's tokenizer needs a pad token (SmolLM2: <|im_end|>)")

    @classmethod
    def from_profile(cls, profile, scorer_dir, settings: ContinuationSettings | None = None):
        """The profile's pretrained decoder as generator; the saved classifier in ``scorer_dir`` as scorer."""
        device = profile.torch_device
        generator = AutoModelForCausalLM.from_pretrained(resolve_model_dir(profile.models.decoder)).to(device)
        scorer = Anticipator.from_pretrained(
            scorer_dir, device=device, max_length=profile.anticipation.max_length
        )
        settings = settings or ContinuationSettings(seed=profile.seed)
        return cls(generator, load_tokenizer(profile.models.decoder), scorer, settings)

    def _seed(self, prefix: str) -> int:
        return self.settings.seed + zlib.crc32(prefix.encode("utf-8"))

    @torch.inference_mode()
    def endings(self, prefix: str) -> list[str]:
        """``n_samples`` sampled continuations of ``prefix``, each cut at its first sentence end."""
        return self._endings_of([prefix])[0]

    def _endings_of(self, prefixes: list[str]) -> list[list[str]]:
        """Endings of several prefixes in one ``generate`` call (left-padded prompts, ``n_samples`` rows
        each). Row (prefix, i) draws from its own generator seeded by the prefix and i, so a prefix's
        endings do not depend on what else is in the batch."""
        s = self.settings
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"  # generation continues every prompt from its last real token
        try:
            encoded = self.tokenizer(prefixes, return_tensors="pt", padding=True)
        finally:
            self.tokenizer.padding_side = side
        seeds = [self._seed(prefix) + i for prefix in prefixes for i in range(s.n_samples)]
        config = GenerationConfig(
            do_sample=False,  # the drawing is SeededNucleusSampler's; greedy takes its one-hot choice
            max_new_tokens=s.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        device = next(self.generator.parameters()).device
        out = self.generator.generate(
            input_ids=encoded["input_ids"].repeat_interleave(s.n_samples, dim=0).to(device),
            attention_mask=encoded["attention_mask"].repeat_interleave(s.n_samples, dim=0).to(device),
            generation_config=config,
            logits_processor=LogitsProcessorList([SeededNucleusSampler(seeds, s.top_p, s.temperature)]),
        )
        texts = self.tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
        if s.ending_lengths is None:
            cut = [cut_at_sentence_end(t) for t in texts]
        else:
            row_prefixes = [prefix for prefix in prefixes for _ in range(s.n_samples)]  # aligned with seeds
            cut = [
                cut_at_words(t, self.ending_words(prefix, seed))
                for t, prefix, seed in zip(texts, row_prefixes, seeds)
            ]
        return [cut[i * s.n_samples : (i + 1) * s.n_samples] for i in range(len(prefixes))]

    def ending_words(self, prefix: str, seed: int) -> int:
        """Words to add to ``prefix``: a whole-tweet length drawn (with ``seed``) from the train lengths
        longer than the prefix, minus the prefix's words (1 when no train tweet is longer)."""
        k = len(prefix.split())
        lengths = np.asarray(self.settings.ending_lengths)
        longer = lengths[lengths > k]
        if len(longer) == 0:
            return 1
        return int(np.random.default_rng(seed).choice(longer)) - k

    def _estimate(self, prefix: str, endings: list[str]) -> Estimate:
        scores = self.scorer.score([prefix + ending for ending in endings])
        return Estimate.of_scores(prefix, scores, endings, self.calibration)

    def estimate(self, prefix: str, complete: bool = False) -> Estimate:
        """The estimate for one prefix; ``complete=True`` (k = n): the classifier's score of the text."""
        if complete:
            return Estimate.of_complete(prefix, self.scorer.score([prefix])[0], self.calibration)
        with torch.inference_mode():
            return self._estimate(prefix, self._endings_of([prefix])[0])

    def estimate_many(
        self, prefixes, complete=None, progress: bool | str = False, batch_prefixes: int = 4
    ) -> list[Estimate]:
        """:meth:`estimate` for every prefix (``complete``: one flag per prefix, default all False), the
        prefixes to continue generated ``batch_prefixes`` at a time (same endings as one by one)."""
        prefixes = list(prefixes)
        complete = [False] * len(prefixes) if complete is None else list(complete)
        if len(complete) != len(prefixes):
            raise ValueError(f"complete has {len(complete)} flags for {len(prefixes)} prefixes")
        out: list[Estimate | None] = [None] * len(prefixes)
        done = [i for i, flag in enumerate(complete) if flag]
        if done:
            scores = self.scorer.score([prefixes[i] for i in done])
            for i, score in zip(done, scores):
                out[i] = Estimate.of_complete(prefixes[i], score, self.calibration)
        # Similar lengths together: left padding is computed for nothing.
        todo = sorted((i for i, flag in enumerate(complete) if not flag), key=lambda i: len(prefixes[i]))
        batches = [todo[i : i + batch_prefixes] for i in range(0, len(todo), batch_prefixes)]
        desc = progress if isinstance(progress, str) else "continuations"
        with torch.inference_mode():
            for batch in tqdm(batches, desc=desc, disable=not progress):
                for i, endings in zip(batch, self._endings_of([prefixes[i] for i in batch])):
                    out[i] = self._estimate(prefixes[i], endings)
        return out


class SeededNucleusSampler(LogitsProcessor):
    """Nucleus sampling with one ``torch.Generator`` per row, as a logits processor: it draws each row's
    token and returns scores that are 0 there and -inf elsewhere, so greedy decoding takes the draw.

    Why by hand: ``generate(do_sample=True)`` draws the whole batch from one random stream, so a prefix's
    endings would depend on the other prefixes batched with it (and on the batch size); batching prefixes
    is what makes the estimator affordable on a CPU."""

    def __init__(self, seeds: list[int], top_p: float, temperature: float):
        self.generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
        self.top_p, self.temperature = float(top_p), float(temperature)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        # on the CPU, where the per-row generators live (a few MB per step from a GPU)
        probs = torch.softmax(scores.float().cpu() / self.temperature, dim=-1)
        ranked, order = probs.sort(dim=-1, descending=True)
        # keep the smallest set of top tokens whose mass reaches top_p (the first token always)
        ranked = ranked * ((ranked.cumsum(dim=-1) - ranked) < self.top_p)
        chosen = torch.full_like(probs, float("-inf"))
        for row, generator in enumerate(self.generators):
            pick = torch.multinomial(ranked[row], 1, generator=generator)
            chosen[row, order[row, pick]] = 0.0
        return chosen.to(scores.device)
