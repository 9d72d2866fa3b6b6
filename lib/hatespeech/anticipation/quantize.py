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

**Smoothing before int8** (SmoothQuant, Xiao et al. 2023, for pre-norm Llama-style decoders such as
SmolLM2): a few input channels of a layer carry activations far above the rest, and with one scale per
token they leave the other channels few int8 levels. :func:`smooth_activations` divides each input channel
by ``s_j = max|x_j|^0.5 / max|W_j|^0.5`` and multiplies the weights' column by it, folding the division into
the RMSNorm before q/k/v and gate/up and into up_proj's rows before down_proj, so the fp32 model computes
the same function and int8 sees flatter activations. ``max|x_j|`` comes from the fixed
:data:`CALIBRATION_TEXTS` (written for this module, not drawn from any of the study's data). On SmolLM2 the
mean hidden state's error relative to fp32 went from 0.07-0.10 to 0.03-0.04 (four sentences, 8-bit
activations, measured on the Intel machine). Why by hand: torchao's SmoothQuant targets its own int8
layouts, not this kernel. Encoders are left as they are: in a post-norm BERT the LayerNorm's output also
feeds the residual path, so the division cannot be folded into it.

**Where the time goes**, and why int8 stops short of 4x: in the cpu report's speed run (1 thread, Intel
Xeon) a one-token SmolLM2 forward took 33 ms int8 against 46 ms fp32. Of those 33 ms, 7 are the model's work
outside its linear layers (norms, rotary positions, attention, cache: the same in every mode), 14 the int8
kernels alone over 210 layers (about 17 us of each call is fixed cost beyond the arithmetic), and the rest
the per-token scaling around each call and the two running slower interleaved than apart;
``benchmarks/quantized_scoring.py`` measures this split in each run (``int8_floor``). Stacking the layers that
read the same input (q/k/v, gate/up: 120 calls instead of 210) saved only ~3% of a forward (measured), not
worth the bookkeeping it needs, so it is not done.

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
SMOOTHING_ALPHA = 0.5  # SmoothQuant's default split of the outliers between activations and weights
# Calibration for smoothing: plain sentences of the registers the scorer sees (neutral, opinion, insult),
# written for this module.
CALIBRATION_TEXTS = (
    "The weather was nice, so we walked to the park and talked about work.",
    "I am not sure what you mean, but I think everyone should be treated the same.",
    "Why do people keep saying that about immigrants and women on the internet?",
    "Thanks for sharing! This is one of the best things I have read all week.",
    "You are an idiot and nobody wants to hear your stupid opinion #done",
    "lol my cousin said the game was rigged again, 3 times in a row!!",
)


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


def replace_linear_layers(module: nn.Module, make) -> int:
    """Put ``make(layer)`` in the place of every linear layer (``nn.Linear``, GPT-2's ``Conv1D``) under
    ``module``; return how many were replaced."""
    linear = _linear_types()
    targets = [(name, child) for name, child in module.named_modules() if isinstance(child, linear)]
    for name, child in targets:
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, attr, make(child))
    return len(targets)


def quantize_int8(module: nn.Module, reduce_range: bool = True) -> int:
    """Replace every linear layer under ``module`` by :class:`RowScaledInt8Linear`; return how many."""
    return replace_linear_layers(module, lambda layer: RowScaledInt8Linear.from_module(layer, reduce_range))


def _prenorm_blocks(backbone: nn.Module) -> list[nn.Module]:
    """The backbone's Llama-style blocks (RMSNorm -> q/k/v, RMSNorm -> gate/up -> down), or none."""

    def fits(block) -> bool:
        attn, mlp = getattr(block, "self_attn", None), getattr(block, "mlp", None)
        linear = [getattr(attn, n, None) for n in ("q_proj", "k_proj", "v_proj")]
        linear += [getattr(mlp, n, None) for n in ("gate_proj", "up_proj", "down_proj")]
        norms = [getattr(block, n, None) for n in ("input_layernorm", "post_attention_layernorm")]
        return all(type(layer) is nn.Linear for layer in linear) and all(
            torch.is_tensor(getattr(norm, "weight", None)) and getattr(norm, "bias", None) is None
            for norm in norms
        )

    blocks = list(getattr(backbone, "layers", None) or [])
    return blocks if blocks and all(fits(block) for block in blocks) else []


