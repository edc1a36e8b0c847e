#!/usr/bin/env bash
# Real Outlook archives for the .pst/.ost tests and the demo: the npm package
# pst-extractor@1.12.0 (MIT licence, see its package.json) ships enron.pst, two Outlook.com
# .ost files, output.txt (its own listing of their contents: an expected listing that does
# not come from our reader) and, in dist/PSTUtil.class.js, the [MS-PST] 5.1 permutation table
# pupil data is planted with (scanner/demo/pst.py). 14 MB are not committed to git and no code
# path downloads at run time: this script (run by scripts/test.sh) fetches the package once,
# checks its sha256 and unpacks those files into a cache directory; tests skip, naming this
# script, when it is missing, and the demo leaves its .pst out.
set -euo pipefail

PACKAGE="pst-extractor"
VERSION="1.12.0"
SHA256="c4c9eb9e75d09171452a4706df7d0e0e49606c1ca04aa81f30417dd385ad0e30"
DEST="${SCHOONSCHIP_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/schoonschip/testdata}/pst-extractor-$VERSION"
FILES=(example/testdata/enron.pst "example/testdata/pstextractortest@outlook.com.ost"
       "example/testdata/pstextractortestpdf@outlook.com.ost" example/testdata/output.txt
       dist/PSTUtil.class.js package.json)

if [[ -f "$DEST/.complete" ]]; then
  echo "test data: present in $DEST"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$work/$PACKAGE-$VERSION.tgz"
if command -v npm >/dev/null 2>&1; then
  (cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
else
  curl -fsSL -o "$tarball" "https://registry.npmjs.org/$PACKAGE/-/$PACKAGE-$VERSION.tgz"
fi
echo "$SHA256  $tarball" | sha256sum -c --quiet -
mkdir -p "$DEST"
for name in "${FILES[@]}"; do
  tar -xzf "$tarball" -C "$work" "package/$name"
  mv "$work/package/$name" "$DEST/$(basename "$name")"
done
touch "$DEST/.complete"
echo "test data: $PACKAGE $VERSION samples in $DEST"
