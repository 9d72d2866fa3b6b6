"""Reduced-precision scoring for the CPU: int8 through ONNX Runtime, or bf16 in PyTorch.

:func:`quantize_model` converts a loaded :class:`hatespeech.models.prefix.PrefixClassifier` in place; the
scorer (:class:`hatespeech.anticipation.inference.Anticipator`, the ``hatespeech`` CLI's ``--quantize``)
calls it. fp32 stays the reference everywhere the study reports a number; the speed section of the report
measures what each mode costs in accuracy (|MSE change| on the phase-2 test prefixes, max |p change|) and
offers it only where the MSE moves by at most 0.001.

**int8**: the backbone is exported and run by ONNX Runtime with int8 weights and int8 activations
(:mod:`.onnx_int8`, where the module docstring says why a runtime and not PyTorch's eager int8); the
classifier's head and biLSTM stay fp32 in PyTorch.

**bf16**: the whole model cast to bfloat16 (weights and activations), probabilities still computed in
float64 from the logit.

:class:`RowScaledInt8Linear` (fbgemm's dynamic int8 kernel behind each ``nn.Linear``, every row on its own
scale) is PyTorch's eager int8: the scorer used it before ONNX Runtime (it missed the speed targets, see
:mod:`.onnx_int8`); the continuation sampler (:mod:`.continuation_study`) still uses it for the generator,
which samples through ``generate`` and is not exported. Its kernels come from ``torch.ao.quantization``,
deprecated upstream in favour of torchao: they ship with the pinned torch 2.13, and a later torch may drop
them, which would leave only the sampler's optional int8 generator to port.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from . import onnx_int8
from .onnx_int8 import replace_linear_layers

MODES = ("int8", "bf16")


class QuantizationError(ValueError):
    """The model cannot be converted (not a prefix classifier, not on the CPU, no int8 runtime, unknown
    mode)."""


def _int8_engine() -> str:
    engines = torch.backends.quantized.supported_engines
    for engine in ("x86", "fbgemm"):
        if engine in engines:
            return engine
    raise QuantizationError(
        f"int8 scoring needs torch's x86/fbgemm quantized engine; this torch build offers {engines}"
    )


class RowScaledInt8Linear(nn.Module):
    """``y = x W^T + b`` with W in int8 (symmetric, one scale per output channel) and each row of ``x``
    quantized on its own scale (see the module docstring), to 7 bits (fbgemm's ``reduce_range``, safe on
    CPUs without VNNI). ``weight`` is ``[out, in]`` as in ``nn.Linear``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        weight = weight.detach().float().cpu()
        scales = (weight.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
        with warnings.catch_warnings():  # the deprecation the module docstring explains, once per layer
            warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
            qweight = torch.quantize_per_channel(weight, scales, zero_points, axis=0, dtype=torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(qweight, None)
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.bias = None if bias is None else nn.Parameter(bias.detach().float().cpu(), requires_grad=False)
        guard = torch.zeros(1, self.in_features)
        guard[0, 0], guard[0, -1] = 1.0, -1.0  # pins the kernel's activation range to [-1, 1]
        self.register_buffer("_guard", guard, persistent=False)
        self.weight_bytes = weight.numel()  # int8: one byte per weight (plus a scale per output channel)

    @classmethod
    def from_module(cls, module: nn.Module) -> RowScaledInt8Linear:
        if isinstance(module, nn.Linear):
            return cls(module.weight, module.bias)
        # transformers' Conv1D (GPT-2) stores the weight as [in, out]
        return cls(module.weight.t(), module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        if rows.dtype != torch.float32:
            rows = rows.float()
        scale = rows.abs().amax(dim=1, keepdim=True).clamp_min_(1e-12)
        scaled = torch.cat([rows / scale, self._guard])
        out = torch.ops.quantized.linear_dynamic(scaled, self._packed, True)[:-1]  # True: reduce_range
        out = out * scale if self.bias is None else torch.addcmul(self.bias, out, scale)
        return out.reshape(*shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self) -> str:
        shape = f"in_features={self.in_features}, out_features={self.out_features}"
        return f"{shape}, int8 weights, row-scaled 7-bit activations"


def quantize_int8(module: nn.Module) -> int:
    """Replace every linear layer under ``module`` by :class:`RowScaledInt8Linear`; return how many."""
    torch.backends.quantized.engine = _int8_engine()
    return replace_linear_layers(module, RowScaledInt8Linear.from_module)


def quantize_model(
    model: nn.Module, mode: str, cache_dir: str | Path | None = None, keep_fp32_graph: bool = False
) -> dict:
    """Convert ``model`` (a PrefixClassifier) in place to ``mode`` ("int8" or "bf16") for CPU scoring and
    return what changed: ``mode``, ``weights_mb`` before (``weights_mb_fp32``) and after; for int8 also
    ``layers`` (weight matrices in int8), ``runtime``, ``cached`` (the exported model came from
    ``cache_dir``) and ``build_seconds``; ``keep_fp32_graph`` keeps the fp32 export beside the int8 one.
    Raises :class:`QuantizationError` naming the reason."""
    if mode not in MODES:
        raise QuantizationError(f"unknown quantization {mode!r}; choose one of {', '.join(MODES)}")
    devices = {p.device.type for p in model.parameters()}
    if devices != {"cpu"}:
        raise QuantizationError(
            f"{mode} scoring is for the CPU; the model is on {', '.join(sorted(devices))} "
            "(load it with device='cpu')"
        )
    before = _weights_mb(model)
    if mode == "bf16":
        model.to(torch.bfloat16)
        return {"mode": mode, "layers": 0, "weights_mb_fp32": before, "weights_mb": _weights_mb(model)}
    backbone = getattr(model, "backbone", None)
    if not isinstance(backbone, nn.Module) or not hasattr(model, "is_decoder"):
        raise QuantizationError(
            f"int8 scoring converts a prefix classifier's transformer backbone; {type(model).__name__} "
            "has none"
        )
    version = onnx_int8.onnxruntime_version()
    if version is None:
        raise QuantizationError(
            "int8 scoring runs in ONNX Runtime, which is not installed: pip install -r requirements.txt"
        )
    stand_in, built = onnx_int8.int8_backbone(backbone, model.is_decoder, cache_dir, keep_fp32_graph)
    if not built["int8_layers"]:
        raise QuantizationError(
            f"{type(backbone).__name__}: no weight matrix of the exported graph could be quantized to int8"
        )
    model.backbone = stand_in
    return {
        "mode": mode,
        "layers": built["int8_layers"],
        "runtime": f"onnxruntime {version}",
        "cached": built["cached"],
        "build_seconds": built["build_seconds"],
        "weights_mb_fp32": before,
        "weights_mb": _weights_mb(model),
    }


def _weights_mb(model: nn.Module) -> float:
    """Bytes of the weights the model reads per forward: parameters and buffers, int8 layers at 1 byte, an
    ONNX Runtime backbone at the size of its weight files."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    total += sum(getattr(m, "weight_bytes", 0) for m in model.modules())
    return total / 2**20
