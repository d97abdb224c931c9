#!/usr/bin/env python3
"""Independent reference for QuantGate's calibration statistics: transformers' model (f32, CPU)
with forward pre-hooks on every nn.Linear of the decoder blocks and forward hooks on the blocks.
Each hook accumulates, in float64 over every token of every window, per input channel mean |x|,
max |x|, mean x², and X^T X / tokens; and per block the same first three of its output hidden state.

Two modes:
  --golden MODEL OUT.h5   take --windows N × --seq-len L tokens from the built-in prose set
                          (Calibration/prose/, files in sorted order, each tokenized with special
                          tokens by the `tokenizers` library, concatenated, first N·L tokens cut into
                          windows) and write the windows and the reference statistics with h5py in
                          QuantGate's statistics layout (Calibration/README.md; no checksum or key
                          attributes; the symmetric Hessian stored as `hessian_upper`, its upper
                          triangle row by row, to halve the fixture). Tests/QuantGateCalibrationTests
                          compare against these files.
  --check MODEL STATS.h5  read a statistics file written by `quantgate calibrate` with h5py (its
                          attributes, windows and every group, following the hard links), run the
                          reference on its windows, and print the largest relative difference of each
                          statistic; exits 1 when any exceeds --tolerance (default 1e-4).

Relative difference: |a − b| / |b| per element for the per-channel vectors, and
|a − b| / sqrt(H_ii · H_jj) for Hessian entries (the Cauchy–Schwarz bound of |H_ij|, so that entries
near zero by cancellation are judged on the matrix's own scale).

Usage:
  python3 Tools/calibration_reference.py --golden Tests/Fixtures/bard-5m Tests/Fixtures/golden/calibration_bard-5m.h5
  quantgate calibrate Tests/Fixtures/bard-5m --data prose --out /tmp/stats.h5
  python3 Tools/calibration_reference.py --check Tests/Fixtures/bard-5m /tmp/stats.h5
"""
import argparse
import pathlib
import sys

import h5py
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent
INPUTS = {  # Linear input point → the Linears reading it (the first names the group)
    "attention": ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
    "attention_output": ["self_attn.o_proj"],
    "mlp": ["mlp.gate_proj", "mlp.up_proj"],
    "mlp_hidden": ["mlp.down_proj"],
}


class Accumulator:
    def __init__(self, hessian):
        self.tokens = 0
        self.abs_sum = self.sq_sum = self.max_abs = self.xtx = None
        self.hessian = hessian

    def add(self, x):
        x = x.detach().reshape(-1, x.shape[-1]).to(torch.float64)
        if self.abs_sum is None:
            n = x.shape[1]
            self.abs_sum = torch.zeros(n, dtype=torch.float64)
            self.sq_sum = torch.zeros(n, dtype=torch.float64)
            self.max_abs = torch.zeros(n, dtype=torch.float64)
            self.xtx = torch.zeros(n, n, dtype=torch.float64) if self.hessian else None
        self.tokens += x.shape[0]
        self.abs_sum += x.abs().sum(0)
        self.sq_sum += (x * x).sum(0)
        self.max_abs = torch.maximum(self.max_abs, x.abs().max(0).values)
        if self.hessian:
            self.xtx += x.T @ x

    def result(self):
        out = {
            "mean_abs": (self.abs_sum / self.tokens).numpy(),
            "max_abs": self.max_abs.numpy(),
            "mean_sq": (self.sq_sum / self.tokens).numpy(),
        }
        if self.hessian:
            out["hessian"] = (self.xtx / self.tokens).numpy()
        return out


def reference(model_dir, windows):
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    layers = model.model.layers
    accumulators, handles = {}, []
    for i, layer in enumerate(layers):
        for point, linears in INPUTS.items():
            acc = accumulators[(i, point)] = Accumulator(hessian=True)
            module = layer.get_submodule(linears[0])
            handles.append(module.register_forward_pre_hook(lambda m, args, acc=acc: acc.add(args[0])))
        out = accumulators[(i, "output")] = Accumulator(hessian=False)
        handles.append(layer.register_forward_hook(
            lambda m, args, output, acc=out: acc.add(output[0] if isinstance(output, tuple) else output)))
    with torch.no_grad():
        for window in windows:
            model(torch.tensor([window]), use_cache=False)
    for h in handles:
        h.remove()
    return len(layers), {key: acc.result() for key, acc in accumulators.items()}


def group_name(layer, point):
    return f"model.layers.{layer}." + (INPUTS[point][0] if point != "output" else "output")


def golden(model_dir, out, count, length):
    tokenizer = Tokenizer.from_file(str(pathlib.Path(model_dir) / "tokenizer.json"))
    stream = []
    for path in sorted((ROOT / "Calibration" / "prose").glob("*.txt")):
        stream += tokenizer.encode(path.read_text(encoding="utf-8"), add_special_tokens=True).ids
        if len(stream) >= count * length:
            break
    windows = [stream[i * length:(i + 1) * length] for i in range(count)]
    layers, stats = reference(model_dir, windows)
    with h5py.File(out, "w", track_order=False) as f:
        f.create_dataset("tokens", data=np.array(windows, dtype=np.int32))
        for (layer, point), values in stats.items():
            g = f.create_group(group_name(layer, point))
            g.attrs["tokens"] = count * length
            for name, array in values.items():
                if name == "hessian":  # symmetric: the upper triangle, row by row, halves the fixture
                    name, array = "hessian_upper", array[np.triu_indices(array.shape[0])]
                g.create_dataset(name, data=array.astype(np.float32), compression="gzip", shuffle=True)
    print(f"wrote {out}: {layers} blocks, {count} windows × {length} tokens")


def check(model_dir, stats_path, tolerance):
    f = h5py.File(stats_path, "r")
    attrs = dict(f.attrs)
    print("attributes:", {k: (v if not isinstance(v, str) or len(v) < 20 else v[:12] + "…") for k, v in attrs.items()})
    windows = f["tokens"][()].tolist()
    layers, stats = reference(model_dir, windows)
    worst = {}
    for (layer, point), values in stats.items():
        names = [group_name(layer, point)]
        if point in INPUTS:  # every Linear reading this input, through the hard links
            names = [f"model.layers.{layer}.{stem}" for stem in INPUTS[point]]
        for name in names:
            g = f[name]
            assert g.attrs["tokens"] == sum(len(w) for w in windows), name
            for stat, expected in values.items():
                if stat == "hessian" and stat not in g:
                    continue
                actual = g[stat][()].astype(np.float64)
                if stat == "hessian":
                    d = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
                    error = np.max(np.abs(actual - expected) / np.maximum(d, 1e-30))
                else:
                    error = np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-30))
                worst[stat] = max(worst.get(stat, 0.0), float(error))
    for stat, error in sorted(worst.items()):
        print(f"{stat:9s} max relative difference {error:.2e}")
    failed = [s for s, e in worst.items() if e > tolerance]
    print("FAIL" if failed else "PASS", f"(tolerance {tolerance:g}, {layers} blocks, {len(windows)} windows)")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--golden", nargs=2, metavar=("MODEL", "OUT"))
    mode.add_argument("--check", nargs=2, metavar=("MODEL", "STATS"))
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.golden:
        golden(*args.golden, args.windows, args.seq_len)
        return 0
    return check(*args.check, args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