def _smoothing_scales(peak: torch.Tensor, layers: list[nn.Linear], alpha: float) -> torch.Tensor:
    weight_peak = torch.stack([layer.weight.abs().amax(dim=0) for layer in layers]).amax(dim=0)
    return (peak.clamp_min(1e-5) ** alpha / weight_peak.clamp_min(1e-5) ** (1 - alpha)).clamp_min(1e-5)


def smooth_activations(backbone: nn.Module, tokenizer, alpha: float = SMOOTHING_ALPHA) -> int:
    """Move activation outliers into the weights (see the module docstring), in place, leaving the fp32
    function unchanged; return how many blocks were smoothed (0 for a backbone that is not pre-norm
    Llama-style). ``tokenizer`` encodes :data:`CALIBRATION_TEXTS`."""
    blocks = _prenorm_blocks(backbone)
    if not blocks:
        return 0
    peaks: dict[tuple[int, str], torch.Tensor] = {}

    def record(key):
        def hook(module, args):
            rows = args[0].detach().reshape(-1, args[0].shape[-1]).abs().amax(dim=0).float()
            peaks[key] = torch.maximum(peaks[key], rows) if key in peaks else rows

        return hook

    handles = []
    for i, block in enumerate(blocks):
        inputs = {"attn": block.self_attn.q_proj, "mlp": block.mlp.gate_proj, "down": block.mlp.down_proj}
        handles += [layer.register_forward_pre_hook(record((i, key))) for key, layer in inputs.items()]
    training = backbone.training
    try:
        backbone.eval()
        with torch.inference_mode():
            for text in CALIBRATION_TEXTS:
                backbone(**tokenizer(text, return_tensors="pt"))
    finally:
        backbone.train(training)
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        for i, block in enumerate(blocks):
            attn, mlp = block.self_attn, block.mlp
            for key, norm, layers in (
                ("attn", block.input_layernorm, [attn.q_proj, attn.k_proj, attn.v_proj]),
                ("mlp", block.post_attention_layernorm, [mlp.gate_proj, mlp.up_proj]),
            ):
                scales = _smoothing_scales(peaks[i, key], layers, alpha)
                norm.weight.div_(scales)
                for layer in layers:
                    layer.weight.mul_(scales)
            scales = _smoothing_scales(peaks[i, "down"], [mlp.down_proj], alpha)
            mlp.up_proj.weight.div_(scales[:, None])  # down_proj's input is act(gate) * up, linear in up
            if mlp.up_proj.bias is not None:
                mlp.up_proj.bias.div_(scales)
            mlp.down_proj.weight.mul_(scales)
    return len(blocks)


def quantize_model(model: nn.Module, mode: str, tokenizer=None) -> dict[str, float | int | str]:
    """Convert ``model`` (a PrefixClassifier; its ``backbone`` for int8) in place to ``mode`` ("int8" or
    "bf16") for CPU scoring and return what changed: ``mode``, ``layers`` (int8: linear layers converted),
    ``activation_bits`` (int8: 8 where :func:`full_range_is_exact`, else 7), ``smoothed_blocks`` (int8 with a
    ``tokenizer``: blocks :func:`smooth_activations` smoothed first), ``weights_mb`` before and after.
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
    torch.backends.quantized.engine = _int8_engine()
    target = getattr(model, "backbone", model)
    if not any(isinstance(m, _linear_types()) for m in target.modules()):
        raise QuantizationError(
            f"{type(target).__name__} has no nn.Linear or Conv1D layer to quantize: int8 scoring needs a "
            "transformer backbone"
        )
    full_range = full_range_is_exact()
    smoothed = smooth_activations(target, tokenizer) if tokenizer is not None else 0
    layers = quantize_int8(target, reduce_range=not full_range)
    return {
        "mode": mode,
        "layers": layers,
        "smoothed_blocks": smoothed,
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
