#!/usr/bin/env python3
"""Golden token ids for QuantGateTokenizer, made by the Python `tokenizers` library.

Builds a deterministic test text of about 1.2 MB from varied parts (prose from the held-out
Calibration/eval/hamlet.txt, some with CRLF line endings; Python standard-library source, some
re-indented with tabs; numbers in many scripts; whitespace runs and every Unicode space; accented
Latin in NFC and NFD, Greek, Cyrillic, CJK, kana, Hangul, Arabic, Hebrew, Thai, Devanagari; emoji with
skin tones, ZWJ sequences, flags and keycaps; combining marks; control characters; random code
points from every plane, including unassigned ones and letters new in Unicode 17; special-token
strings such as "<s>" and "</s>" embedded in text), cuts it into about 2000 segments (whole lines
or seeded random code-point boundaries, so segments may split a CRLF, a ZWJ sequence or a base
letter from its combining mark), and encodes every segment with `tokenizers` for each fixture
tokenizer with add_special_tokens=True:

    Tests/Fixtures/bard-5m                  byte-level BPE, GPT-2 split pattern (example model)
    Tests/Fixtures/tokenizers/sp-bpe        SentencePiece-style BPE (byte fallback)
    Tests/Fixtures/tokenizers/llama3-bpe    Llama-3 split pattern + byte-level BPE, ignore_merges

It also encodes every 40th segment with variants of those tokenizers (one tokenizer.json field
patched each: Metaspace pre-tokenizer with each prepend scheme, unk instead of byte fallback,
NFKC/NFC normalizers, add_prefix_space, legacy "a b" merges, Roberta post-processor,
ignore_merges off, the Qwen2 digit pattern, no decoder), records decodes (with and without
skip_special_tokens) of some segments and of handmade id lists, and the Unicode classes that
Oniguruma (the regex engine `tokenizers` uses for split patterns) gives \\p{L}, \\p{N} and \\s.

Outputs, in Tests/Fixtures/golden/:
    tokenizer_text.txt         the UTF-8 text (committed: it is under 1.5 MB)
    tokenizer_golden.json      segments (UTF-8 byte ranges), runs (fixture or variant, patch,
                               segment list, id count, byte offset into the .bin), decodes,
                               vocabulary facts, text length and FNV-1a 64 hash
    tokenizer_ids.bin          little-endian: "QGID", u32 version 2, u32 run count; then per run:
                               u32 segment count n, n × u32 id count, n × u64 hash of the ids
                               (FNV-1a 64 over each id as 4 little-endian bytes), u32 k, and the
                               ids (u16; every vocabulary is < 65536) of every k-th segment of the
                               run. All ids of 1 MB × 3 tokenizers would be 6.8 MB; the hashes
                               check every segment exactly and the stored ids show the first
                               difference (Python prints the rest: see the test's failure text).
    tokenizer_unicode_classes.json   Oniguruma's \\p{L}, \\p{N}, \\s as code-point ranges

Run (CPU, about 10 s), after Tools/make_fixture_tokenizers.py:
    python3 Tools/make_golden_tokenizer.py

Made with tokenizers 0.23.3 on CPython 3.11.7 (the standard-library source in the text is
3.11.7's; another Python gives another text, so the committed text is the reference).
Seed 20240607 (random.Random).
"""
import json
import os
import pathlib
import random
import struct
import sys
import unicodedata

import tokenizers
from tokenizers import Regex, Tokenizer, pre_tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
GOLDEN = FIXTURES / "golden"
SEED = 20240607
STDLIB = pathlib.Path(os.path.dirname(os.__file__))
STDLIB_FILES = ["textwrap.py", "argparse.py", "json/encoder.py", "json/decoder.py", "difflib.py",
                "heapq.py", "bisect.py", "fractions.py", "string.py", "shlex.py", "tokenize.py"]
TOKENIZERS = {
    "bard-5m": FIXTURES / "bard-5m",
    "sp-bpe": FIXTURES / "tokenizers" / "sp-bpe",
    "llama3-bpe": FIXTURES / "tokenizers" / "llama3-bpe",
}
SPECIAL_STRINGS = ["<s>", "</s>", "<unk>", "<mask>", "[SW]", "Hamlet", "<|begin_of_text|>", "<|end_of_text|>",
                   "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<rs>", " fn(", "<s", "s>", "</",
                   "<|eot_id|", "<<s>>", "<s></s><s>", "<|begin_of_text|><|begin_of_text|>", "<0x41>", "▁"]

