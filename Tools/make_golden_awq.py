#!/usr/bin/env python3
"""Golden AWQ tensors made by AutoAWQ's own code (0.2.9, the last release) on CPU in float32.

Writes Tests/Fixtures/golden/awq_reference.safetensors. It pins AutoAWQ's zero-point quantizer
(`AwqQuantizer.pseudo_quantize_tensor`), its GEMM packer (`WQLinear_GEMM.from_linear`) and reader
(`packing_utils.dequantize_gemm`), the clipping search (`_compute_best_clip`) and the duo-scaling α search
(`_search_best_scale` → `_compute_best_scale`). AutoAWQ is loaded from its sdist by Tools/awq_reference.py
(nothing is installed, nothing copied here). Only torch, transformers and safetensors are needed (system Python).

Run (CPU, ~10 s), from the repository root:
  mkdir -p /tmp/autoawq && (cd /tmp/autoawq && pip download autoawq==0.2.9 --no-deps -d . && tar xzf autoawq-0.2.9.tar.gz)
  python3 Tools/make_golden_awq.py [--autoawq /tmp/autoawq/autoawq-0.2.9] [--out FILE]
  python3 Tools/make_golden_awq.py --check-only [--out FILE]   # only the numpy check of an existing file
Deterministic: torch.Generator seed 20261215, one CPU thread (torch.set_num_threads(1)), metadata keys sorted, so
re-running gives identical bytes on the same torch build. The α-search losses and scales use torch's
vectorised `pow` (Sleef, ≤ a few ulp from correctly rounded) and float32 reductions, so on another CPU
(`torch.backends.cpu.get_cpu_capability()` is recorded in the metadata) those may differ in the last bits.

Tensors (all made on CPU in float32; activations stored as float16 because the file would otherwise be
~2.7 MB: AutoAWQ was given exactly these values upcast to float32):
  pack.<case>.weight      f32 [out, in]   the original weight, with awkward groups (see AWKWARD below)
  pack.<case>.fake        f32 [out, in]   AwqQuantizer.pseudo_quantize_tensor(weight)[0]   (w_bit 4, zero_point)
  pack.<case>.qweight     int32 [in, out/8]
  pack.<case>.qzeros      int32 [in/g, out/8]
  pack.<case>.scales      f16 [in/g, out]
                          as AutoAWQ's `_apply_quant` makes them, in f32 (it would first cast the Linear to fp16):
                          fake, s, z = pseudo_quantize_tensor(W); Linear.weight = fake;
                          WQLinear_GEMM.from_linear(linear, 4, g, False, s.t().contiguous(), z.t().contiguous())
  pack.<case>.dequantized f32 [out, in]   dequantize_gemm(qweight, qzeros, scales.float(), 4, g).T
      cases: g128 = weight [64, 256], group 128; g64 = weight [32, 128], group 64 (not [24, 128]: AutoAWQ's
      from_linear sizes qweight as out // 32 * 4 words, so it only packs out % 32 == 0; out 24 fails).
  clip.weight f32 [64, 256], clip.input f16 [1100, 256] (upcast to f32 for AutoAWQ),
  clip.max_val f32 [64, 2]  = AwqQuantizer._compute_best_clip(weight, input) (group 128, n_grid 20,
                              max_shrink 0.5, n_sample_token 512: step 1100 // 512 = 2, 550 tokens), squeezed
  scale.weight_a f32 [48, 256], scale.weight_b f32 [32, 256], scale.input f16 [600, 256],
  scale.best f32 [256]      = the scales `_search_best_scale(block, block.norm, [a, b], input, Pair(a, b))`
                              returns (Pair.forward(x) = cat([a(x), b(x)], -1); duo_scaling, group 128, w_bit 4)
  scale.x_mean, scale.w_mean f32 [256]   what `_search_best_scale` passed to `_compute_best_scale`
  scale1.weight f32 [64, 256], scale1.input f16 [600, 256], scale1.best / .x_mean / .w_mean f32 [256]
                              the same with one Linear (module2inspect = the Linear itself)
__metadata__ (strings): format, autoawq (version), reference (JSON: versions, cpu capability, seed), per case
group sizes (`pack.g128.group_size`, ...), `scale.best_ratio` / `scale1.best_ratio` (α = k/20 as Python writes it),
`scale.losses` / `scale1.losses` (JSON list of the 20 losses, Python floats, ratio k/20 at index k),
`pack.<case>.awkward` (JSON: which row/group holds which awkward pattern), `pack.<case>.apply_quant_fp16`
(JSON: how AutoAWQ's real `_apply_quant`, which casts the Linear to fp16 first, differs from the f32 path).

After writing, the file is re-read and checked with numpy alone (FORMATS.md §2.2): nibble i of qweight[r, c] is
the code of output column 8c + [0,2,4,6,1,3,5,7][i]; qzeros packs the zero points the same way, as-is;
(code - zero) * float(scale) == pack.dequantized bit for bit; pseudo_quantize_tensor re-done in numpy f32 (rint
is round-half-even like torch.round) == pack.fake bit for bit, and its codes / zeros == the unpacked ones.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "Tests" / "Fixtures" / "golden" / "awq_reference.safetensors"
SEED = 20261215
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # FORMATS.md §2.2 (used by the independent numpy check only)

sys.path.insert(0, str(HERE))
from safetensors_header import canonical_metadata_order  # noqa: E402


# --------------------------------------------------------------------------------------------------------------
# Inputs


def awkward_weight(out_f, in_f, g, gen):
    """Random N(0, 0.05²) weights with awkward groups; returns (weight, {"row,group": description})."""
    import torch

    w = torch.randn(out_f, in_f, generator=gen) * 0.05
    notes = {}

    def put(r, j, values, what):
        w[r, j * g:(j + 1) * g] = values
        notes[f"{r},{j}"] = what

    def unif(lo, hi):
        return lo + (hi - lo) * torch.rand(g, generator=gen)

    n_groups = in_f // g
    cells = [(r, j) for r in range(out_f) for j in range(n_groups)]
    it = iter(cells)
    s64 = 1.0 / 64  # a power of two, so min/scale and w/scale land exactly on the half steps below
    half_grid = torch.tensor([(k + 0.5) * s64 for k in range(-8, 7)])  # (k + 0.5)/64 in [-7.5/64, 6.5/64]
    sym_grid = torch.tensor([k / 64 for k in range(-15, 16)])  # k/64 = (k/2)/32: half and whole steps of 1/32

    def pick(grid, ends):
        v = grid[torch.randint(0, len(grid), (g,), generator=gen)]
        v[:len(ends)] = torch.tensor(ends)
        return v

    def with_values(v, where, values):
        v[torch.tensor(where)] = torch.tensor(values)
        return v

    patterns = [
        (lambda: torch.full((g,), 0.3), "constant 0.3 (range 0: scale = 1e-5/15, zero 0, every code 15)"),
        (lambda: torch.full((g,), -0.3), "constant -0.3 (zero clamps to 15, every code 0)"),
        (lambda: torch.zeros(g), "all zero"),
        (lambda: unif(0.02, 0.1), "all positive (zero clamps to 0; codes clamp at 15)"),
        (lambda: unif(-0.1, -0.02), "all negative (zero clamps to 15)"),
        (lambda: 0.5 + 1e-7 * torch.rand(g, generator=gen), "tiny range: 0.5 + U(0, 1e-7)"),
        (lambda: 1e-7 * (torch.rand(g, generator=gen) - 0.5), "tiny range around 0: U(-5e-8, 5e-8)"),
        (lambda: pick(half_grid, [-8 * s64, 7 * s64]),
         "exact half steps: min -8/64, max 7/64 (scale exactly 1/64, zero 8), other values (k+0.5)/64: "
         "w/scale on .5, round-half-even"),
        (lambda: pick(sym_grid, [-15 / 64, 15 / 64]),
         "min -7.5/32, max 7.5/32 (scale exactly 1/32; min/scale = -7.5 -> zero 8 by half-even; 7.5 + 8 "
         "clamps to 15), values k/64: half and whole steps"),
        (lambda: with_values(torch.randn(g, generator=gen) * 0.02, [5, 77 % g], [1.0, -0.6]),
         "outliers 1.0 and -0.6 among N(0, 0.02^2)"),
        (lambda: with_values(torch.randn(g, generator=gen) * 0.01, [g - 1], [3.0]),
         "single outlier 3.0 among N(0, 0.01^2)"),
        (lambda: with_values(unif(0.0, 0.08), [3], [0.0]), "min exactly 0 (zero 0)"),
        (lambda: with_values(unif(-0.08, 0.0), [4], [0.0]), "max exactly 0 (zero 15)"),
    ]
    for make, what in patterns:
        r, j = next(it)
        put(r, j, make(), what)
    return w, notes


def activations(n, c, gen, big, low=10.0, high=50.0):
    """|N(0,1)|-ish activations with `big` channels scaled by U(low, high); rounded to fp16 (stored so)."""
    import torch

    x = torch.randn(n, c, generator=gen)
    chans = torch.randperm(c, generator=gen)[:big]
    x[:, chans] *= low + (high - low) * torch.rand(big, generator=gen)
    return x.to(torch.float16), sorted(chans.tolist())


# --------------------------------------------------------------------------------------------------------------
# AutoAWQ runs


def pack_case(q, awq, weight, g):
    """AutoAWQ's _apply_quant steps in f32; returns the tensors and a note on the real (fp16) _apply_quant."""
    import torch

    q.group_size = g
    out_f, in_f = weight.shape
    linear = torch.nn.Linear(in_f, out_f, bias=False)
    linear.weight.data = weight.clone()
    fake, scales, zeros = q.pseudo_quantize_tensor(linear.weight.data)
    linear.weight.data = fake
    scales_t = scales.t().contiguous()
    zeros_t = zeros.t().contiguous()
    ql = awq.WQLinear_GEMM.from_linear(linear=linear, w_bit=q.w_bit, group_size=g, init_only=False,
                                       scales=scales_t, zeros=zeros_t)
    deq = awq.packing_utils.dequantize_gemm(ql.qweight, ql.qzeros, ql.scales.float(), q.w_bit, g).T.contiguous()
    res = {"weight": weight, "fake": fake.contiguous(), "qweight": ql.qweight.contiguous(),
           "qzeros": ql.qzeros.contiguous(), "scales": ql.scales.contiguous(), "dequantized": deq}
    # AutoAWQ's real `_apply_quant` (it casts the Linear to fp16 before pseudo_quantize_tensor), for the record.
    holder = torch.nn.Module()
    holder.lin = torch.nn.Linear(in_f, out_f, bias=False)
    holder.lin.weight.data = weight.clone()
    q._apply_quant(holder, {"lin": holder.lin})
    real = holder.lin
    note = {
        "qweight_words_differing": int((real.qweight != ql.qweight).sum()),
        "qzeros_words_differing": int((real.qzeros != ql.qzeros).sum()),
        "scales_differing": int((real.scales != ql.scales).sum()),
        "of_words": ql.qweight.numel(), "of_scales": ql.scales.numel(),
        "what": "AutoAWQ's own _apply_quant casts the Linear to fp16 first (pseudo_quantize_tensor in fp16); "
                "these are the differences from the f32 path stored here",
    }
    return res, note


