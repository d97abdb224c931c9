#!/usr/bin/env python3
"""Golden GPTQ tensors packed and dequantized by GPTQModel's own code (with llama.cpp's reader as a cross-check).

Writes Tests/Fixtures/golden/gptq_reference_pack.safetensors. It pins the GPTQ packing (qweight along the input
dim, qzeros along the output dim), the v1 ("gptq") zero-1 convention against v2 ("gptq_v2"), and g_idx handling.

Run (CPU, seconds; see Tools/gptq_reference.py for the venv):
  python3 -m venv --system-site-packages /tmp/gptqenv
  /tmp/gptqenv/bin/pip install --no-deps gptqmodel==7.7.0 pypcre logbar device-smi threadpoolctl accelerate \\
      tokenicer defuser pillow
  /tmp/gptqenv/bin/python Tools/make_golden_gptq.py [--llama-cpp /path/to/llama.cpp]
(--llama-cpp DIR or LLAMA_CPP_DIR: llama.cpp's sources, the vendor/llama.cpp of the llama-cpp-python 0.3.36
sdist, set up as in Tools/gptq_reference.py. Without them the llama.cpp cross-check is skipped and the file lacks
the X.dequantized_llamacpp tensors, so it is not byte-identical to the committed one. Re-running with them is.)

For each module X (cases a-e below) the file holds:
  X.qweight int32, X.qzeros int32, X.scales float16, X.g_idx int32 (X.bias float16 for case a)
      exactly as GPTQModel 7.7.0 leaves them in the TorchLinear module after
      `gptqmodel.utils.model.pack_module` (the quantize loop's packer; pack_impl "auto" resolves on CPU to
      `module.pack_block`, which falls back to `module.pack_original` when out_features % 32 != 0) and, for
      checkpoint_format "gptq", its own v2->v1 conversion `convert_gptq_v2_to_v1_format_module` (packed-word
      subtraction of 0x11111111 / 0x01010101 / 0x55555555). The float Linear given to the packer holds GPTQ's
      fake-quantized weight Q = s*(clamp(round(W/s)+z, 0, maxq) - z) (GPTQModel's `quantizer.quantize`), with
      s, z from GPTQModel's `Quantizer.find_params` per group and s rounded to fp16 first.
  X.dequantized f32 [out, in]   GPTQModel's torch kernel (TorchLinear forward on an identity, f32 scales):
                                Tools/gptq_reference.py --via gptqmodel. Equal to scales[g_idx]*(codes - zeros[g_idx]).
  X.codes int32 [out, in]       the unpacked q values (GPTQModel's `unpack_rows`, checked against the Quantizer's).
  X.zeros int32 [n_groups, out] the TRUE zero points (the Quantizer's), before any v1 offset.
  X.dequantized_per_field f32   only where they differ from X.dequantized: what GPTQModel's offline dequantizer
                                (`model_dequant.convert_gptq_file`, v1 undone per field as (z+1)&maxq) gives.
  X.dequantized_llamacpp f32    likewise, llama.cpp's `dequant_gptq` (v1 undone as z+1, no mask).
__metadata__: "format": "pt", "reference": versions, and per module X a JSON object with bits, group_size
(-1 kept), sym, desc_act, checkpoint_format, in/out features, packer, v1_zero_words, and the readers' verdicts.

Cases (torch.Generator seed 20261201):
  a_sym4_g32_descact      4-bit sym, g=32, desc_act (g_idx from a random column order), v1, bias, in 128, out 32
  b_asym4_perchannel      4-bit asym, g=-1, v1, in 64, out 32; rows 0, 3, 4, 7, 15, 16, 31 have true zero 0 and
                          rows 9, 10, 17 zero 15 (all-negative rows)
  c_asym8_g16             8-bit asym, g=16, v1, in 64, out 24 (pack_original path); some groups with zero 0
  d_sym4_g32_v2           4-bit sym, g=32, gptq_v2, in 64, out 32
  e_asym2_g32             2-bit asym, g=32, v1, in 64, out 32; some groups with zero 0 / 3
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "Tests" / "Fixtures" / "golden" / "gptq_reference_pack.safetensors"
SEED = 20261201

sys.path.insert(0, str(HERE))
import gptq_reference as ref  # noqa: E402
from safetensors_header import canonical_metadata_order  # noqa: E402

ref._quiet_env(compile=False)

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from gptqmodel.nn_modules.qlinear.torch import TorchLinear  # noqa: E402
from gptqmodel.quantization.config import FORMAT, QuantizeConfig  # noqa: E402
from gptqmodel.quantization.quantizer import Quantizer, quantize  # noqa: E402
from gptqmodel.utils.model import pack_module  # noqa: E402
from gptqmodel.utils.model_dequant import unpack_cols, unpack_rows  # noqa: E402

CASES = [
    dict(name="a_sym4_g32_descact", bits=4, group_size=32, sym=True, desc_act=True, fmt="gptq",
         in_f=128, out_f=32, bias=True),
    dict(name="b_asym4_perchannel", bits=4, group_size=-1, sym=False, desc_act=False, fmt="gptq",
         in_f=64, out_f=32, zero_rows=[0, 3, 4, 7, 15, 16, 31], max_rows=[9, 10, 17]),
    dict(name="c_asym8_g16", bits=8, group_size=16, sym=False, desc_act=False, fmt="gptq",
         in_f=64, out_f=24, zero_cells=[(0, 0), (3, 1), (4, 1), (11, 2), (23, 3)], max_cells=[(5, 0)]),
    dict(name="d_sym4_g32_v2", bits=4, group_size=32, sym=True, desc_act=False, fmt="gptq_v2",
         in_f=64, out_f=32),
    dict(name="e_asym2_g32", bits=2, group_size=32, sym=False, desc_act=False, fmt="gptq",
         in_f=64, out_f=32, zero_cells=[(0, 0), (6, 1), (15, 0), (16, 1)], max_cells=[(2, 0), (31, 1)]),
]


def make_case(c, gen):
    in_f, out_f, bits = c["in_f"], c["out_f"], c["bits"]
    g = in_f if c["group_size"] == -1 else c["group_size"]
    n_groups = in_f // g
    # g_idx: plain i // g, or desc_act style: column order[k] is the k-th processed column, in group k // g.
    if c["desc_act"]:
        order = torch.randperm(in_f, generator=gen)
        g_idx = torch.empty(in_f, dtype=torch.int32)
        g_idx[order] = (torch.arange(in_f) // g).to(torch.int32)
    else:
        g_idx = (torch.arange(in_f) // g).to(torch.int32)
    assert c["desc_act"] == bool((g_idx[1:] < g_idx[:-1]).any()), "desc_act g_idx must be non-monotonic"

    W = torch.randn(out_f, in_f, generator=gen) * 0.05
    # Steer some (row, group) ranges to true zero 0 (all >= 0) or maxq (all <= 0) for the asym cases.
    for r in c.get("zero_rows", []):
        W[r] = W[r].abs()
    for r in c.get("max_rows", []):
        W[r] = -W[r].abs()
    for r, grp in c.get("zero_cells", []):
        cols = (g_idx == grp).nonzero().flatten()
        W[r, cols] = W[r, cols].abs()
    for r, grp in c.get("max_cells", []):
        cols = (g_idx == grp).nonzero().flatten()
        W[r, cols] = -W[r, cols].abs()

    qfmt = FORMAT.GPTQ if c["fmt"] == "gptq" else FORMAT.GPTQ_V2
    qcfg = QuantizeConfig(bits=bits, group_size=c["group_size"], sym=c["sym"], desc_act=c["desc_act"],
                          format=qfmt, offload_to_disk=False)
    maxq = 2 ** bits - 1

    scales = torch.empty(out_f, n_groups)
    zeros = torch.empty(out_f, n_groups)
    Q = torch.empty_like(W)
    codes_expected = torch.empty(out_f, in_f, dtype=torch.int32)
    for grp in range(n_groups):
        cols = (g_idx == grp).nonzero().flatten()
        qz = Quantizer(qcfg)
        qz.configure(perchannel=True)
        qz.find_params(W[:, cols], weight=True)
        s = qz.scale.flatten().half().float()  # the checkpoint stores fp16 scales: quantize with them
        z = qz.zero.flatten()
        scales[:, grp], zeros[:, grp] = s, z
        Q[:, cols] = quantize(W[:, cols], s[:, None], z[:, None], maxq, False)
        codes_expected[:, cols] = torch.clamp(torch.round(W[:, cols] / s[:, None]) + z[:, None], 0, maxq).to(torch.int32)

    lin = torch.nn.Linear(in_f, out_f, bias=c.get("bias", False))
    lin.weight.data = Q
    if c.get("bias"):
        lin.bias.data = torch.randn(out_f, generator=gen) * 0.1
    mod = TorchLinear(bits=bits, group_size=c["group_size"], sym=c["sym"], desc_act=c["desc_act"],
                      in_features=in_f, out_features=out_f, bias=c.get("bias", False), pack_dtype=torch.int32)
    label = pack_module(c["name"], {c["name"]: mod}, scales, zeros, g_idx.clone(), {c["name"]: lin},
                        TorchLinear, None, quantize_config=qcfg)
    if label == "module.pack_block" and (out_f % 32 or in_f % 32):
        label = "module.pack_block -> ValueError -> module.pack_original"

    tensors = {f"{c['name']}.{k}": v.detach().clone().contiguous() for k, v in mod.state_dict().items()}
    assert set(tensors) == {f"{c['name']}.{s}" for s in ("qweight", "qzeros", "scales", "g_idx")
                            + (("bias",) if c.get("bias") else ())}, sorted(tensors)
    codes = unpack_rows(tensors[f"{c['name']}.qweight"], bits)[:in_f].T.contiguous()
    assert torch.equal(codes, codes_expected), f"{c['name']}: packed codes differ from the quantizer's"
    assert torch.equal(tensors[f"{c['name']}.scales"].float(), scales.T), "scales not stored as given"
    assert torch.equal(tensors[f"{c['name']}.g_idx"], g_idx)
    true_zeros = zeros.T.contiguous().to(torch.int32)  # [n_groups, out]
    qcfg_dict = json.loads(json.dumps(qcfg.to_dict(), default=str))
    return tensors, codes, true_zeros, qcfg_dict, label


def word_hex(t):
    return [f"0x{v & 0xFFFFFFFF:08x}" for v in t.flatten().tolist()]


def main():
    ap = argparse.ArgumentParser(description="golden GPTQ fixture")
    ap.add_argument("--llama-cpp", default=None)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--checkpoints", default=None,
                    help="also write each case as a checkpoint directory DIR/<case>/ (config.json + model.safetensors)")
    args = ap.parse_args()

    gen = torch.Generator().manual_seed(SEED)
    try:
        ref.find_llama_cpp(args.llama_cpp)
        have_llama = True
    except FileNotFoundError:
        have_llama = False
        print("llama.cpp sources not found: skipping the llama.cpp cross-check", file=sys.stderr)
    versions = ref.reference_versions(args.llama_cpp)
    versions.pop("llama.cpp_dir", None)

    out, meta = {}, {"format": "pt"}
    summary = []
    for c in CASES:
        n, bits = c["name"], c["bits"]
        tensors, codes, true_zeros, qcfg_dict, label = make_case(c, gen)
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "config.json").write_text(json.dumps({"quantization_config": qcfg_dict}))
            save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
            if args.checkpoints:
                keep = pathlib.Path(args.checkpoints) / n
                keep.mkdir(parents=True, exist_ok=True)
                for f in ("config.json", "model.safetensors"):
                    (keep / f).write_bytes((pathlib.Path(d) / f).read_bytes())
            deq = ref.reference_dequantize(d, "gptqmodel")[n]
            deq16 = ref.reference_dequantize(d, "gptqmodel", dtype=torch.float16)[n]
            per_field = ref.reference_dequantize(d, "gptqmodel-file")[n]
            llama = ref.reference_dequantize(d, "llamacpp", llama_cpp_dir=args.llama_cpp)[n] if have_llama else None

        scales = tensors[f"{n}.scales"].float()
        g_idx = tensors[f"{n}.g_idx"].long()
        exact = scales[g_idx].T * (codes - true_zeros[g_idx].T).float()
        assert torch.equal(deq, exact), f"{n}: GPTQModel's kernel does not give scale*(q - true zero)"
        assert torch.equal(deq16, deq.half().float()), f"{n}: fp16 kernel != f32 result rounded to fp16"

        qz = tensors[f"{n}.qzeros"]
        zero_words = word_hex(qz)
        if c["sym"]:
            want = {4: ("0x77777777", "0x88888888"), 8: ("0x7f7f7f7f", "0x80808080")}[bits]
            assert set(zero_words) == {want[0] if c["fmt"] == "gptq" else want[1]}, zero_words

        # Per-field decoding of the stored words: what a reader that unpacks then adds 1 sees.
        fields = unpack_cols(qz, bits)[:, : c["out_f"]]
        if c["fmt"] == "gptq":
            per_field_zero = (fields + 1) & (2 ** bits - 1)
        else:
            per_field_zero = fields
        bad = (per_field_zero != true_zeros).nonzero().tolist()  # [group, out] pairs

        entry = {k: c[k] for k in ("bits", "group_size", "sym", "desc_act")}
        entry.update(checkpoint_format=c["fmt"], in_features=c["in_f"], out_features=c["out_f"],
                     bias=bool(c.get("bias")), packer=f"gptqmodel.utils.model.pack_module ({label})"
                     + (" + convert_gptq_v2_to_v1_format_module" if c["fmt"] == "gptq" else ""),
                     qzeros_words=zero_words if qz.numel() <= 8 else None,
                     dequantized_by="gptqmodel TorchLinear (v1->v2 word add), f32 scales",
                     per_field_v1_zero_mismatches=[[int(a), int(b)] for a, b in bad])
        entry = {k: v for k, v in entry.items() if v is not None}

        verdicts = {}
        alts = {"per_field": ("gptqmodel.utils.model_dequant.convert_gptq_file", per_field)}
        if llama is not None:
            alts["llamacpp"] = ("llama.cpp dequant_gptq", llama)
        for key, (who, w) in alts.items():
            if torch.equal(w, deq):
                verdicts[who] = "identical"
            else:
                diff_rows = sorted({int(r) for r in (w != deq).nonzero()[:, 0].tolist()})
                verdicts[who] = f"differs in output rows {diff_rows}; stored as {n}.dequantized_{key}"
                tensors[f"{n}.dequantized_{key}"] = w.contiguous()
        entry["readers"] = verdicts

        tensors[f"{n}.dequantized"] = deq.contiguous()
        tensors[f"{n}.codes"] = codes.contiguous()
        tensors[f"{n}.zeros"] = true_zeros.contiguous()
        out.update(tensors)
        meta[n] = json.dumps(entry, sort_keys=True)
        summary.append((n, label, zero_words[:4], bad[:6], verdicts))

    meta["reference"] = json.dumps({k: v for k, v in versions.items() if v is not None}, sort_keys=True)
    meta["seed"] = str(SEED)
    save_file(out, args.out, metadata=meta)
    canonical_metadata_order(args.out)
    size = os.path.getsize(args.out)
    print(f"wrote {args.out} ({size} bytes, {len(out)} tensors)")
    for n, label, zw, bad, verdicts in summary:
        print(f"  {n}: {label}; qzeros {zw}...; per-field v1 zero mismatches (group, out) {bad}")
        for who, v in verdicts.items():
            print(f"      {who}: {v}")


if __name__ == "__main__":
    main()