SAMPLES = {
    "fr": "Où est la bibliothèque ? L'été dernier, nous avons mangé des crêpes à Besançon avec François et Zoë.",
    "de": "Größere Übungen für Bäcker: Straße, Maß, Fußgängerübergänge und ÄÖÜ äöü ß ẞ.",
    "es": "¿Dónde está el niño? ¡Mañana será otro día! Pingüino, corazón, acción.",
    "pt": "A informação é pública; não há exceção para São Paulo, Conceição ou Gonçalves.",
    "vi": "Tiếng Việt có nhiều dấu: Người, được, những, thương, Hà Nội, Đà Nẵng.",
    "pl": "Zażółć gęślą jaźń. Łódź, Świętokrzyskie, źdźbło.",
    "tr": "İstanbul'da ılık bir gün; Iğdır, Şırnak, çağ, öğrenci.",
    "el": "Ἐν ἀρχῇ ἦν ὁ λόγος. Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί. ΣΊΣΥΦΟΣ ς σ.",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю. Ёжик в тумане, ПРИВЕТ мир!",
    "uk": "Ґанок, їжак, єнот — українська абетка має літери Ґ, Є, І, Ї.",
    "zh": "我能吞下玻璃而不伤身体。天地玄黄，宇宙洪荒。「你好」，世界！１２３年。",
    "ja": "いろはにほへと ちりぬるを。カタカナとひらがな、漢字も使います。ｶﾞｷﾞｸﾞ半角カナ。",
    "ko": "다람쥐 헌 쳇바퀴에 타고파. 한국어 문장입니다! ㄱㄴㄷ ᄀᄁᄂ",
    "ar": "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. ١٢٣٤٥٦٧٨٩٠",
    "he": "דג סקרן שט בים מאוכזב ולפתע מצא חברה. שָׁלוֹם",
    "th": "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน ๑๒๓",
    "hi": "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम। १२३४",
    "math": "∀x∈ℝ: x²≥0; ∑ᵢ aᵢ = ½·π ≈ 1.5708; 𝐀𝐁𝐂 𝔄𝔅 𝕒𝕓 ℵ₀ ⅓ ⅞ Ⅻ ⅻ ① ⑳ ㉑",
}
EMOJI = ["😀", "😂", "🥲", "👍", "👍🏻", "👍🏽", "👍🏿", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "🇺🇳",
         "1️⃣", "#️⃣", "❤️", "❤", "🫠", "🧑🏾‍🚀", "👁️‍🗨️", "🐈‍⬛", "✌︎", "☺️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🙂‍↔️", "🦀", "🪿"]
SPACES = ["\u0020", "\u00a0", "\u0085", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005",
          "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
          "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\u200b", "\ufeff", "\u180e", "\u2060"]
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0303", "\u030a", "\u0323", "\u0331", "\u20dd", "\u0489", "\u0f71",
             "\u093c", "\u3099"]


def words(rng, line):
    return line.split()