def clip_case(q, weight, inp):
    q.group_size = 128
    best = q._compute_best_clip(weight, inp)  # [out, n_groups, 1]
    return best.reshape(weight.shape[0], -1).contiguous()


def scale_case(q, weights, inp, copy_state=True):
    """_search_best_scale on a block holding an RMSNorm (prev_op) and the Linears; returns best scales,
    ratio, losses, x_mean, w_mean.

    copy_state: AutoAWQ's `_compute_best_scale` is wrong on CPU (its saved state_dict aliases the parameters;
    see awq_reference.copy_state_on_cpu). With copy_state=True (the golden) the state is copied, which is what
    AutoAWQ computes on a GPU; copy_state=False runs AutoAWQ's CPU behaviour unchanged (for the record)."""
    import awq_reference as ref
    import torch
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    q.group_size = 128
    c = inp.shape[1]
    linears = []
    for w in weights:
        lin = torch.nn.Linear(c, w.shape[0], bias=False)
        lin.weight.data = w.clone()
        linears.append(lin)

    class PairModule(torch.nn.Module):
        def __init__(self, a, b):
            super().__init__()
            self.a, self.b = a, b

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x)], -1)

    block = torch.nn.Module()
    block.norm = LlamaRMSNorm(c)  # prev_op: only named (get_op_name) by _search_best_scale
    if len(linears) == 2:
        block.pair = PairModule(*linears)
        inspect = block.pair
    else:
        block.fc = linears[0]
        inspect = None  # _search_best_scale then inspects layers[0]

    losses, seen = [], {}
    cls = type(q)

    def recording_loss(fp16_output, int_w_output, device):
        loss = cls._compute_loss(q, fp16_output, int_w_output, device)
        losses.append(loss)
        return loss

    if copy_state:
        ref.copy_state_on_cpu(q)
    inner = q._compute_best_scale

    def recording_best_scale(x, w_mean, x_mean, *rest):
        seen["w_mean"], seen["x_mean"] = w_mean.clone(), x_mean.clone()
        return inner(x, w_mean, x_mean, *rest)

    q._compute_loss = recording_loss
    q._compute_best_scale = recording_best_scale
    try:
        prev_name, names, best = q._search_best_scale(block, block.norm, linears, inp, inspect)
    finally:
        del q._compute_loss, q._compute_best_scale
    restored = all(torch.equal(lin.weight.data, w) for lin, w in zip(linears, weights))
    if copy_state:
        assert restored, "the search did not restore the weights it scaled"
    assert len(losses) == 20, losses
    k = min(range(20), key=lambda i: (losses[i], i))  # the first minimum, as `loss < best_error` keeps it
    return {"best": best.float().contiguous(), "x_mean": seen["x_mean"].float().contiguous(),
            "w_mean": seen["w_mean"].float().contiguous()}, k / 20, losses, (prev_name, names, restored)


