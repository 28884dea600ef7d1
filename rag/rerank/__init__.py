"""The decision after retrieval, learned from data: which provision leads, which unit is quoted, whether to answer.

- ``candidates``: retrieved chunks grouped into provisions with their units and unit vectors;
- ``features``: document-agnostic features of a question against them;
- ``model``: the fitted models, loaded from a versioned artefact (``civicrag train`` writes one).
"""
