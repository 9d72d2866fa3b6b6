#!/usr/bin/env bash
# Install what the PDF step needs, from Debian's packages, when it is missing:
#   chromium       headless --print-to-pdf of reports/report.html
#   poppler-utils  pdftoppm / pdfinfo, to check the PDF's pages (tests, legibility checks)
#   fonts-dejavu-core, fonts-liberation  readable fonts for the printed page
# Idempotent: does nothing when both commands are there. Never fails the caller: when apt-get is absent or
# not allowed, it prints a warning and exits 0; the report build then says the PDF was skipped (smoke) or
# stops (cpu/gpu), see hatespeech.publish.
set -uo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core fonts-liberation)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0

warn() { echo "setup_pdf: WARNING: $*; the PDF step will be skipped (smoke) or fail (cpu/gpu)." >&2; }

if ! command -v apt-get >/dev/null 2>&1; then
    warn "apt-get not found, cannot install ${need[*]} (install chromium and poppler-utils by hand)"
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        warn "not root and no password-less sudo, cannot apt-get install ${need[*]}"
        exit 0
    fi
fi
echo "setup_pdf: installing ${need[*]} with apt-get (once)"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/tmp/setup_pdf.$$.log 2>&1; then
    tail -n 20 /tmp/setup_pdf.$$.log >&2
    warn "apt-get install ${need[*]} failed (log above)"
    exit 0
fi
rm -f /tmp/setup_pdf.$$.log
exit 0
