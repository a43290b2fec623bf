#!/usr/bin/env bash
# Fetches the reference libinjection that ModSecurity ships, from Debian's archive (no other network):
#   - the source package `modsecurity` (its others/libinjection/ tree: C sources, data tables, test vectors,
#     sample corpora), unpacked under $LIBINJECTION_REF_DIR (default: ~/.cache/gw-libinjection);
#   - with --install, the binary package `libmodsecurity3`, whose libmodsecurity.so.3 exports the libinjection
#     C API (libinjection_sqli, libinjection_xss, tokenizer, folding, html5) that the differential tests call.
# Prints the path of the libinjection source tree on its last line.
set -euo pipefail

ref_dir="${LIBINJECTION_REF_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gw-libinjection}"
install=0
for arg in "$@"; do
  case "$arg" in
    --install) install=1 ;;
    *) echo "usage: $0 [--install]" >&2; exit 2 ;;
  esac
done

if [ "$install" = 1 ] && [ ! -e /usr/lib/x86_64-linux-gnu/libmodsecurity.so.3 ] && ! ldconfig -p | grep -q libmodsecurity.so.3; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libmodsecurity3 >/dev/null
fi

find_src() { ls -d "$ref_dir"/modsecurity-v*/others/libinjection 2>/dev/null | head -n 1 || true; }
src="$(find_src)"
if [ -z "$src" ]; then
  mkdir -p "$ref_dir/apt/lists/partial" "$ref_dir/apt/sources"
  # A private deb-src list: the machine's apt configuration is left untouched.
  cat >"$ref_dir/apt/sources/debian-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$ref_dir/apt/sources"
    -o "Dir::State::Lists=$ref_dir/apt/lists")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$ref_dir" && apt-get "${apt_opts[@]}" source --download-only -qq modsecurity 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  tar -xzf "$(ls "$ref_dir"/modsecurity_*.orig.tar.gz | head -n 1)" -C "$ref_dir"
  src="$(find_src)"
  [ -n "$src" ] || { echo "fetch-reference: no others/libinjection in the modsecurity source package" >&2; exit 1; }
fi
echo "$src"