def prose_and_crlf(rng):
    text = (ROOT / "Calibration" / "eval" / "hamlet.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    third = len(lines) // 3
    # The middle third with CRLF endings, one stretch with lone CRs.
    part1 = "\n".join(lines[:third]) + "\n"
    part2 = "\r\n".join(lines[third:2 * third]) + "\r\n"
    part3 = "\n".join(lines[2 * third:2 * third + 200]).replace("\n", "\r") + "\r"
    part4 = "\n".join(lines[2 * third + 200:])
    return part1 + part2 + part3 + part4


def python_source(rng):
    out = []
    for i, name in enumerate(STDLIB_FILES):
        src = (STDLIB / name).read_text(encoding="utf-8")
        if i % 3 == 1:  # re-indent with tabs
            src = "\n".join(("\t" * ((len(l) - len(l.lstrip(" "))) // 4)) + l.lstrip(" ") for l in src.split("\n"))
        out.append(f"# ---- {name} ----\n" + src)
    return "\n".join(out)


def numbers(rng, n_lines=2500):
    digit_sets = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "๐๑๒๓๔๕๖๗๘๙"]
    out = []
    for _ in range(n_lines):
        kind = rng.randrange(9)
        if kind == 0:
            out.append(str(rng.randrange(10 ** rng.randrange(1, 25))))
        elif kind == 1:
            out.append(f"{rng.uniform(-1e6, 1e6):.{rng.randrange(0, 9)}f}")
        elif kind == 2:
            out.append(f"{rng.random():e} {rng.random() * 1e-30:.3g} 0x{rng.randrange(1 << 32):08X} 0b{rng.randrange(256):b}")
        elif kind == 3:
            out.append(f"{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
                       f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z")
        elif kind == 4:
            ds = rng.choice(digit_sets)
            out.append("".join(rng.choice(ds) for _ in range(rng.randrange(1, 12))) + " " + rng.choice(["kg", "€", "%", "$", "km/h", "", "°C"]))
        elif kind == 5:
            out.append(",".join(str(rng.randrange(1000)) for _ in range(rng.randrange(2, 8))))
        elif kind == 6:
            out.append(f"+1 ({rng.randrange(100, 999)}) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}; v{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(300)}")
        elif kind == 7:
            out.append(" ".join(rng.choice(["½", "¾", "²", "³", "¹", "⁴", "₅", "Ⅳ", "ⅸ", "〇", "零", "一", "二", "百", "万", "①", "⑩"]) for _ in range(rng.randrange(1, 8))))
        else:
            out.append(f"x{rng.randrange(100)}y{rng.randrange(10000)}z = {rng.randrange(-99, 99)}*{rng.random():.4f}")
    return "\n".join(out) + "\n"


def whitespace(rng, n_lines=1800):
    out = []
    for _ in range(n_lines):
        parts = []
        for _ in range(rng.randrange(1, 8)):
            if rng.random() < 0.5:
                parts.append(rng.choice(["word", "Word", "x", "123", "!?", "don't", "(a)", "é", "日本"]))
            else:
                parts.append("".join(rng.choice(SPACES[:22] if rng.random() < 0.7 else SPACES) for _ in range(rng.randrange(1, 9))))
        out.append("".join(parts))
    return rng.choice(["\n", "\r\n"]).join(out) + " \t \n\n\n   \t\t\n"


def multilingual(rng, n_lines=3200):
    out = []
    keys = sorted(SAMPLES)
    for _ in range(n_lines):
        lang = rng.choice(keys)
        ws = SAMPLES[lang].split(" ")
        start = rng.randrange(len(ws))
        line = " ".join(ws[start:start + rng.randrange(3, 14)])
        form = rng.randrange(4)
        if form == 1:
            line = unicodedata.normalize("NFD", line)
        elif form == 2:
            line = line.upper()
        out.append(line)
    return "\n".join(out) + "\n"


def emoji(rng, n_lines=1400):
    out = []
    for _ in range(n_lines):
        parts = []
        for _ in range(rng.randrange(1, 10)):
            r = rng.random()
            if r < 0.5:
                parts.append(rng.choice(EMOJI))
            elif r < 0.7:
                parts.append(rng.choice(["I", "love", "it", "ok", "so", "funny", "Hamlet's", "sí"]))
            else:
                parts.append(rng.choice([" ", "", "  ", "\u00a0", "!", "..."]))
        out.append((" " if rng.random() < 0.6 else "").join(parts))
    return "\n".join(out) + "\n"


def combining(rng, n_lines=800):
    out = []
    bases = "aeiouAEIOUnçxyzαβкж日한 1-"
    for _ in range(n_lines):
        s = []
        for _ in range(rng.randrange(1, 20)):
            s.append(rng.choice(bases))
            for _ in range(rng.choice([0, 0, 1, 1, 2, 5])):
                s.append(rng.choice(COMBINING))
        out.append("".join(s))
    return "\n".join(out) + "\n"


def specials(rng, n_lines=2600):
    text = (ROOT / "Calibration" / "eval" / "hamlet.txt").read_text(encoding="utf-8").split()
    out = []
    for _ in range(n_lines):
        ws = [rng.choice(text) for _ in range(rng.randrange(2, 12))]
        for _ in range(rng.randrange(1, 4)):
            pos = rng.randrange(len(ws) + 1)
            tok = rng.choice(SPECIAL_STRINGS)
            glue = rng.choice(["", " ", "  ", "\t", "\n", " \u3000", "\u00a0"])
            ws.insert(pos, rng.choice([glue + tok + glue, tok, glue + tok, tok + glue]))
        out.append(rng.choice([" ", "", " ", " "]).join(ws))
    return "\n".join(out) + "\n"


def oddities(rng, n_lines=1500):
    controls = [chr(c) for c in list(range(0, 9)) + list(range(14, 32)) + [127, 0x80, 0x9f, 0xad]]
    new17 = ["\u0c5c", "\u0cdc", "\ua7ce", "\U00010940", "\U00011db0", "\U00011de0", "\U00016ff4"]
    planes = [(0x20, 0x2FF), (0x300, 0x1FFF), (0x2000, 0x2BFF), (0x2C00, 0xD7FF), (0xE000, 0xFFFD),
              (0x10000, 0x1FFFF), (0x20000, 0x3FFFF), (0xE0000, 0xE01EF), (0xF0000, 0x10FFFF)]
    out = []
    for _ in range(n_lines):
        s = []
        for _ in range(rng.randrange(1, 16)):
            r = rng.random()
            if r < 0.45:
                lo, hi = rng.choice(planes)
                s.append(chr(rng.randrange(lo, hi + 1)))
            elif r < 0.55:
                s.append(rng.choice(controls))
            elif r < 0.65:
                s.append(rng.choice(new17))
            elif r < 0.8:
                s.append(rng.choice(SPACES))
            elif r < 0.9:
                s.append(rng.choice(["'s", "'S", "'ll", "'LL", "'ſ", "'ve", "'Re", "’s", "'d'd", "''", "'"]))
            else:
                s.append(rng.choice(["a" * rng.randrange(1, 400), "ab" * rng.randrange(1, 100), "." * rng.randrange(1, 50),
                                     "1" * rng.randrange(1, 40), " " * rng.randrange(1, 40), "\n" * rng.randrange(1, 5)]))
        out.append("".join(s))
    return "\n".join(out) + "\n"


def mixed(rng, blocks, n_lines=6000):
    """Lines drawn from every block, shuffled together."""
    pool = []
    for b in blocks:
        pool.extend(l for l in b.split("\n") if l)
    return "\n".join(rng.choice(pool) for _ in range(n_lines)) + "\n"


def build_text():
    rng = random.Random(SEED)
    blocks = [prose_and_crlf(rng), python_source(rng), numbers(rng), whitespace(rng), multilingual(rng),
              emoji(rng), combining(rng), specials(rng), oddities(rng)]
    blocks.append(mixed(rng, blocks[2:]))
    order = list(range(len(blocks)))
    rng.shuffle(order)
    return "".join(blocks[i] for i in order), rng


def segment(text, rng, target=2000):
    """Code-point boundaries: whole lines, or seeded random lengths."""
    mean = len(text) / target
    bounds = [0]
    pos = 0
    while pos < len(text):
        if rng.random() < 0.5:
            end = pos
            for _ in range(rng.randrange(1, 2 * int(mean / 45) + 1)):
                nl = text.find("\n", end)
                end = len(text) if nl < 0 else nl + 1
                if end >= len(text):
                    break
        else:
            end = pos + rng.randrange(1, int(2 * mean))
        end = min(end, len(text))
        bounds.append(end)
        pos = end
    segments = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    return segments


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def ids_hash(ids):
    """FNV-1a 64 over the ids, each as 4 little-endian bytes."""
    return fnv1a64(b"".join(struct.pack("<I", x) for x in ids))


def set_path(obj, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value


LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
PREPEND_REPLACE = [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]

VARIANTS = [
    ("sp-metaspace-first", "sp-bpe", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}}),
    ("sp-metaspace-always-nosplit", "sp-bpe", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": False},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": False}}),
    ("sp-metaspace-never", "sp-bpe", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": True},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": True}}),
    ("sp-unk-fused", "sp-bpe", {"model.byte_fallback": False}),
    ("sp-unk-unfused", "sp-bpe", {"model.byte_fallback": False, "model.fuse_unk": False}),
    ("sp-nfkc", "sp-bpe", {"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}] + PREPEND_REPLACE}}),
    ("bard-prefix-space", "bard-5m", {
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}}),
    ("bard-legacy-merges", "bard-5m", {"model.merges": "LEGACY"}),
    ("bard-roberta", "bard-5m", {
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 1], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False}}),
    ("bard-no-decoder", "bard-5m", {"decoder": None, "post_processor": None}),
    ("llama3-with-merges", "llama3-bpe", {"model.ignore_merges": False}),
    ("llama3-qwen2-digits", "llama3-bpe", {"pre_tokenizer.pretokenizers.0.pattern.Regex": QWEN2}),
    ("llama3-nfc", "llama3-bpe", {"normalizer": {"type": "NFC"}}),
    ("llama3-nfd", "llama3-bpe", {"normalizer": {"type": "NFD"}}),
]


