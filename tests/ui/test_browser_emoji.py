"""The 👍/👎 of the feedback hint are drawn as emoji in Debian's chromium, not as empty "tofu" boxes.

Without an emoji font (Debian: ``fonts-noto-color-emoji``, installed by scripts/system-deps.sh) chromium draws
a character no font has as the missing-glyph box, exactly as it draws a private-use code point that no font
ever has. So the test measures the rendered 👍 against such a code point in the same element, and looks for
colour in its pixels: Noto Color Emoji's thumb is yellow, a missing-glyph box is grey on white.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, PASSWORDS, Server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

MISSING = "\ue000"  # a private-use code point: no font here has it, so it is always the missing-glyph box

# Width, height and screen box of the first occurrence of `glyph` in the element's text, and of MISSING put
# beside it in a span of the same style (removed again).
MEASURE_JS = """([selector, glyph, missing]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode()) && !node.data.includes(glyph)) {}
  if (!node) return null;
  const range = document.createRange();
  const at = node.data.indexOf(glyph);
  range.setStart(node, at);
  range.setEnd(node, at + glyph.length);
  const box = range.getBoundingClientRect();
  const probe = document.createElement('span');
  probe.textContent = missing;
  node.parentElement.appendChild(probe);
  const missingBox = probe.getBoundingClientRect();
  probe.remove();
  return {width: box.width, height: box.height, x: box.x, y: box.y, missingWidth: missingBox.width};
}"""


def _coloured_pixels(png: bytes) -> int:
    """Pixels whose channels differ by more than 80: colour, not the grey and black of text or a box."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.getdata() if max(r, g, b) - min(r, g, b) > 80)


def test_thumbs_render_as_emoji_not_missing_glyph_boxes(browser: Any, server: Server, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=2)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORDS["bob"])
    page.click("button[type=submit]")
    hint = "#cr-feedback"
    page.wait_for_selector(f"{hint}:has-text('👍')")
    page.evaluate("() => document.fonts.ready")
    for glyph in ("👍", "👎"):
        box = page.evaluate(MEASURE_JS, [hint, glyph, MISSING])
        assert box is not None, f"{glyph} is not in the feedback hint"
        # The missing-glyph box is a narrow rectangle (about 0.6 em); the emoji is wider than that.
        assert box["width"] > box["missingWidth"] * 1.25, (glyph, box)
        shot = page.screenshot(clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]})
        assert _coloured_pixels(shot) > 20, f"{glyph} has no colour: drawn without an emoji font"
    page.locator(hint).screenshot(path=str(artifacts / "emoji-feedback-hint.png"))
    context.close()
