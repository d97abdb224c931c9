#!/usr/bin/env python3
"""Golden vectors for QuantGate's numeric conversions (Sources/CKernels/qg_numerics.h), from
ml_dtypes and torch, the independent references.

Writes, under Tests/Fixtures/golden/:
  numerics_decode.bin   f32 bit patterns (u32 LE) decoded by ml_dtypes from every code:
                        65536 f16, then 65536 bf16, then 256 FP8 E4M3FN, then 256 FP8 E5M2.
                        torch's decoding is checked to agree (NaN payloads aside).
  numerics_encode.json  torch's encodings of 2^20 pseudo-random f32 inputs, as FNV-1a-64 hashes of
                        each 65536-input chunk (NaN outputs canonicalised first, since NaN payloads
                        differ between implementations), plus explicit edge cases with every output.
                        FP8 references are torch's cast after clamping to the format's max
                        (torch's own cast turns values above the max into NaN/Inf).

The random inputs come from SplitMix64 (seed in the JSON); Tests/TestSupport has the same
generator, so the Swift test regenerates the inputs rather than storing 4 MB of them.

Usage: pip install torch ml_dtypes numpy && python3 Tools/make_golden_numerics.py
"""
import json
import pathlib
import struct

import ml_dtypes
import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "golden"
SEED = 0x5EED_F8F8
COUNT = 1 << 20
CHUNK = 1 << 16
MASK64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def random_inputs():
    """f32 bit patterns, four kinds chosen by the low 2 bits of each draw:
    0 raw bits; 1 random mantissa with exponent in 2^-24..2^15; 2 short mantissas (top k bits of 0..11,
    the rest zero: exact values and exact ties for every target) with exponent in 2^-30..2^17;
    3 values within ±32768 ulps of 448, 464, 57344, 65504, and +Inf (NaNs beyond it)."""
    bases = [0x43E00000, 0x43E80000, 0x47600000, 0x477FE000, 0x7F800000]
    state = SEED
    out = np.empty(COUNT, dtype=np.uint32)
    for i in range(COUNT):
        state, r = splitmix64(state)
        kind = r & 3
        if kind == 0:
            bits = r >> 32
        elif kind == 1:
            sign = (r >> 2) & 1
            exponent = 127 + ((r >> 3) % 40) - 24
            bits = (sign << 31) | (exponent << 23) | ((r >> 16) & 0x7FFFFF)
        elif kind == 2:
            sign = (r >> 2) & 1
            exponent = 127 + ((r >> 3) % 48) - 30
            k = (r >> 10) % 12
            top = (r >> 16) & ((1 << k) - 1)
            bits = (sign << 31) | (exponent << 23) | (top << (23 - k))
        else:
            base = bases[(r >> 2) % 5]
            delta = ((r >> 8) & 0xFFFF) - 0x8000
            bits = ((base + delta) & 0x7FFFFFFF) | (((r >> 40) & 1) << 31)
        out[i] = bits
    return out


def edge_inputs():
    """Every FP8 value, the midpoints between neighbours (ties) and one f32 ulp either side, plus
    specials and the overflow thresholds of f16/bf16/E4M3/E5M2."""
    values = set()
    for dtype in (ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2):
        grid = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)
        finite = np.unique(grid[np.isfinite(grid)])
        mids = ((finite[:-1].astype(np.float64) + finite[1:].astype(np.float64)) / 2).astype(np.float32)
        for v in np.concatenate([finite, mids]):
            b = int(np.float32(v).view(np.uint32))
            values.update({b, (b + 1) & 0xFFFFFFFF, (b - 1) & 0xFFFFFFFF})
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 448, 464, 480, 57344, 61440, 65504, 65519.996, 65520,
                2.0 ** -24, 2.0 ** -25, 2.0 ** -26, 2.0 ** -149, 3.4028235e38, 1.0, -1.0, 2.0 ** -133, 2.0 ** -134]
    for v in specials:
        b = int(np.float32(v).view(np.uint32))
        values.update({b, b ^ 0x80000000})
    values.update({0x7F800001, 0xFF800001, 0x7FC00000, 0x7FFFFFFF, 0x00000001, 0x007FFFFF, 0x00800000,
                   0x3F808000, 0x3F818000, 0x3F7F8000})  # NaNs, f32 subnormals, bf16 ties
    return np.array(sorted(values), dtype=np.uint32)


