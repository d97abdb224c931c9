#!/usr/bin/env python3
"""Golden safetensors files written by the reference `safetensors` package (torch bindings).

Writes, under Tests/Fixtures/golden/:
  safetensors_all_dtypes.safetensors  one tensor of every dtype QuantGate reads, plus a scalar, an
                                      empty tensor, a 3-D tensor and names that need JSON escaping,
                                      with __metadata__ {"format": "pt"}.
  safetensors_all_dtypes.json         each tensor's dtype, shape and values (as f64; non-finite values as
                                      the strings "nan", "inf", "-inf"),
                                      decoded by torch, for the reader's value checks.
  safetensors_no_metadata.safetensors the same kind of file without __metadata__.

The Swift tests re-write these tensors with SafetensorsWriter and require identical bytes.
Usage: pip install torch safetensors && python3 Tools/make_golden_safetensors.py
"""
import json
import math
import pathlib

import safetensors
import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "golden"


def tensors():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(24, generator=g, dtype=torch.float64) * 100
    special = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-6, 65504.0, 448.0],
                           dtype=torch.float64)
    out = {
        "f64": base.reshape(4, 6),
        "f32": base.to(torch.float32).reshape(2, 3, 4),
        "f16": torch.cat([base[:16], special]).to(torch.float16).reshape(4, 6),
        "bf16": torch.cat([base[:16], special]).to(torch.bfloat16),
        "f8_e4m3": (base / 4).clamp(-448, 448).to(torch.float8_e4m3fn).reshape(6, 4),
        "f8_e5m2": base.clamp(-57344, 57344).to(torch.float8_e5m2),
        "i64": torch.arange(-6, 6, dtype=torch.int64) * 1_000_000_007,
        "i32": torch.arange(-12, 12, dtype=torch.int32) * 65_537,
        "i16": torch.arange(-12, 12, dtype=torch.int16) * 1_000,
        "i8": torch.arange(-12, 12, dtype=torch.int8) * 10,
        "u8": torch.arange(0, 240, 10, dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True, False]),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float16),
        "model.layers.10.mlp.down_proj.weight": base[:8].to(torch.bfloat16).reshape(2, 4),
        "quote\"back\\slash\ttab/ü€": torch.ones(2, dtype=torch.float32),
    }
    return out


def as_json(t):
    values = t.to(torch.float64).flatten().tolist() if t.dtype != torch.bool else [float(v) for v in t.flatten().tolist()]
    return [v if math.isfinite(v) else str(v) for v in values]  # "nan", "inf", "-inf" as strings


DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2", torch.int64: "I64",
               torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    data = tensors()
    save_file(data, str(OUT / "safetensors_all_dtypes.safetensors"), metadata={"format": "pt"})
    save_file({k: data[k] for k in ("f32", "bf16", "u8")}, str(OUT / "safetensors_no_metadata.safetensors"))
    record = {
        "reference": f"safetensors {safetensors.__version__}, torch {torch.__version__}",
        "metadata": {"format": "pt"},
        "tensors": {name: {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": as_json(t)}
                    for name, t in data.items()},
    }
    (OUT / "safetensors_all_dtypes.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote golden safetensors files to {OUT}")


if __name__ == "__main__":
    main()
