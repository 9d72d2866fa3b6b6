"""What a run needs from torch, kept out of :mod:`hatespeech.config` so that reading a profile or a result
needs no torch: the device a profile asks for, the default profile of this machine, and the seeds."""

from __future__ import annotations

import random

import numpy as np
import torch


def resolve_device(profile_or_device) -> torch.device:
    """torch.device of a device spec, or of a profile; None or "auto" picks CUDA if present. A profile
    resolves its own once (:attr:`hatespeech.config.Profile.torch_device`), and that is what it gets here."""
    resolved = getattr(profile_or_device, "torch_device", None)
    if resolved is not None:
        return resolved
    device = getattr(profile_or_device, "device", profile_or_device)
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def default_profile_name() -> str:
    """gpu when CUDA is available, else cpu (what run_all.sh does without --profile)."""
    return "gpu" if torch.cuda.is_available() else "cpu"


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (and transformers' helper) so reruns repeat."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
