#!/usr/bin/env python3
"""QuantGate's `--protocol llama.cpp` perplexity against llama.cpp itself.

1. Converts the model to GGUF (F32 and F16) with llama.cpp's own convert_hf_to_gguf.py.
   Our byte-level BPE uses the GPT-2 split pattern, which llama.cpp calls pre-tokenizer "gpt-2";
   its converter only knows pre-tokenizers by the hash of known vocabularies, so this script
   tells it "gpt-2" for ours (the only patch).
2. Computes llama-perplexity's number with llama.cpp through llama-cpp-python: the text tokenised
   by llama.cpp with add_special (BOS), tokens // ctx chunks, the first token of each chunk replaced
   by BOS, logits from llama.cpp, NLL over the second half of each chunk, PPL = exp(mean NLL) and
   ± = PPL * sqrt((mean(nll^2) - mean(nll)^2) / (n - 1)) — the code of tools/perplexity/perplexity.cpp.
3. Runs `quantgate eval --protocol llama.cpp --json` and compares.
4. With --record, writes the F32 result to MODEL/reference_perplexity_llamacpp.json for the Swift tests.

Usage:
  pip install llama-cpp-python gguf sentencepiece   # builds llama.cpp (~8 min on 2 cores)
  python3 Tools/interop_llamacpp_perplexity.py --llama-cpp /path/to/llama.cpp \\
      [--model Tests/Fixtures/bard-5m] [--text Calibration/eval/hamlet.txt] [--ctx 512] [--record]
where /path/to/llama.cpp is llama.cpp's source tree, e.g. vendor/llama.cpp of the llama-cpp-python sdist.
"""
import argparse
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def convert(llama_cpp, model, outtype, out):
    sys.path.insert(0, str(llama_cpp / "gguf-py"))
    sys.path.insert(0, str(llama_cpp))
    code = f"""
import sys
sys.argv = ["convert_hf_to_gguf.py", {str(model)!r}, "--outtype", {outtype!r}, "--outfile", {str(out)!r}]
sys.path[:0] = [{str(llama_cpp / 'gguf-py')!r}, {str(llama_cpp)!r}]
import conversion.base as base
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
import runpy
runpy.run_path({str(llama_cpp / 'convert_hf_to_gguf.py')!r}, run_name="__main__")
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def llama_perplexity(gguf, text, ctx):
    from llama_cpp import Llama, llama_vocab_get_add_bos, llama_model_get_vocab
    llm = Llama(model_path=str(gguf), n_ctx=ctx, n_batch=ctx, logits_all=True, verbose=False, seed=0)
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    add_bos = bool(llama_vocab_get_add_bos(llama_model_get_vocab(llm.model)))
    first = ctx // 2
    nll = nll2 = 0.0
    count = 0
    for chunk in range(len(tokens) // ctx):
        window = tokens[chunk * ctx:(chunk + 1) * ctx]
        if add_bos:
            window[0] = llm.token_bos()
        llm.reset()
        llm.eval(window)
        logits = np.array(llm.scores[:ctx], dtype=np.float32)
        for i in range(first, ctx - 1):
            row = logits[i]
            m = row.max()
            lse = math.log(float(np.exp(row - m, dtype=np.float32).astype(np.float64).sum()))
            v = -(float(row[window[i + 1]] - m) - lse)
            nll += v
            nll2 += v * v
            count += 1
    nll /= count
    nll2 /= count
    ppl = math.exp(nll)
    return ppl, ppl * math.sqrt((nll2 - nll * nll) / (count - 1)), count, len(tokens)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--llama-cpp", required=True, type=pathlib.Path)
    p.add_argument("--model", default=str(ROOT / "Tests/Fixtures/bard-5m"), type=pathlib.Path)
    p.add_argument("--text", default=str(ROOT / "Calibration/eval/hamlet.txt"), type=pathlib.Path)
    p.add_argument("--ctx", default=512, type=int)
    p.add_argument("--quantgate", default=str(ROOT / ".build/release/quantgate"))
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    text = args.text.read_text(encoding="utf-8")

    ours = json.loads(subprocess.run(
        [args.quantgate, "eval", str(args.model), "--text", str(args.text), "--protocol", "llama.cpp",
         "--ctx", str(args.ctx), "--json", "--quiet"], check=True, capture_output=True, text=True).stdout)
    print(f"quantgate   : PPL = {ours['perplexity']:.4f} +/- {ours['standardError']:.5f} over {ours['tokensScored']} tokens")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for outtype in ("f32", "f16"):
            gguf = pathlib.Path(tmp) / f"model-{outtype}.gguf"
            convert(args.llama_cpp, args.model, outtype, gguf)
            ppl, err, count, n_tokens = llama_perplexity(gguf, text, args.ctx)
            results[outtype] = (ppl, err, count)
            rel = ours["perplexity"] / ppl - 1
            print(f"llama.cpp {outtype.upper()}: PPL = {ppl:.4f} +/- {err:.5f} over {count} tokens "
                  f"({n_tokens} text tokens); quantgate differs by {100 * rel:+.4f} %")
    ok = abs(ours["perplexity"] / results["f32"][0] - 1) <= 1e-3 and ours["tokensScored"] == results["f32"][2]
    print("PASS: within 0.1 % of llama.cpp (F32)" if ok else "FAIL: more than 0.1 % from llama.cpp (F32)")
    if args.record:
        ppl, err, count = results["f32"]
        record = {"model": args.model.name, "text": str(args.text.relative_to(ROOT)), "ctx": args.ctx,
                  "protocol": "llama.cpp perplexity: tokens // ctx chunks, BOS first, second half scored",
                  "reference": "llama.cpp via llama-cpp-python, F32 GGUF from convert_hf_to_gguf.py",
                  "perplexity": ppl, "standard_error": err, "tokens_scored": count,
                  "perplexity_f16_gguf": results["f16"][0]}
        (args.model / "reference_perplexity_llamacpp.json").write_text(json.dumps(record, indent=2) + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
