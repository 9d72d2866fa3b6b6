"""Text -> per-label probabilities from a saved dual-head model: the one predict path that notebook 06 (the
functional tests), the command line and a user call, in the manner of Detoxify's ``predict``.

>>> model = DualHeadScorer.from_pretrained("artifacts/cpu/dualhead/joint_model")     # doctest: +SKIP
>>> model.predict(["you people are all the same"])                                    # doctest: +SKIP
   toxic  obscene  ...  black  muslim  ...

A model saved by notebook 04 carries ``thresholds.json`` (each label's threshold, tuned for F1 on the
validation split); :meth:`DualHeadScorer.decide` applies it. Texts are tokenized as in training
(truncated to the ``max_length`` the model was trained with, from ``dualhead_run.json``) and scored by
:func:`hatespeech.dualhead.evaluation.predict`, the function the notebooks' numbers come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from datasets import Dataset
from transformers import AutoTokenizer

from ..models.dualhead import DualHeadBert
from .evaluation import predict

THRESHOLDS_FILE = "thresholds.json"
RUN_FILE = "dualhead_run.json"
DEFAULT_MAX_LENGTH = 128


class NotADualHeadModelError(ValueError):
    """The folder is not a saved dual-head model."""


def save_thresholds(folder: str | Path, reports: dict[str, dict]) -> Path:
    """Write each label's validation-tuned threshold (``evaluate(...)[head]["thresholds"]``) beside the
    model, so that a user's decisions match the report's."""
    thresholds = {name: float(t) for report in reports.values() for name, t in report["thresholds"].items()}
    path = Path(folder) / THRESHOLDS_FILE
    path.write_text(json.dumps(thresholds, indent=2))
    return path


@dataclass
class DualHeadScorer:
    model: DualHeadBert
    tokenizer: object
    max_length: int = DEFAULT_MAX_LENGTH
    thresholds: dict[str, float] | None = None
    device: str | None = None

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | None = None, max_length: int | None = None):
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise NotADualHeadModelError(f"{folder}: no config.json, not a saved dual-head model")
        model = DualHeadBert.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        run = json.loads((folder / RUN_FILE).read_text()) if (folder / RUN_FILE).is_file() else {}
        thresholds_file = folder / THRESHOLDS_FILE
        thresholds = json.loads(thresholds_file.read_text()) if thresholds_file.is_file() else None
        length = max_length or run.get("max_length") or DEFAULT_MAX_LENGTH
        return cls(model, tokenizer, int(length), thresholds, device)

    @property
    def labels(self) -> list[str]:
        config = self.model.config
        names = [*getattr(config, "label_names_n", []), *getattr(config, "label_names_i", [])]
        return names

    def predict(self, texts, batch_size: int = 32, progress: bool = False) -> pd.DataFrame:
        """One row per text, one column per label of both heads: P(label) (``progress``: a tqdm bar)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text {i} is empty or not a string: {text!r}")
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length)
        dataset = Dataset.from_dict({**dict(encoded), "uid": [str(i) for i in range(len(texts))]})
        out = predict(
            self.model,
            dataset,
            self.tokenizer,
            self.device,
            batch_size=batch_size,
            desc="dual head",
            progress=progress,
        )
        config = self.model.config
        parts = []
        if out.probs_n is not None:
            parts.append(pd.DataFrame(out.probs_n, columns=list(config.label_names_n)))
        if out.probs_i is not None:
            parts.append(pd.DataFrame(out.probs_i, columns=list(config.label_names_i)))
        return pd.concat(parts, axis=1)

    def decide(self, probabilities: pd.DataFrame) -> pd.DataFrame:
        """0/1 per label at the validation-tuned thresholds saved with the model."""
        if self.thresholds is None:
            raise ValueError(f"this model was saved without {THRESHOLDS_FILE}: no tuned thresholds to apply")
        missing = [c for c in probabilities.columns if c not in self.thresholds]
        if missing:
            raise ValueError(f"{THRESHOLDS_FILE} has no threshold for {missing}")
        return pd.DataFrame(
            {c: (probabilities[c] >= self.thresholds[c]).astype(int) for c in probabilities.columns}
        )

    def classify(self, texts, batch_size: int = 32, progress: bool = False) -> pd.DataFrame:
        """:meth:`predict` and :meth:`decide` in one table: ``p_<label>`` for every label and, when the model
        carries its tuned thresholds, ``is_<label>`` (0/1) beside them: what ``classify --input`` writes."""
        probabilities = self.predict(texts, batch_size=batch_size, progress=progress)
        table = probabilities.add_prefix("p_")
        if self.thresholds is not None:
            table = pd.concat([table, self.decide(probabilities).add_prefix("is_")], axis=1)
        return table
