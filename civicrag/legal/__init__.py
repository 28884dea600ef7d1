"""The legal grammar civicrag shares between ingest and rag: pure functions, no I/O.

- ``civicrag.legal.units``: a provision's quotable units (항, 호, (a), sentences), and the text a
  unit is embedded as.
- ``civicrag.legal.references``: a provision's references to statutes, decrees, rules and ordinances
  (「…법」 제N조, 법/영 as the document defines them, 같은 법 시행령), and their JSON form in chunk metadata.
"""
