#!/usr/bin/env bash
# Installs the Debian packages the test suite runs real servers with: Samba (SMB), Dovecot
# (IMAP), PostgreSQL, Chromium (HTML reports) and Tesseract (optional OCR). Idempotent: it
# installs only what is missing, so a second run costs a few dpkg queries.
set -euo pipefail

PACKAGES=(
  samba smbclient
  dovecot-imapd
  postgresql
  chromium
  tesseract-ocr tesseract-ocr-nld
  p7zip-full
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "system packages: all present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Services must not start at install time: the tests start their own instances on loopback.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
echo "system packages: done"
