#!/usr/bin/env python3
"""QuantGate's GGUF files against the reference software.

1. `quantgate quantize` writes the example model as F16, Q8_0 and Q4_0 (no importance matrix) and as
   Q4_K_M with an importance matrix calibrated on the model's training text.
2. The `gguf` Python package (gguf-py, llama.cpp's own) reads every file; for every tensor
   `gguf.quants.dequantize` must equal QuantGate's reader (`quantgate inspect --dump-dequantized`) bit for bit.
3. Q8_0 and Q4_0 blocks must equal `gguf.quants.quantize` of the source weights (q/k rows permuted as
   llama.cpp's converter permutes them) byte for byte.
4. llama.cpp (through llama-cpp-python) loads the F16 and Q4_K_M files, tokenises the held-out text to the
   same ids as the source tokenizer (the `tokenizers` library, which QuantGate's tokenizer equals), and its
   llama-perplexity number on our files must be within 0.5 % of `quantgate eval FILE.gguf --protocol llama.cpp`.
5. With --llama-bin DIR (llama.cpp's built tools: llama-imatrix, llama-quantize) and --llama-cpp SRC (its
   source tree, for the converter), llama.cpp's own Q4_K_M with an imatrix from the same text is made and
   scored the same way, for the quality comparison.

Usage:
  swift build -c release
  pip install gguf llama-cpp-python tokenizers safetensors numpy
  python3 Tools/interop_gguf.py [--quantgate .build/release/quantgate] [--llama-bin DIR --llama-cpp SRC]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tools"))
from interop_llamacpp_perplexity import convert, llama_perplexity  # noqa: E402

MODEL = ROOT / "Tests" / "Fixtures" / "bard-5m"
TEXT = ROOT / "Calibration" / "eval" / "hamlet.txt"
CALIBRATION = ROOT / "Calibration" / "train" / "shakespeare"


def run(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def permute(w, n_head):
    """llama.cpp's converter: rows of each head reordered so that RoPE pairs are adjacent."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def source_weights():
    from safetensors.numpy import load_file
    import ml_dtypes  # noqa: F401  (bf16 support in numpy)
    config = json.loads((MODEL / "config.json").read_text())
    tensors = {k: v.astype(np.float32) for k, v in load_file(str(MODEL / "model.safetensors")).items()}
    for name in list(tensors):
        if name.endswith("q_proj.weight"):
            tensors[name] = permute(tensors[name], config["num_attention_heads"])
        elif name.endswith("k_proj.weight"):
            tensors[name] = permute(tensors[name], config["num_key_value_heads"])
    return tensors