def patched(base_json, patch):
    data = json.loads(base_json)
    for path, value in patch.items():
        if value == "LEGACY":
            value = [" ".join(pair) for pair in data["model"]["merges"]]
        if path.startswith("pre_tokenizer.pretokenizers."):
            keys = path.split(".")
            obj = data["pre_tokenizer"]["pretokenizers"][int(keys[2])]
            for k in keys[3:-1]:
                obj = obj[k]
            obj[keys[-1]] = value
        else:
            set_path(data, path, value)
    return json.dumps(data, ensure_ascii=False)


def unicode_classes():
    chars = [c for c in range(1, 0x110000) if not (0xD800 <= c <= 0xDFFF)]
    s = "".join(map(chr, chars))
    result = {}
    for name, pattern in [("L", r"\p{L}"), ("N", r"\p{N}"), ("s", r"\s")]:
        pieces = pre_tokenizers.Split(Regex(pattern), behavior="removed").pre_tokenize_str(s)
        covered = bytearray(len(s))
        for _, (a, b) in pieces:
            covered[a:b] = b"\x01" * (b - a)
        ranges = []
        for i, flag in enumerate(covered):
            if not flag:
                c = chars[i]
                if ranges and ranges[-1][1] == c - 1:
                    ranges[-1][1] = c
                else:
                    ranges.append([c, c])
        result[name] = ranges
    return result