# --------------------------------------------------------------------------------------------------------------


def numpy_check(path) -> list[str]:
    """Independent check of the pack cases with numpy alone (no torch, no AutoAWQ). Returns problems."""
    import numpy as np
    from safetensors.numpy import load_file

    t = load_file(str(path))
    raw = pathlib.Path(path).read_bytes()
    meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
    problems = []
    for case in ("g128", "g64"):
        p = f"pack.{case}."
        g = int(meta[p + "group_size"])
        w, fake, qw, qz, sc, deq = (t[p + k] for k in ("weight", "fake", "qweight", "qzeros", "scales", "dequantized"))
        out_f, in_f = w.shape
        assert qw.dtype == np.int32 and qz.dtype == np.int32 and sc.dtype == np.float16
        if qw.shape != (in_f, out_f // 8) or qz.shape != (in_f // g, out_f // 8) or sc.shape != (in_f // g, out_f):
            problems.append(f"{case}: shapes {qw.shape} {qz.shape} {sc.shape}")
            continue

        def unpack(words):
            u = words.view(np.uint32)
            codes = np.zeros((u.shape[0], u.shape[1] * 8), dtype=np.int64)
            for i in range(8):
                codes[:, AWQ_ORDER[i]::8] = (u >> np.uint32(4 * i)) & np.uint32(15)
            return codes

        codes, zeros = unpack(qw), unpack(qz)  # [in, out], [in/g, out]
        # repack in the documented order: must give the same words back
        def repack(c):
            words = np.zeros((c.shape[0], c.shape[1] // 8), dtype=np.uint32)
            for i in range(8):
                words |= (c[:, AWQ_ORDER[i]::8].astype(np.uint32) << np.uint32(4 * i))
            return words.view(np.int32)

        if not (np.array_equal(repack(codes), qw) and np.array_equal(repack(zeros), qz)):
            problems.append(f"{case}: words are not 8 nibbles in order [0,2,4,6,1,3,5,7] (a code outside 0..15?)")
        mine = ((codes - np.repeat(zeros, g, axis=0)).astype(np.float32)
                * np.repeat(sc.astype(np.float32), g, axis=0)).T
        if not np.array_equal(mine, deq):
            problems.append(f"{case}: (code - zero) * scale != dequantized ({int((mine != deq).sum())} differ)")
        # pseudo_quantize_tensor in numpy f32
        wg = w.reshape(-1, g)
        mx, mn = wg.max(axis=1, keepdims=True), wg.min(axis=1, keepdims=True)
        s = np.maximum(mx - mn, np.float32(1e-5)) / np.float32(15)
        z = np.clip(-np.rint(mn / s), 0, 15)
        qn = np.clip(np.rint(wg / s) + z, 0, 15)
        fk = ((qn - z) * s).reshape(w.shape)
        if not np.array_equal(fk, fake):
            problems.append(f"{case}: numpy pseudo-quantize != fake ({int((fk != fake).sum())} differ)")
        z_of = z.reshape(out_f, in_f // g).T.astype(np.int64)  # [in/g, out]
        if not np.array_equal(z_of, zeros):
            problems.append(f"{case}: stored zeros != quantizer zeros (as-is, no offset)")
        q_of = qn.reshape(out_f, in_f).T.astype(np.int64)
        if not np.array_equal(q_of, codes):
            problems.append(f"{case}: packed codes != quantizer codes ({int((q_of != codes).sum())} differ)")
        if not np.array_equal(sc, s.reshape(out_f, in_f // g).T.astype(np.float16)):
            problems.append(f"{case}: scales != f32 scales rounded to f16")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--autoawq", default=None, help="directory holding AutoAWQ's awq/ (the unpacked sdist)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check-only", action="store_true", help="only the numpy check of an existing --out")
    args = ap.parse_args()
    if args.check_only:
        problems = numpy_check(args.out)
        print("\n".join(problems) if problems else f"{args.out}: numpy check passed")
        return 1 if problems else 0

    import awq_reference as ref
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    awq = ref.load_autoawq(args.autoawq, quantizer=True)
    q = ref.make_quantizer(w_bit=4, group_size=128, zero_point=True, duo_scaling=True, autoawq_dir=args.autoawq)
    gen = torch.Generator().manual_seed(SEED)
    tensors, meta = {}, {"format": "pt", "autoawq": awq.version}

    for case, (out_f, in_f, g) in {"g128": (64, 256, 128), "g64": (32, 128, 64)}.items():
        weight, notes = awkward_weight(out_f, in_f, g, gen)
        res, note = pack_case(q, awq, weight, g)
        for k, v in res.items():
            tensors[f"pack.{case}.{k}"] = v
        meta[f"pack.{case}.group_size"] = str(g)
        meta[f"pack.{case}.awkward"] = json.dumps(notes, sort_keys=True)
        meta[f"pack.{case}.apply_quant_fp16"] = json.dumps(note, sort_keys=True)

    w = torch.randn(64, 256, generator=gen) * 0.05
    idx = torch.randint(0, w.numel(), (12,), generator=gen)
    w.view(-1)[idx] = torch.randn(12, generator=gen).sign() * (0.3 + 0.5 * torch.rand(12, generator=gen))
    x16, big = activations(1100, 256, gen, big=6, low=5.0, high=20.0)
    tensors["clip.weight"], tensors["clip.input"] = w, x16
    tensors["clip.max_val"] = clip_case(q, w, x16.float())
    meta["clip.group_size"] = "128"
    meta["clip.params"] = json.dumps({"n_grid": 20, "max_shrink": 0.5, "n_sample_token": 512,
                                      "step": 1100 // 512, "tokens_used": len(range(0, 1100, 1100 // 512)),
                                      "large_input_channels": big})

    for case, shapes in (("scale", [(48, 256), (32, 256)]), ("scale1", [(64, 256)])):
        weights = [torch.randn(*s, generator=gen) * 0.05 for s in shapes]
        # some input channels with structurally small / large weights, as in trained models
        for wt in weights:
            wt[:, :16] *= 0.2
            wt[:, 200:208] *= 3.0
        x16, big = activations(600, 256, gen, big=10, low=10.0, high=50.0)
        res, ratio, losses, names = scale_case(q, weights, x16.float())
        _, cpu_ratio, cpu_losses, cpu_names = scale_case(q, weights, x16.float(), copy_state=False)
        meta[f"{case}.autoawq_cpu_unpatched"] = json.dumps({
            "best_ratio": cpu_ratio, "losses": cpu_losses, "weights_restored": cpu_names[2],
            "what": "AutoAWQ's _search_best_scale run on CPU without the state_dict copy (see scale_case): "
                    "org_sd aliases the parameters, so candidates 1..19 start from W * s_0"})
        if case == "scale":
            tensors["scale.weight_a"], tensors["scale.weight_b"] = weights
        else:
            tensors["scale1.weight"] = weights[0]
        tensors[f"{case}.input"] = x16
        for k, v in res.items():
            tensors[f"{case}.{k}"] = v
        meta[f"{case}.group_size"] = "128"
        meta[f"{case}.best_ratio"] = repr(ratio)
        meta[f"{case}.losses"] = json.dumps(losses)
        meta[f"{case}.params"] = json.dumps({"n_grid": 20, "duo_scaling": True, "w_bit": 4, "zero_point": True,
                                             "prev_op": names[0], "layers": list(names[1]),
                                             "large_input_channels": big,
                                             "state_dict_copied": True})
        print(f"{case}: best ratio {ratio}, losses {['%.4g' % v for v in losses]}")
        print(f"{case} (AutoAWQ on CPU unpatched): best ratio {cpu_ratio}, losses {['%.4g' % v for v in cpu_losses]}, "
              f"weights restored {cpu_names[2]}")

    versions = ref.reference_versions(args.autoawq)
    meta["reference"] = json.dumps({"autoawq": awq.version, "torch": versions["torch"],
                                    "transformers": versions["transformers"],
                                    "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                                    "threads": 1, "seed": SEED,
                                    "how": "python3 Tools/make_golden_awq.py (AutoAWQ sdist loaded by "
                                           "Tools/awq_reference.py, CPU, float32)"}, sort_keys=True)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in sorted(tensors.items())}, args.out, metadata=meta)
    canonical_metadata_order(args.out)
    size = pathlib.Path(args.out).stat().st_size
    print(f"wrote {args.out} ({size} bytes, {len(tensors)} tensors)")
    for k, v in sorted(tensors.items()):
        print(f"  {k}: {str(v.dtype).replace('torch.', '')} {list(v.shape)}")
    problems = numpy_check(args.out)
    print("\n".join(problems) if problems else "numpy check of the packing (FORMATS.md §2.2) passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
