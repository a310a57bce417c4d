#!/usr/bin/env bash
# The whole test suite, on a fresh machine of this kind (Debian, Python >= 3.11, root or sudo).
# Installs what the tests need -- LibreOffice and its Python bridge (the formula engine the workbook
# tests recalculate with), poppler (PDF pages as PNG) and the Python package with its test extras -- then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
   || ! /usr/bin/python3 -c 'import uno' >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui python3-uno poppler-utils >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"
