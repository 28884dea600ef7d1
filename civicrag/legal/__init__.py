"""The legal core civicrag shares between ingest and rag: pure functions and types, no I/O.

- ``civicrag.legal.grammar``: the provision grammar — 조/조의N, 항 ①–㊿, 호, 목, 부칙, 별표/별지 서식, amendment
  notes, § / SECTION / Sec. — as the regexes and label helpers every reader of provisions uses.
- ``civicrag.legal.language``: the Hangul ranges and the one language rule (``detect_language``).
- ``civicrag.legal.types``: the shared values (``Language``, ``Document``, ``Provision``, ``Chunk``,
  ``ChunkRecord``, ``Citation``) and the one "in force on a date" rule (``in_force``).
- ``civicrag.legal.units``: a provision's quotable units (항, 호, (a), sentences), and the text a chunk or a
  unit is embedded as.
- ``civicrag.legal.references``: a provision's references to statutes, decrees, rules and ordinances
  (「…법」 제N조, 법/영 as the document defines them, 같은 법 시행령), and their JSON form in chunk metadata.
- ``civicrag.legal.citation``: the formal, copy-ready citation of a provision.
- ``civicrag.legal.idf``: the IDF formula (BM25 and plain variants) that weighs words.
"""
