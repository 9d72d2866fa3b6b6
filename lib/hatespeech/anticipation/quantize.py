"""Reduced-precision scoring for the CPU: int8 weights for the backbone's linear layers, or bf16.

:func:`quantize_model` converts a loaded :class:`hatespeech.models.prefix.PrefixClassifier` in place; the
scorer (:class:`hatespeech.anticipation.inference.Anticipator`, the ``hatespeech`` CLI's ``--quantize``)
calls it. fp32 stays the reference everywhere the study reports a number; the speed section of the report
measures what each mode costs in accuracy (|MSE change| on the phase-2 test prefixes, max |p change|) and
offers it only where the MSE moves by at most 0.001.

**int8** (:class:`RowScaledInt8Linear`): each ``nn.Linear`` of the backbone (and GPT-2's ``Conv1D``) keeps
its weights as int8 with one scale per output channel and multiplies through fbgemm's dynamic int8 kernel
(``torch.ops.quantized.linear_dynamic``, the kernel behind ``torch.ao.quantization.quantize_dynamic``).
Heads and the biLSTM stay fp32: they are a sliver of the bytes. Why by hand, not ``quantize_dynamic``:

* ``quantize_dynamic`` picks one activation scale per *call* (from the min and max of the whole input), so a
  token's result depends on the other tokens in the batch: streaming a sentence one word at a time and
  scoring it in one pass disagreed by up to 0.21 in p_hate on the cpu models (measured). Here every row
  (token) is divided by its own max |x| first and a fixed guard row (+1, -1) pins the kernel's range to
  [-1, 1], so each token is quantized on its own scale whatever else is in the call: streaming equals one
  pass (tested within 1e-4);
* per-token int8 kernels that need no trick (``torch._int_mm``, ``torch._weight_int8pack_mm``) ran 10x
  *slower* than fp32 on the project's CPU, and torchao's int8 weight-only layout was slower than fp32 too
  (measured, 1 thread, SmolLM2-sized layers), while the fbgemm kernel is 1.5-2x faster than fp32.

**Full 8-bit activations where the CPU adds exactly.** fbgemm's default (``reduce_range``) quantizes
activations to 7 bits because CPUs without VNNI add pairs of uint8 x int8 products in saturating int16;
:func:`full_range_is_exact` checks the kernel once on a product that would saturate and uses all 8 bits only
where it comes out exact. On SmolLM2 the mean hidden state's error relative to fp32 roughly halved
(0.12-0.16 -> 0.07-0.10 on three sentences, measured on a 2-core Intel Xeon with AVX512-VNNI). So int8
results can differ slightly between CPUs; ``quantize_model`` reports which range it used.

**Where the time goes**, and why int8 stops short of 4x: a one-token SmolLM2 forward (1 thread, same Intel
machine) took 29 ms int8 against 45 ms fp32, of which ~7 ms is the model's work outside its linear layers
(norms, rotary positions, attention, cache: the same in every mode) and ~9 ms the int8 kernels reading 106 MB
of weights; the rest is fixed cost per call (fbgemm ~17 us beyond its arithmetic, the row scaling a few us)
over 210 layers. Stacking the layers that read the same input (q/k/v, gate/up: 120 calls instead of 210)
saved only ~3% (measured), not worth the bookkeeping it needs, so it is not done.
``benchmarks/quantized_scoring.py`` measures that split in each run (``int8_floor``).

``torch.ao.quantization`` (which the fbgemm kernels come from) is deprecated upstream in favour of torchao;
the kernels ship with torch 2.13, which the project pins, and :func:`quantize_model` raises a clear error
where the engine is missing.

**bf16**: the whole model cast to bfloat16 (weights and activations), probabilities still computed in
float64 from the logit.
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch import nn

MODES = ("int8", "bf16")


class QuantizationError(ValueError):
    """The model cannot be converted (no linear layers, not on the CPU, no int8 engine, unknown mode)."""


def _int8_engine() -> str:
    engines = torch.backends.quantized.supported_engines
    for engine in ("x86", "fbgemm"):
        if engine in engines:
            return engine
    raise QuantizationError(
        f"int8 scoring needs torch's x86/fbgemm quantized engine; this torch build offers {engines}"
    )


@functools.cache
def full_range_is_exact() -> bool:
    """Whether the int8 engine multiplies full-range (8-bit) activations without saturating.

    Why a probe, not a CPU flag: what matters is the kernel fbgemm dispatches to, and a product that would
    saturate a pairwise int16 sum (every activation at the top of the range, every weight at +127) shows it
    directly: exact within quantization error, or off by about half."""
    torch.backends.quantized.engine = _int8_engine()
    weight = torch.ones(4, 256)
    layer = RowScaledInt8Linear(weight, None, reduce_range=False)
    with torch.inference_mode():
        got = layer(torch.ones(1, 256))
    return bool(torch.allclose(got, torch.full_like(got, 256.0), rtol=0.02))


class RowScaledInt8Linear(nn.Module):
    """``y = x W^T + b`` with W in int8 (symmetric, one scale per output channel) and each row of ``x``
    quantized on its own scale (see the module docstring). ``weight`` is ``[out, in]`` as in ``nn.Linear``;
    ``reduce_range`` quantizes activations to 7 bits (fbgemm's safe default) instead of 8."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, reduce_range: bool = True):
        super().__init__()
        weight = weight.detach().float().cpu()
        scales = (weight.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
        with warnings.catch_warnings():  # the deprecation the module docstring explains, once per layer
            warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
            qweight = torch.quantize_per_channel(weight, scales, zero_points, axis=0, dtype=torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(qweight, None)
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.reduce_range = reduce_range
        self.bias = None if bias is None else nn.Parameter(bias.detach().float().cpu(), requires_grad=False)
        guard = torch.zeros(1, self.in_features)
        guard[0, 0], guard[0, -1] = 1.0, -1.0  # pins the kernel's activation range to [-1, 1]
        self.register_buffer("_guard", guard, persistent=False)
        self.weight_bytes = weight.numel()  # int8: one byte per weight (plus a scale per output channel)

    @classmethod
    def from_module(cls, module: nn.Module, reduce_range: bool = True) -> RowScaledInt8Linear:
        if isinstance(module, nn.Linear):
            return cls(module.weight, module.bias, reduce_range)
        # transformers' Conv1D (GPT-2) stores the weight as [in, out]
        return cls(module.weight.t(), module.bias, reduce_range)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        if rows.dtype != torch.float32:
            rows = rows.float()
        scale = rows.abs().amax(dim=1, keepdim=True).clamp_min_(1e-12)
        scaled = torch.cat([rows / scale, self._guard])
        out = torch.ops.quantized.linear_dynamic(scaled, self._packed, self.reduce_range)[:-1]
        out = out * scale if self.bias is None else torch.addcmul(self.bias, out, scale)
        return out.reshape(*shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self) -> str:
        bits = 7 if self.reduce_range else 8
        shape = f"in_features={self.in_features}, out_features={self.out_features}"
        return f"{shape}, int8 weights, row-scaled {bits}-bit activations"


def _linear_types() -> tuple[type, ...]:
    types: tuple[type, ...] = (nn.Linear,)
    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover - transformers always ships it
        return types
    return (*types, Conv1D)


def quantize_int8(module: nn.Module, reduce_range: bool = True) -> int:
    """Replace every linear layer under ``module`` by :class:`RowScaledInt8Linear`; return how many."""
    linear = _linear_types()
    targets = [(name, child) for name, child in module.named_modules() if isinstance(child, linear)]
    for name, child in targets:
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, attr, RowScaledInt8Linear.from_module(child, reduce_range))
    return len(targets)


def quantize_model(model: nn.Module, mode: str) -> dict[str, float | int | str]:
    """Convert ``model`` (a PrefixClassifier; its ``backbone`` for int8) in place to ``mode`` ("int8" or
    "bf16") for CPU scoring and return what changed: ``mode``, ``layers`` (int8: linear layers converted),
    ``activation_bits`` (int8: 8 where
    :func:`full_range_is_exact`, else 7), ``weights_mb`` before and after. Raises
    :class:`QuantizationError` naming the reason."""
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
    torch.backends.quantized.engine = _int8_engine()
    target = getattr(model, "backbone", model)
    if not any(isinstance(m, _linear_types()) for m in target.modules()):
        raise QuantizationError(
            f"{type(target).__name__} has no nn.Linear or Conv1D layer to quantize: int8 scoring needs a "
            "transformer backbone"
        )
    full_range = full_range_is_exact()
    layers = quantize_int8(target, reduce_range=not full_range)
    return {
        "mode": mode,
        "layers": layers,
        "activation_bits": 8 if full_range else 7,
        "weights_mb_fp32": before,
        "weights_mb": _weights_mb(model),
    }


def _weights_mb(model: nn.Module) -> float:
    """Bytes of the weights the model reads per forward: parameters and buffers, int8 layers at 1 byte."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    total += sum(m.weight_bytes for m in model.modules() if isinstance(m, RowScaledInt8Linear))
    return total / 2**20
