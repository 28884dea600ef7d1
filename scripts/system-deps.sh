#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python: chromium (browser tests of the web UI),
# Tesseract with Korean and English data (OCR of scanned PDFs) and a Korean font (Korean pages in
# browser screenshots; the OCR test renders Korean text with it) and a colour emoji font (without one,
# chromium draws the 👍/👎 of the feedback hint as empty boxes). Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/share/fonts/truetype/nanum/NanumGothic*.ttf >/dev/null 2>&1 || need+=(fonts-nanum)
ls /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
if command -v tesseract >/dev/null 2>&1; then
  langs=$(tesseract --list-langs 2>/dev/null || true)
  grep -qx kor <<<"$langs" || need+=(tesseract-ocr-kor)
  grep -qx eng <<<"$langs" || need+=(tesseract-ocr-eng)
else
  need+=(tesseract-ocr-kor tesseract-ocr-eng)
fi
((${#need[@]})) || exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${need[*]} (install them with your package manager; the tests that need them will be skipped)" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
