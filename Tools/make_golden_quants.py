#!/usr/bin/env python3
"""Golden ggml block quantizations, made by llama.cpp's own ggml library (the libggml-base shipped in
the PyPI `llama-cpp-python` 0.3.36 wheel), called through ctypes: `ggml_quantize_chunk` (which uses
each type's reference quantizer without an importance matrix and its weighted search with one) and
the type traits' `to_float` for dequantization.

Writes Tests/Fixtures/golden/quants.safetensors with, for each type T in Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K
Q3_K Q4_K Q5_K Q6_K:
  input                  F32 [ROWS, 512]: rows of different character (see make_input)
  imatrix                F32 [512]: positive per-column importance
  T.plain                U8  [ROWS, bytes per row]: ggml_quantize_chunk(T, input, imatrix=NULL)
  T.imatrix              U8  [ROWS, bytes per row]: ggml_quantize_chunk(T, input, imatrix)   (not Q8_0)
  T.plain.dequantized    F32 [ROWS, 512]: to_float(T.plain)
  T.requantized          U8  [ROWS, bytes per row]: ggml_quantize_chunk(T, to_float(T.plain), imatrix=NULL) —
                         what ggml gives when its own output is dequantized and quantized again (for the
                         k-quants not always T.plain: ggml's searches are not idempotent on every row)

Usage: pip install llama-cpp-python==0.3.36 safetensors numpy && python3 Tools/make_golden_quants.py
"""
import ctypes
import os
import pathlib

import llama_cpp
import numpy as np
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "golden" / "quants.safetensors"
TYPES = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10, "Q3_K": 11, "Q4_K": 12, "Q5_K": 13, "Q6_K": 14}
COLUMNS = 512


class TypeTraits(ctypes.Structure):
    _fields_ = [("type_name", ctypes.c_char_p), ("blck_size", ctypes.c_int64), ("blck_size_interleave", ctypes.c_int64),
                ("type_size", ctypes.c_size_t), ("is_quantized", ctypes.c_bool),
                ("to_float", ctypes.c_void_p), ("from_float_ref", ctypes.c_void_p)]


def load_ggml():
    lib = ctypes.CDLL(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_void_p]
    lib.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
    lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    lib.ggml_quantize_init.argtypes = [ctypes.c_int]
    return lib


def make_input():
    """Rows that exercise the searches: gaussian, heavy outliers, all positive, all negative, tiny
    magnitudes, a zero row, a constant row, sparse, uniform, and gaussian rows of various scales."""
    rng = np.random.default_rng(20261129)
    rows = [
        rng.standard_normal(COLUMNS),
        rng.standard_normal(COLUMNS) * np.where(rng.random(COLUMNS) < 0.02, 40.0, 1.0),
        np.abs(rng.standard_normal(COLUMNS)) + 0.1,
        -np.abs(rng.standard_normal(COLUMNS)) * 3,
        rng.standard_normal(COLUMNS) * 1e-6,
        np.zeros(COLUMNS),
        np.full(COLUMNS, 0.75),
        rng.standard_normal(COLUMNS) * (rng.random(COLUMNS) < 0.1),
        rng.uniform(-1, 1, COLUMNS),
        rng.standard_t(3, COLUMNS) * 0.02,
    ]
    rows += [rng.standard_normal(COLUMNS) * s for s in (0.01, 0.1, 2.0, 50.0, 1000.0, 0.3)]
    return np.ascontiguousarray(np.array(rows, dtype=np.float32))


def main():
    lib = load_ggml()
    x = make_input()
    rng = np.random.default_rng(7)
    imatrix = np.ascontiguousarray((rng.random(COLUMNS) ** 2 * 10 + 0.01).astype(np.float32))
    rows = x.shape[0]
    tensors = {"input": x, "imatrix": imatrix}
    for name, t in TYPES.items():
        lib.ggml_quantize_init(t)
        row_bytes = lib.ggml_row_size(t, COLUMNS)
        for variant, weights in (("plain", None), ("imatrix", imatrix)):
            if name == "Q8_0" and weights is not None:
                continue
            out = np.zeros((rows, row_bytes), dtype=np.uint8)
            written = lib.ggml_quantize_chunk(t, x.ctypes.data, out.ctypes.data, 0, rows, COLUMNS,
                                              None if weights is None else weights.ctypes.data)
            assert written == rows * row_bytes, (name, written)
            tensors[f"{name}.{variant}"] = out
        to_float = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(lib.ggml_get_type_traits(t).contents.to_float)
        plain = tensors[f"{name}.plain"]
        deq = np.zeros((rows, COLUMNS), dtype=np.float32)
        to_float(plain.ctypes.data, deq.ctypes.data, rows * COLUMNS)
        tensors[f"{name}.plain.dequantized"] = deq
        again = np.zeros_like(plain)
        lib.ggml_quantize_chunk(t, deq.ctypes.data, again.ctypes.data, 0, rows, COLUMNS, None)
        tensors[f"{name}.requantized"] = again
    save_file(tensors, str(OUT))
    print(f"wrote {OUT}: {len(tensors)} tensors, {rows} rows × {COLUMNS}")


if __name__ == "__main__":
    main()
