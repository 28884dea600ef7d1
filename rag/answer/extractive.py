"""The offline answer: which provision answers, the decisive 항/호 quoted with citations, related provisions.

Nothing is generated: every sentence of the answer is either a fixed phrase in the
question's language or a verbatim quote of a retrieved chunk, and every citation is
built from that chunk's metadata.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from civicrag.rag.evidence import UnitScore
from civicrag.rag.language import has_hangul, phrase
from civicrag.rag.types import Answer, Answerability, Citation, Language, ScoredChunk

from civicrag.legal.citation import label_path
from civicrag.legal.units import Unit, split_units

_MAX_QUOTE_CHARS = 600
_MAX_CONTEXT_CHARS = 900  # the rest of the provision shown after the decisive unit
_KIND_NOTE_KO = {
    "amount": "금액", "period": "기간", "date": "날짜", "body": "담당 기관", "count": "인원·횟수",
    "rule": "허용 여부", "procedure": "절차", "definition": "정의",
}


def format_ref(chunk: ScoredChunk, language: Language, paragraph: str = "") -> str:
    """「title」 제4조(지방공휴일의 지정) ② / SECTION 3-1 (MAYOR: …), Code of … — from metadata only."""
    meta = chunk.chunk.metadata
    return _ref(chunk.chunk.title, chunk.chunk.article, str(meta.get("article_title", "")).strip(),
                language == "ko" or chunk.chunk.language == "ko", paragraph)


def format_citation(c: Citation, language: Language) -> str:
    is_ko = language == "ko" or has_hangul(c.title)
    return _ref(c.title, c.article, c.article_title, is_ko, "")


def _ref(title: str, article: str, article_title: str, is_ko: bool, paragraph: str) -> str:
    if is_ko:
        if article_title.startswith("<"):
            head = f"{article} {article_title}".strip()
        else:
            head = f"{article}({article_title})" if article_title else article
        ref = f"「{title}」 {head}".strip() if article else f"「{title}」"
        return f"{ref} {paragraph}".rstrip()
    head = f"{article} ({article_title})" if article_title else article
    head = f"{head}{paragraph}" if paragraph.startswith("(") else f"{head} {paragraph}".rstrip()
    return f"{head}, {title}" if article else title


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE_CHARS else text[: _MAX_QUOTE_CHARS - 1].rstrip() + "…"


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, related: int = 4):
        self.related = related

    def stream(
        self,
        question: str,
        language: Language,
        chunks: Sequence[ScoredChunk],
        units: Sequence[UnitScore],
        answerability: Answerability,
        as_of: str,
        jurisdiction: str = "",
        elsewhere: Sequence[ScoredChunk] = (),
    ) -> Iterator[str | Answer]:
        """The unit that states what was asked first, then the rest of its provision as context.

        ``units`` are the lead provision's units, best first; ``chunks`` the evidence (the lead provision's
        chunks first). ``jurisdiction`` is set when the candidates spanned jurisdictions: the answer says
        which one it is from, and ``elsewhere`` (the others' best provisions) are listed after it.
        """
        if not answerability.answerable or not chunks or not units:
            yield from self._refuse(question, language, chunks, answerability)
            return
        best = units[0]
        lead = chunks[best.chunk_rank]
        quoted = self._quote_units(lead, best)
        paragraph = _paragraph_label(quoted)
        quote = "\n".join(_clip(u.text) for u in quoted)
        # The formal citation names the decisive unit itself (제6조제2항제1호, § 2-537(a)(1)), not its lead-in.
        labels = label_path(
            split_units(lead.chunk.text), best.unit.index, str(lead.chunk.metadata.get("paragraph", ""))
        )
        citation = Citation.from_chunk(1, lead, quote=quote, paragraph=paragraph, labels=labels)
        lines = [phrase("answered_by", language, ref=format_ref(lead, language, paragraph))]
        lines.extend(f"> {_clip(u.text)} [1]" for u in quoted)
        context = self._context(chunks, units, lead, {u.index for u in quoted})
        if context:
            lines.append(phrase("whole_provision", language) + ":")
            lines.extend(f"> {line}" for line in context)
        if citation.superseded and citation.valid_to:
            lines.append(phrase("superseded", language, date=as_of, until=citation.valid_to))
        if citation.ocr:
            lines.append(phrase("ocr", language))
        if jurisdiction:
            lines.append(phrase("jurisdiction", language, jurisdiction=_display(lead)))
        related = self._related(chunks, {(citation.doc_id, citation.article)}, start=2)
        others = [Citation.from_chunk(2 + len(related) + i, c) for i, c in enumerate(elsewhere)]
        if related:
            lines.append("")
            lines.append(phrase("related", language) + ":")
            lines.extend(f"- {format_citation(r, language)}" for r in related)
        if others:
            lines.append("")
            lines.append(phrase("other_jurisdictions", language) + ":")
            lines.extend(f"- {format_citation(r, language)} ({_display_citation(r, elsewhere)})" for r in others)
        for line in lines:
            yield line + "\n"
        yield Answer(text="\n".join(lines), refused=False, citations=[citation], related=[*related, *others])

    def _context(
        self, chunks: Sequence[ScoredChunk], units: Sequence[UnitScore], lead: ScoredChunk, quoted: set[int]
    ) -> list[str]:
        """The lead provision's other units in document order, clipped to ``_MAX_CONTEXT_CHARS`` in all."""
        key = lead.chunk.key
        rest: list[tuple[int, int, str]] = []
        for u in units:
            chunk = chunks[u.chunk_rank]
            if chunk.chunk.key != key or (chunk is lead and u.unit.index in quoted):
                continue
            rest.append((chunk.chunk.seq, u.unit.index, u.unit.text))
        out: list[str] = []
        used = 0
        for _, _, text in sorted(rest):
            if used >= _MAX_CONTEXT_CHARS:
                out.append("…")
                break
            piece = _clip(text)
            out.append(piece)
            used += len(piece)
        return out

    def _refuse(
        self, question: str, language: Language, chunks: Sequence[ScoredChunk], answerability: Answerability
    ) -> Iterator[str | Answer]:
        lines = [phrase("not_found", language)]
        if answerability.reason and chunks:
            lines.append(_reason_text(answerability.reason, language))
        related = self._related(chunks, set(), start=1, limit=3)
        if related:
            lines.append("")
            lines.append(phrase("possibly_related", language) + ":")
            lines.extend(f"- {format_citation(r, language)}" for r in related)
        for line in lines:
            yield line + "\n"
        yield Answer(
            text="\n".join(lines), refused=True, citations=[], related=related, reason=answerability.reason
        )

    @staticmethod
    def _quote_units(chunk: ScoredChunk, best: UnitScore) -> list[Unit]:
        units = split_units(chunk.chunk.text)
        picked = [best.unit]
        if best.unit.parent is not None:
            picked.insert(0, units[best.unit.parent])  # a 호 reads only with its 항's lead-in
        picked.extend(units[i] for i in best.unit.children[:10])  # a lead-in needs its 호
        return picked

    def _related(
        self, chunks: Sequence[ScoredChunk], exclude: set[tuple[str, str]], start: int, limit: int | None = None
    ) -> list[Citation]:
        out: list[Citation] = []
        seen = set(exclude)
        # Only provisions retrieved nearly as strongly as the best (both legs agree, roughly): a
        # "related" list padded with weak hits sends staff reading the wrong articles.
        unpinned = [c.score for c in chunks if not c.pinned]
        floor = 0.6 * max(unpinned) if unpinned else 0.0
        for scored in chunks:
            if not scored.pinned and scored.score < floor:
                continue
            if len(out) >= (limit or self.related):
                break
            if scored.chunk.key in seen:
                continue
            seen.add(scored.chunk.key)
            out.append(Citation.from_chunk(start + len(out), scored))
        return out


def _display(chunk: ScoredChunk) -> str:
    """A jurisdiction as staff name it: its metadata value without the parenthetical."""
    value = str(chunk.chunk.metadata.get("jurisdiction", "")).strip()
    return value.split(" (")[0] or chunk.chunk.title


def _display_citation(citation: Citation, chunks: Sequence[ScoredChunk]) -> str:
    for chunk in chunks:
        if chunk.chunk.chunk_id == citation.chunk_id:
            return _display(chunk)
    return ""


def _paragraph_label(units: Sequence[Unit]) -> str:
    labels = [u.label for u in units if u.label]
    if not labels:
        return ""
    return labels[0]  # the first (항) label: a 호 list is cited by the 항 that introduces it


def _reason_text(reason: str, language: Language) -> str:
    ko = {
        "the matching document has no text": "해당 규정은 본문이 제공되지 않아 내용을 확인할 수 없습니다.",
        "the provision leaves the detail to an attachment or a later decision":
            "관련 조문은 있으나, 질문하신 세부 내용은 별표·서식 등 첨부나 별도 결정에 맡겨져 있어 본문에 없습니다.",
        "no provision on this topic": "이 주제를 다루는 조문을 찾지 못했습니다.",
        "the provisions on this topic do not state the detail asked":
            "이 주제의 조문은 있으나, 질문하신 세부 내용은 규정에 나와 있지 않습니다.",
    }
    en = {
        "the matching document has no text": "The matching regulation has no text available.",
        "the provision leaves the detail to an attachment or a later decision":
            "Related provisions exist, but they leave the detail asked to an attachment or a later decision.",
        "no provision on this topic": "No provision on this topic was found.",
        "the provisions on this topic do not state the detail asked":
            "Provisions on this topic exist, but none states the detail asked.",
    }
    return (ko if language == "ko" else en).get(reason, reason)