def gguf_name(hf):
    import gguf
    mapping = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 64)
    base, suffix = hf.rsplit(".", 1)
    return f"{mapping.get_name(base)}.{suffix}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quantgate", default=str(ROOT / ".build" / "release" / "quantgate"))
    parser.add_argument("--llama-bin")
    parser.add_argument("--llama-cpp")
    args = parser.parse_args()
    import gguf
    from tokenizers import Tokenizer
    qg = args.quantgate
    work = pathlib.Path(tempfile.mkdtemp(prefix="qg-gguf-"))
    failures = []
    files = {}
    for mixture, extra in (("F16", []), ("Q8_0", []), ("Q4_0", ["--no-imatrix"]),
                           ("Q4_K_M", ["--data", CALIBRATION, "--samples", "64", "--seq-len", "512",
                                       "--save-imatrix", work / "ours.imatrix.gguf"])):
        out = work / f"bard-5m-{mixture}.gguf"
        run(qg, "quantize", MODEL, "--format", f"gguf:{mixture}", "--out", out, "--quiet", *extra)
        files[mixture] = out

    # 2. gguf-py's dequantize equals our reader on every tensor.
    weights = source_weights()
    for mixture, path in files.items():
        dump = work / f"dump-{mixture}"
        run(qg, "inspect", path, "--dump-dequantized", dump)
        reader = gguf.GGUFReader(str(path))
        mismatched = 0
        for tensor in reader.tensors:
            theirs = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32).reshape(-1)
            ours = np.fromfile(dump / f"{tensor.name}.f32", dtype="<f4")
            if theirs.tobytes() != ours.tobytes():
                mismatched += 1
                failures.append(f"{mixture} {tensor.name}: gguf dequantize differs")
        print(f"{mixture:7s} gguf-py reads {len(reader.tensors)} tensors; dequantize == QuantGate reader on "
              f"{len(reader.tensors) - mismatched}/{len(reader.tensors)}")
        # 3. Our Q8_0 / Q4_0 blocks equal gguf.quants.quantize.
        if mixture in ("Q8_0", "Q4_0"):
            same = total = 0
            for hf, values in weights.items():
                tensor = next((t for t in reader.tensors if t.name == gguf_name(hf)), None)
                if tensor is None or tensor.tensor_type.name != mixture:
                    continue
                total += 1
                expected = gguf.quants.quantize(values, tensor.tensor_type)
                if expected.tobytes() == np.asarray(tensor.data).tobytes():
                    same += 1
                else:
                    failures.append(f"{mixture} {tensor.name}: blocks differ from gguf.quants.quantize")
            print(f"{mixture:7s} blocks == gguf.quants.quantize on {same}/{total} {mixture} tensors")

    # 4. llama.cpp loads our files, tokenises like the source tokenizer, and scores like quantgate eval.
    from llama_cpp import Llama
    text = TEXT.read_text(encoding="utf-8")
    hf_ids = Tokenizer.from_file(str(MODEL / "tokenizer.json")).encode(text).ids
    rows = []
    for mixture in ("F16", "Q8_0", "Q4_K_M"):
        llm = Llama(model_path=str(files[mixture]), n_ctx=512, verbose=False)
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        if ids != hf_ids:
            failures.append(f"{mixture}: llama.cpp tokenises the text differently ({len(ids)} vs {len(hf_ids)} ids)")
        del llm
        theirs = llama_perplexity(files[mixture], text, 512)[0]
        ours = json.loads(run(qg, "eval", files[mixture], "--text", TEXT, "--protocol", "llama.cpp", "--json", "--quiet"))["perplexity"]
        delta = 100 * (ours / theirs - 1)
        rows.append((mixture, theirs, ours, delta, ids == hf_ids))
        if abs(delta) > 0.5:
            failures.append(f"{mixture}: perplexity {ours:.4f} (QuantGate) vs {theirs:.4f} (llama.cpp)")
    print("file      llama.cpp ppl  QuantGate ppl  Δ %      same token ids")
    for mixture, theirs, ours, delta, same in rows:
        print(f"{mixture:8s}  {theirs:13.4f}  {ours:13.4f}  {delta:+.4f}  {same}")

    # 4b. A SentencePiece-style vocabulary (byte fallback, ▁ spaces): tiny-llama-linear's weights with the
    # sp-bpe fixture tokenizer, exported as tokenizer.ggml.model = llama with merge-rank scores; llama.cpp
    # must tokenise like the source tokenizer. (Added tokens with normalized/lstrip/single_word flags have no
    # GGUF equivalent, so the fixture's "Hamlet" token is kept out of the text.)
    import shutil
    spm = work / "tiny-llama-sp-bpe"
    shutil.copytree(ROOT / "Tests" / "Fixtures" / "tiny-llama-linear", spm)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(ROOT / "Tests" / "Fixtures" / "tokenizers" / "sp-bpe" / name, spm / name)
    run(qg, "quantize", spm, "--format", "gguf:F16", "--out", work / "spm.gguf", "--quiet")
    spm_text = text.replace("Hamlet", "Horatio") + " naïve café — 東京 🙂"
    llm = Llama(model_path=str(work / "spm.gguf"), vocab_only=True, verbose=False)
    spm_ids = llm.tokenize(spm_text.encode("utf-8"), add_bos=True, special=False)
    spm_hf = Tokenizer.from_file(str(spm / "tokenizer.json")).encode(spm_text).ids
    print(f"SentencePiece-style vocabulary: llama.cpp {len(spm_ids)} ids, source tokenizer {len(spm_hf)} ids, identical: {spm_ids == spm_hf}")
    if spm_ids != spm_hf:
        failures.append("llama.cpp tokenises the SentencePiece-style export differently")

    # 5. llama.cpp's own Q4_K_M with an imatrix from the same text.
    if args.llama_bin and args.llama_cpp:
        binaries = pathlib.Path(args.llama_bin)
        f32 = work / "llamacpp-f32.gguf"
        convert(pathlib.Path(args.llama_cpp), MODEL, "f32", f32)
        calibration = work / "calib.txt"
        calibration.write_bytes(b"\n".join(p.read_bytes() for p in sorted(CALIBRATION.glob("*.txt"))))
        imatrix = work / "llamacpp.imatrix.gguf"
        run(binaries / "llama-imatrix", "-m", f32, "-f", calibration, "-c", "512", "--chunks", "64", "-o", imatrix)
        reference = work / "llamacpp-Q4_K_M.gguf"
        run(binaries / "llama-quantize", "--imatrix", imatrix, f32, reference, "Q4_K_M")
        theirs = llama_perplexity(reference, text, 512)[0]
        ours = rows[-1][1]
        print(f"Q4_K_M with imatrix, llama.cpp ppl: ours {ours:.4f} vs llama.cpp's own {theirs:.4f} "
              f"({100 * (ours / theirs - 1):+.3f} %; goal ≤ +0.3 %)")
        if ours > theirs * 1.003:
            failures.append("our Q4_K_M is worse than llama.cpp's by more than 0.3 %")
    f16, q8 = rows[0][1], rows[1][1]
    print(f"Q8_0 vs F16 (llama.cpp ppl): {100 * (q8 / f16 - 1):+.4f} % (goal within ±0.05 %)")
    print("FAIL:\n  " + "\n  ".join(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
