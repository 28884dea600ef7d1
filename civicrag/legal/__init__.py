"""The legal grammar civicrag shares between ingest and rag: pure functions, no I/O.

- ``civicrag.legal.units``: a provision's quotable units (항, 호, (a), sentences), and the text a
  unit is embedded as.
"""