def main():
    text, rng = build_text()
    data = text.encode("utf-8")
    print(f"text: {len(text)} code points, {len(data)} bytes", file=sys.stderr)
    if len(data) < 1_000_000 or len(data) > 1_500_000:
        raise SystemExit("text size out of the 1.0–1.5 MB range")
    segments = segment(text, rng)
    byte_segments = []
    offset = 0
    pieces = []
    for a, b in segments:
        piece = text[a:b]
        n = len(piece.encode("utf-8"))
        byte_segments.append([offset, offset + n])
        offset += n
        pieces.append(piece)
    assert offset == len(data)
    print(f"{len(segments)} segments", file=sys.stderr)

    GOLDEN.mkdir(parents=True, exist_ok=True)
    (GOLDEN / "tokenizer_text.txt").write_bytes(data)

    runs, blobs, decodes, vocab_facts = [], [], [], {}
    bin_offset = 12

    def add_run(name, base, patch, tok, indices, full_every):
        nonlocal bin_offset
        ids = [tok.encode(pieces[i], add_special_tokens=True).ids for i in indices]
        assert all(0 <= x < 65536 for seq in ids for x in seq)
        blob = struct.pack(f"<I{len(ids)}I", len(ids), *[len(s) for s in ids])
        blob += struct.pack(f"<{len(ids)}Q", *[ids_hash(s) for s in ids])
        kept = [x for j, s in enumerate(ids) if j % full_every == 0 for x in s]
        blob += struct.pack(f"<I{len(kept)}H", full_every, *kept)
        runs.append({"name": name, "fixture": base, "patch": patch,
                     "segments": "all" if len(indices) == len(pieces) else indices,
                     "id_count": sum(len(s) for s in ids), "full_ids_every": full_every, "offset": bin_offset})
        bin_offset += len(blob)
        blobs.append(blob)
        print(f"{name}: {runs[-1]['id_count']} ids, {len(kept)} stored", file=sys.stderr)
        return ids

    def add_decodes(run, tok, ids, every, handmade):
        for j in range(0, len(ids), every):
            assert j % runs[-1]["full_ids_every"] == 0
            text, skipped = tok.decode(ids[j], skip_special_tokens=False), tok.decode(ids[j], skip_special_tokens=True)
            decodes.append({"run": run, "position": j, "text": text, "text_skip_special": skipped})
        for seq in handmade:
            text, skipped = tok.decode(seq, skip_special_tokens=False), tok.decode(seq, skip_special_tokens=True)
            decodes.append({"run": run, "ids": seq, "text": text, "text_skip_special": skipped})

    base_json = {}
    for name, directory in TOKENIZERS.items():
        base_json[name] = (directory / "tokenizer.json").read_text(encoding="utf-8")
        tok = Tokenizer.from_str(base_json[name])
        ids = add_run(name, name, {}, tok, list(range(len(pieces))), 10)
        vocab = tok.get_vocab(with_added_tokens=True)
        probe = sorted(vocab.items(), key=lambda kv: kv[1])
        vocab_facts[name] = {
            "vocab_size": tok.get_vocab_size(with_added_tokens=True),
            "vocab_size_without_added": tok.get_vocab_size(with_added_tokens=False),
            "id_to_token": {str(i): tok.id_to_token(i) for i in [0, 1, 2, 3, 100, 259, 1000, 1499, 1500, 1501, 1502, 1999,
                                                                  2000, 2004, 2005, 2006, 4095, 4096, 99999]},
            "token_to_id": {t: tok.token_to_id(t) for t in ["<s>", "</s>", "<unk>", "Hamlet", "▁Hamlet", "<mask>",
                                                             " fn(", "<|eot_id|>", "Ġthe", "the", "<0x0A>", "nonexistent!"]},
            "first_tokens": probe[:3], "last_tokens": probe[-3:],
        }
        # Decodes (both skip settings): every 200th segment (ids stored in the .bin) and handmade
        # id lists (ids stored here).
        bos = tok.token_to_id("<s>") if tok.token_to_id("<s>") is not None else tok.token_to_id("<|begin_of_text|>")
        handmade = [[], [bos], [bos, bos], [99999, bos, 5, 99999], list(range(0, 300, 7)), list(range(250, 270)),
                    tok.encode("日本 😀 é", add_special_tokens=False).ids[:-1],
                    tok.encode("  leading and trailing  ", add_special_tokens=True).ids,
                    tok.encode("<s> x </s>", add_special_tokens=False).ids]
        if name == "sp-bpe":
            b = lambda x: tok.token_to_id(f"<0x{x:02X}>")
            handmade += [[b(0xE6), b(0x97)], [b(0xE6), b(0x97), b(0xA5)], [b(0xE6), 400, b(0x97), b(0xA5)],
                         [b(0xFF), b(0x41)], [b(0x41)], [tok.token_to_id("▁"), tok.token_to_id("▁"), b(0x20)],
                         [tok.token_to_id("Hamlet"), tok.token_to_id("[SW]"), tok.token_to_id("<mask>")]]
        add_decodes(name, tok, ids, 200, handmade)

    variant_segments = list(range(0, len(pieces), 40))
    for name, base, patch in VARIANTS:
        tok = Tokenizer.from_str(patched(base_json[base], patch))
        ids = add_run(name, base, patch, tok, variant_segments, 5)
        add_decodes(name, tok, ids, 20, [])

    with open(GOLDEN / "tokenizer_ids.bin", "wb") as f:
        f.write(b"QGID" + struct.pack("<II", 2, len(runs)))
        for blob in blobs:
            f.write(blob)
    golden = {
        "made_by": "python3 Tools/make_golden_tokenizer.py",
        "tokenizers_version": tokenizers.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "text": {"file": "tokenizer_text.txt", "bytes": len(data), "code_points": len(text),
                 "fnv1a64": f"{fnv1a64(data):016x}"},
        "segments": byte_segments,
        "runs": runs,
        "decodes": decodes,
        "vocabulary": vocab_facts,
    }
    (GOLDEN / "tokenizer_golden.json").write_text(json.dumps(golden, ensure_ascii=False) + "\n", encoding="utf-8")
    (GOLDEN / "tokenizer_unicode_classes.json").write_text(json.dumps({
        "made_by": "python3 Tools/make_golden_tokenizer.py",
        "what": "code points that tokenizers' Oniguruma matches with \\p{L}, \\p{N}, \\s (inclusive ranges)",
        "tokenizers_version": tokenizers.__version__,
        "classes": unicode_classes()}) + "\n", encoding="utf-8")
    for p in ["tokenizer_text.txt", "tokenizer_golden.json", "tokenizer_ids.bin", "tokenizer_unicode_classes.json"]:
        print(f"{p}: {(GOLDEN / p).stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
