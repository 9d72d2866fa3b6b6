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
* A continuation stops at the first sentence end (``.``, ``!``, ``?``, a newline) or the end-of-text token,
  else after ``max_new_tokens``; never at the true sentence's length, which no other method sees.
* Seeded per prefix and sample (``seed`` + a checksum of the prefix text + the sample's index, one random
  stream per row: :class:`SeededNucleusSampler`): the same prefix gets the same samples whatever else is
  generated with it, so runs repeat and results do not depend on order or batching, while prefixes are
  generated several at a time (batches are what make it affordable on a CPU).
* The score of an ending is the classifier's raw probability at full length (no threshold): the estimate is
  the Monte-Carlo mean over ``n_samples`` endings and its standard error is their standard deviation over
  sqrt(n). The noise adds about stderr^2 to a squared error, which the study reports beside the MSE.
* At k = n there is nothing to continue: the estimate is the classifier's score of the sentence itself.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

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

    def __post_init__(self):
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
    mean: float
    stderr: float
    scores: np.ndarray  # one per ending
    endings: list[str] = field(default_factory=list)  # the sampled continuations ("" at k = n)
    complete: bool = False  # k = n: the classifier's score of the text itself, nothing sampled

    @classmethod
    def of_complete(cls, text: str, score: float) -> Estimate:
        return cls(text, float(score), 0.0, np.array([float(score)]), [""], complete=True)


def cut_at_sentence_end(text: str) -> str:
    """``text`` up to and including its first sentence end (all of it when there is none)."""
    match = SENTENCE_END.search(text)
    return text if match is None else text[: match.end()].rstrip("\n")


class ContinuationEstimator:
    """Sample endings with ``generator`` (a causal LM and its ``tokenizer``), score them with ``scorer``."""

    def __init__(
        self, generator, tokenizer, scorer: Anticipator, settings: ContinuationSettings | None = None
    ):
        self.generator = generator.eval()
        self.tokenizer = tokenizer
        self.scorer = scorer
        self.settings = settings or ContinuationSettings()
        if self.tokenizer.pad_token_id is None:
            raise ValueError("the generator's tokenizer needs a pad token (SmolLM2: <|im_end|>)")

    @classmethod
    def from_profile(cls, profile, scorer_dir, settings: ContinuationSettings | None = None):
        """The profile's pretrained decoder as generator; the saved classifier in ``scorer_dir`` as scorer."""
        from transformers import AutoModelForCausalLM

        from ..config import resolve_device
        from ..models.backbones import load_tokenizer, resolve_model_dir

        device = resolve_device(profile)
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
        cut = [cut_at_sentence_end(t) for t in texts]
        return [cut[i * s.n_samples : (i + 1) * s.n_samples] for i in range(len(prefixes))]

    def _estimate(self, prefix: str, endings: list[str]) -> Estimate:
        scores = self.scorer.score([prefix + ending for ending in endings])
        stderr = float(scores.std(ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else float("nan")
        return Estimate(prefix, float(scores.mean()), stderr, scores, endings)

    def estimate(self, prefix: str, complete: bool = False) -> Estimate:
        """The estimate for one prefix; ``complete=True`` (k = n): the classifier's score of the text."""
        if complete:
            return Estimate.of_complete(prefix, self.scorer.score([prefix])[0])
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
                out[i] = Estimate.of_complete(prefixes[i], score)
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
