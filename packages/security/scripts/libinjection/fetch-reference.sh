#!/usr/bin/env bash
# Fetches libinjection as ModSecurity bundles it, from Debian's archive (no other network):
#   --release trixie   (default) source package `modsecurity` 3.0.14: the libinjection that current
#                      ModSecurity ships; gw's data tables are generated from it (gen-data.mjs);
#   --release bookworm source package `modsecurity` 3.0.9 (libinjection 3.9.2 + fixes): the version compiled
#                      into bookworm's binary libmodsecurity3, the reference CI tests against;
#   --install          also installs the binary package `libmodsecurity3`, whose libmodsecurity.so.3 exports
#                      the libinjection C API that the differential tests call.
# Unpacks under $LIBINJECTION_REF_DIR (default ~/.cache/gw-libinjection) with a private apt configuration (the
# machine's apt sources are left untouched) and prints the path of the libinjection tree on its last line.
set -euo pipefail

ref_dir="${LIBINJECTION_REF_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gw-libinjection}"
release=trixie
install=0
while [ $# -gt 0 ]; do
  case "$1" in
    --install) install=1 ;;
    --release) release="$2"; shift ;;
    *) echo "usage: $0 [--release trixie|bookworm] [--install]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$install" = 1 ] && ! ls /usr/lib/*/libmodsecurity.so.3 >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libmodsecurity3 >/dev/null
fi

dir="$ref_dir/$release"
find_src() { ls -d "$dir"/modsecurity-*/others/libinjection 2>/dev/null | head -n 1 || true; }
src="$(find_src)"
if [ -z "$src" ]; then
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/sources"
  cat >"$dir/apt/sources/debian-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $release
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$dir/apt/sources"
    -o "Dir::State::Lists=$dir/apt/lists")
  apt-get "${apt_opts[@]}" update -qq
  # Only the upstream tarball is needed (Debian's patches do not touch libinjection); a missing Debian
  # diff on the mirror is not an error here.
  (cd "$dir" && apt-get "${apt_opts[@]}" source --download-only -qq modsecurity 2>&1 \
    | grep -v -e '^W: Download is performed unsandboxed' -e 'debian.tar' -e '\.dsc' -e '^E: Failed to fetch some' || true)
  tarball="$(ls "$dir"/modsecurity_*.orig.tar.gz 2>/dev/null | head -n 1 || true)"
  [ -n "$tarball" ] || { echo "fetch-reference: could not download the modsecurity source package" >&2; exit 1; }
  tar -xzf "$tarball" -C "$dir"
  src="$(find_src)"
  [ -n "$src" ] || { echo "fetch-reference: no others/libinjection in $tarball" >&2; exit 1; }
fi
echo "$src"