def encode_all(bits):
    x = torch.from_numpy(bits.view(np.float32).copy())
    return {
        "f16": x.to(torch.float16).view(torch.int16).numpy().view(np.uint16),
        "bf16": x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16),
        "e4m3": x.clamp(-448, 448).to(torch.float8_e4m3fn).view(torch.uint8).numpy(),
        "e5m2": x.clamp(-57344, 57344).to(torch.float8_e5m2).view(torch.uint8).numpy(),
    }


def canonical_nan(kind, codes):
    """Replaces every NaN code by one value, so hashes do not depend on NaN sign or payload."""
    codes = codes.copy()
    if kind == "f16":
        codes[((codes & 0x7C00) == 0x7C00) & ((codes & 0x03FF) != 0)] = 0x7E00
    elif kind == "bf16":
        codes[((codes & 0x7F80) == 0x7F80) & ((codes & 0x007F) != 0)] = 0x7FC0
    elif kind == "e4m3":
        codes[(codes & 0x7F) == 0x7F] = 0x7F
    else:
        codes[(codes & 0x7F) > 0x7C] = 0x7E
    return codes


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def main():
    OUT.mkdir(parents=True, exist_ok=True)

    # Decode tables from ml_dtypes; torch must agree (NaN payloads aside).
    tables = []
    for dtype, torch_dtype, n in ((np.float16, torch.float16, 65536), (ml_dtypes.bfloat16, torch.bfloat16, 65536),
                                  (ml_dtypes.float8_e4m3fn, torch.float8_e4m3fn, 256),
                                  (ml_dtypes.float8_e5m2, torch.float8_e5m2, 256)):
        codes = np.arange(n, dtype=np.uint16 if n == 65536 else np.uint8)
        ours = codes.view(dtype).astype(np.float32)
        raw = torch.from_numpy(codes.view(np.int16) if n == 65536 else codes)
        theirs = raw.view(torch_dtype).to(torch.float32).numpy()
        both_nan = np.isnan(ours) & np.isnan(theirs)
        assert np.array_equal(ours.view(np.uint32)[~both_nan], theirs.view(np.uint32)[~both_nan]), dtype
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), dtype
        tables.append(ours.view(np.uint32).astype("<u4").tobytes())
    (OUT / "numerics_decode.bin").write_bytes(b"".join(tables))

    # Encodings: hashed random stream, explicit edge cases. ml_dtypes must agree with torch on the
    # FP8 casts of the clamped inputs (an independent second opinion).
    stream = random_inputs()
    encoded = encode_all(stream)
    clamped = np.clip(stream.view(np.float32), -448, 448)
    alt = clamped.astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
    assert np.array_equal(canonical_nan("e4m3", alt), canonical_nan("e4m3", encoded["e4m3"]))
    hashes = {}
    for kind, codes in encoded.items():
        canon = canonical_nan(kind, codes).astype("<u2" if codes.dtype == np.uint16 else "u1")
        hashes[kind] = [f"{fnv1a64(canon[i:i + CHUNK].tobytes()):016x}" for i in range(0, COUNT, CHUNK)]

    edges = edge_inputs()
    edge_codes = encode_all(edges)
    record = {
        "generator": "SplitMix64, see Tools/make_golden_numerics.py random_inputs()",
        "seed": SEED, "count": COUNT, "chunk": CHUNK,
        "reference": f"torch {torch.__version__}, ml_dtypes {ml_dtypes.__version__}, numpy {np.__version__}",
        "hashes": hashes,
        "edges": {
            "inputs": [f"{int(b):08x}" for b in edges],
            **{kind: [int(c) for c in canonical_nan(kind, codes)] for kind, codes in edge_codes.items()},
        },
    }
    (OUT / "numerics_encode.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {OUT}/numerics_decode.bin and numerics_encode.json ({len(edges)} edge inputs)")


if __name__ == "__main__":
    main()
