"""One Kiwi (Korean morphological analyser) per process, shared by PDF reflow and the lexical index.

Loading takes about 1-2 s and 0.5 GB, so it happens lazily on first Korean text, once.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def shared_kiwi() -> Any:
    """The process's Kiwi instance; raises ImportError/OSError when kiwipiepy cannot load."""
    from kiwipiepy import Kiwi

    return Kiwi()
