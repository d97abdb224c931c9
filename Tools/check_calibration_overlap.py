#!/usr/bin/env python3
"""Check that the calibration sets share no text with the evaluation or training text.

Calibration sets (read by `quantgate --calibration prose|code|mixed`):
    Calibration/prose/*.txt, Calibration/code/**/*.py
Held apart from them:
    Calibration/eval/  (evaluation text)   and   Calibration/train/  (the example model's training text)

Checks, each over text normalised by lower-casing and collapsing every run of whitespace to one space:
1. no 200-character passage (every start offset, both sides) occurs in both a calibration file and
   an eval/train file;
2. no line of 40 or more characters (stripped, whitespace collapsed, lower-cased) occurs in both;
3. every calibration file is valid UTF-8, has no NUL byte and no CR, and is at most 1 MB; each set
   holds at least 1.1 MB.
Exits 1 on any failure. Standard library only; runs in about a minute on one core.

Usage: python3 Tools/check_calibration_overlap.py [--root Calibration]
"""

import argparse
import pathlib
import re
import sys

WINDOW = 200
MIN_LINE = 40
MAX_FILE = 1_000_000
MIN_SET = 1_100_000


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def files(root: pathlib.Path, folder: str, patterns) -> list[pathlib.Path]:
    base = root / folder
    return sorted(p for pat in patterns for p in base.rglob(pat) if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=pathlib.Path,
                    default=pathlib.Path(__file__).resolve().parent.parent / "Calibration")
    root = ap.parse_args().root
    failures = 0

    calib = {"prose": files(root, "prose", ["*.txt"]), "code": files(root, "code", ["*.py"])}
    held = files(root, "eval", ["*"]) + files(root, "train", ["*"])
    print(f"calibration: {len(calib['prose'])} prose files, {len(calib['code'])} code files; "
          f"held-out/training: {len(held)} files")

    # 3. encoding and size rules
    for name, paths in calib.items():
        total = 0
        for p in paths:
            b = p.read_bytes()
            total += len(b)
            problems = []
            try:
                b.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(f"not UTF-8 ({e})")
            if b"\x00" in b:
                problems.append("NUL byte")
            if b"\r" in b:
                problems.append("CR byte")
            if len(b) > MAX_FILE:
                problems.append(f"{len(b)} bytes > {MAX_FILE}")
            if problems:
                failures += 1
                print(f"FAIL {p.relative_to(root)}: {', '.join(problems)}")
        ok = total >= MIN_SET
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} set {name}: {total} bytes in {len(paths)} files (minimum {MIN_SET})")

    held_text = {p: norm(p.read_text(encoding="utf-8", errors="replace")) for p in held}

    # 1. shared 200-character passages
    windows = set()
    for t in held_text.values():
        for i in range(max(0, len(t) - WINDOW + 1)):
            windows.add(hash(t[i:i + WINDOW]))
    print(f"held-out/training: {sum(map(len, held_text.values()))} normalised characters, "
          f"{len(windows)} distinct {WINDOW}-character windows")
    shared_windows = 0
    for p in calib["prose"] + calib["code"]:
        t = norm(p.read_text(encoding="utf-8"))
        hits = [i for i in range(max(0, len(t) - WINDOW + 1)) if hash(t[i:i + WINDOW]) in windows]
        # confirm (hash collisions) before reporting
        hits = [i for i in hits if any(t[i:i + WINDOW] in h for h in held_text.values())]
        if hits:
            shared_windows += len(hits)
            print(f"FAIL {p.relative_to(root)}: {len(hits)} shared {WINDOW}-character windows, "
                  f"first: {t[hits[0]:hits[0] + 80]!r}...")
    failures += shared_windows > 0
    print(f"{'ok  ' if not shared_windows else 'FAIL'} shared {WINDOW}-character passages: {shared_windows}")

    # 2. shared long lines
    held_lines = set()
    for p in held:
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            n = norm(line).strip()
            if len(n) >= MIN_LINE:
                held_lines.add(n)
    shared_lines = 0
    for p in calib["prose"] + calib["code"]:
        for line in p.read_text(encoding="utf-8").splitlines():
            n = norm(line).strip()
            if len(n) >= MIN_LINE and n in held_lines:
                shared_lines += 1
                print(f"FAIL {p.relative_to(root)}: line shared with eval/train: {n!r}")
    failures += shared_lines > 0
    print(f"{'ok  ' if not shared_lines else 'FAIL'} shared lines of >= {MIN_LINE} characters: {shared_lines}")

    print("PASS" if not failures else f"FAILED ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
