"""The fixed phrases answers use in each language; which language a question is in is
``civicrag.legal.language.detect_language`` (re-exported here, as the service asks it)."""

from __future__ import annotations

from civicrag.rag.types import Language

from civicrag.legal.language import detect_language as detect_language
from civicrag.legal.language import has_hangul as has_hangul

PHRASES: dict[str, dict[Language, str]] = {
    "not_found": {"ko": "규정에서 찾을 수 없습니다.", "en": "Not found in the regulations."},
    "rephrase": {
        "ko": "질문에서 찾아볼 낱말을 찾지 못했습니다. 궁금한 규정이나 내용을 문장으로 다시 물어봐 주세요.",
        "en": "There is nothing in the question to look up; please ask again in words (what rule, fee or body).",
    },
    "possibly_related": {"ko": "관련이 있을 수 있는 조문", "en": "Possibly related provisions"},
    "related": {"ko": "관련 조문", "en": "Related provisions"},
    "whole_provision": {"ko": "조문 전체", "en": "The whole provision"},
    "jurisdiction": {
        "ko": "※ {jurisdiction}의 규정에서 답했습니다. 다른 지역을 물으셨다면 지역을 밝혀 주세요.",
        "en": "Answered from the regulations of {jurisdiction}; name the place if you meant another.",
    },
    "other_jurisdictions": {"ko": "다른 지역의 관련 조문", "en": "The same subject elsewhere"},
    "answered_by": {"ko": "{ref}에서 정하고 있습니다.", "en": "This is governed by {ref}."},
    "superseded": {
        "ko": "※ {date} 기준으로 시행 중이던 판(현재는 {until}부터 개정됨)에서 인용했습니다.",
        "en": "Note: quoted from the version in force on {date}, superseded on {until}.",
    },
    "ocr": {
        "ko": "※ OCR로 추출한 본문입니다. 원문을 확인하세요.",
        "en": "Note: this text was extracted by OCR; check the original.",
    },
    "in_attachment": {
        "ko": "질문하신 내용은 「{title}」의 첨부 {attachment}에 있는 것으로 보이나, 첨부(별표·서식)는 "
        "색인된 본문에 포함되어 있지 않습니다. 원문의 첨부를 확인하세요.",
        "en": "The detail asked appears to be in the attachment {attachment} of \"{title}\", which is not part of "
        "the indexed text; check the attachment in the original.",
    },
    "empty_document": {
        "ko": "「{title}」은(는) 등록되어 있으나 본문을 읽을 수 없어 답변할 수 없습니다. 원문을 확인하세요.",
        "en": "\"{title}\" is registered, but its text could not be read, so it cannot be answered; "
        "check the original.",
    },
    "empty_index": {
        "ko": "색인된 규정이 없습니다. 먼저 `civicrag ingest`로 규정을 추가하세요.",
        "en": "No regulations are indexed yet; add some with `civicrag ingest`.",
    },
}


def phrase(key: str, lang: Language, **values: str) -> str:
    return PHRASES[key][lang].format(**values)
