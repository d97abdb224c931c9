"""Helpers for the golden-file generators that write safetensors files (no third-party imports)."""
import json
import pathlib
import struct


def canonical_metadata_order(path):
    """safetensors writes __metadata__ from a hash map (random order per run); rewrite the header with the
    metadata keys sorted so that re-running gives identical bytes. Tensor entries and data are unchanged."""
    raw = pathlib.Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    new = {"__metadata__": dict(sorted(meta.items())), **header}
    text = json.dumps(new, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
