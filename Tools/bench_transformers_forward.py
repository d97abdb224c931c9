#!/usr/bin/env python3
"""Prefill speed of transformers on CPU next to `quantgate bench forward`, same model, same window.

Both run with all cores; each figure is the best of 3 prefills of --ctx random tokens after a warm-up.
Usage: python3 Tools/bench_transformers_forward.py [--model Tests/Fixtures/bard-5m] [--ctx 512]
"""
import argparse
import json
import pathlib
import subprocess
import time

import torch
from transformers import AutoModelForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "Tests/Fixtures/bard-5m"))
    p.add_argument("--ctx", type=int, default=512)
    p.add_argument("--quantgate", default=str(ROOT / ".build/release/quantgate"))
    args = p.parse_args()
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    ids = torch.randint(0, model.config.vocab_size, (1, args.ctx), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(ids)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            model(ids)
            best = min(best, time.perf_counter() - start)
    theirs = args.ctx / best
    ours = json.loads(subprocess.run([args.quantgate, "bench", "forward", args.model, "--ctx", str(args.ctx), "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    print(f"transformers {torch.__version__} CPU ({torch.get_num_threads()} threads): {theirs:.0f} tokens/s")
    print(f"quantgate: {ours['prefillTokensPerSecond']:.0f} tokens/s "
          f"({ours['prefillGFLOPs']:.1f} GFLOP/s, {ours['ratioToSGEMM']:.2f} of raw sgemm)")
    print(f"quantgate / transformers: {ours['prefillTokensPerSecond'] / theirs:.2f}x")


if __name__ == "__main__":
    main()
