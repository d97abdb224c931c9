#!/usr/bin/env python3
"""Train the two small fixture tokenizers that QuantGateTokenizer is checked against.

The example model's tokenizer (Tests/Fixtures/bard-5m) is GPT-2-style byte-level BPE. These two
cover the other tokenizer.json styles that Llama-family checkpoints ship:

* ``sp-bpe/``: SentencePiece-style BPE as Llama 2's tokenizer.json has it: model BPE with
  ``byte_fallback`` (all 256 ``<0xNN>`` tokens in the vocabulary), ``unk_token`` ``<unk>`` and
  ``fuse_unk``; normalizer Sequence[Prepend('▁'), Replace(' ', '▁')]; no pre-tokenizer (the whole
  normalized text is one BPE word); decoder Sequence[Replace('▁', ' '), ByteFallback, Fuse,
  Strip(' ', 1, 0)]; post-processor TemplateProcessing "<s> $A". Ids: <unk> 0, <s> 1, </s> 2,
  <0x00>..<0xFF> 3..258, then the learned pieces. Merges are learned with a Metaspace
  pre-tokenizer (so they do not cross word boundaries, as SentencePiece's do not), which is then
  removed. Extra added tokens exercise the AddedVocabulary flags: "<mask>" (special, lstrip),
  "[SW]" (single_word, not normalized) and "Hamlet" (normalized, not special: matched in the
  normalized text as "▁Hamlet").
* ``llama3-bpe/``: Llama-3 style byte-level BPE: pre-tokenizer Sequence[Split(<Llama-3 / cl100k
  pattern>, isolated), ByteLevel(add_prefix_space=False, use_regex=False)], model BPE with
  ``ignore_merges`` true, decoder ByteLevel, post-processor Sequence[ByteLevel, TemplateProcessing
  "<|begin_of_text|> $A"]. Special tokens are appended after the learned vocabulary, as in Llama 3:
  <|begin_of_text|>, <|end_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>, plus
  "<rs>" (special, rstrip) and " fn(" (not special, not normalized, leading space).

Both are trained on a few plays from Calibration/train/shakespeare/ (never on hamlet.txt).
Each directory gets tokenizer.json and tokenizer_config.json (add_bos_token true).

Usage (CPU, a few seconds):
    pip install tokenizers==0.23.3
    python3 Tools/make_fixture_tokenizers.py [--out Tests/Fixtures/tokenizers]

Made with tokenizers 0.23.3 (Python 3); the BPE trainer is deterministic for a given input.
"""
import argparse
import json
import pathlib

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "Calibration" / "train" / "shakespeare"
TRAIN_FILES = ["macbeth.txt", "othello.txt", "julius_caesar.txt", "twelfth_night.txt"]

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def training_lines():
    lines = []
    for name in TRAIN_FILES:
        lines.extend((TRAIN_DIR / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line.strip()]


def sp_bpe(lines, vocab_size=1500):
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    # Learn merges within words only, then drop the pre-tokenizer as Llama 2's tokenizer.json does.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens,
        limit_alphabet=80,
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    tok.pre_tokenizer = None
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    # The byte tokens came in as special tokens of the trainer; Llama 2 keeps them as plain
    # vocabulary entries (not matched as added tokens in text), so rebuild the added-token list.
    data = json.loads(tok.to_str())
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] in ("<unk>", "<s>", "</s>")]
    tok = Tokenizer.from_str(json.dumps(data))
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("[SW]", single_word=True, normalized=False)])
    tok.add_tokens([AddedToken("Hamlet", normalized=True)])
    return tok


def llama3_bpe(lines, vocab_size=2000):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    data = json.loads(tok.to_str())
    data["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(data))
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.add_special_tokens([AddedToken("<rs>", special=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken(" fn(", normalized=False)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                special_tokens=[("<|begin_of_text|>", bos)],
            ),
        ]
    )
    return tok


def save(tok, directory, config):
    directory.mkdir(parents=True, exist_ok=True)
    tok.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    size = (directory / "tokenizer.json").stat().st_size
    print(f"{directory}: vocabulary {tok.get_vocab_size()}, tokenizer.json {size} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "Tests" / "Fixtures" / "tokenizers"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    lines = training_lines()

    save(sp_bpe(lines), out / "sp-bpe", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": 512,
    })
    save(llama3_bpe(lines), out / "llama3-bpe", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|end_of_text|>",
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": 512,
    })


if __name__ == "__main__":
    main()
