"""A real ``civicrag`` process that stops just before it makes its first new version live, until told to go.

    python -m tests.ingest.paused_ingest SIGNAL_DIR ingest PATH... [options]

When its pending rows and vectors are written it creates SIGNAL_DIR/paused (holding its pid) and waits for
SIGNAL_DIR/go; then it carries on as ``civicrag ingest`` would. Tests use it to hold a writer mid-write.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from civicrag.ingest.store.manifest import Manifest

from civicrag.cli import main


def pause_before_activating(signals: Path) -> None:
    real = Manifest.activate_version

    def paused(self: Manifest, *args: Any, **kwargs: Any) -> None:
        if not (signals / "go").exists():
            (signals / "paused.tmp").write_text(str(os.getpid()))
            (signals / "paused.tmp").replace(signals / "paused")
            while not (signals / "go").exists():
                time.sleep(0.05)
        real(self, *args, **kwargs)

    Manifest.activate_version = paused  # type: ignore[method-assign]


if __name__ == "__main__":
    pause_before_activating(Path(sys.argv[1]))
    sys.argv = ["civicrag", *sys.argv[2:]]
    main()
