#!/usr/bin/env bash
# pgvector for the PostgreSQL server installed here, built from the Debian archive's source.
# Debian 12 ships no postgresql-15-pgvector package, so this builds the upstream release that
# Debian packages (pool/main/p/pgvector, the .orig tarball, sha256 pinned below from its .dsc)
# against the server's own headers (postgresql-server-dev-<major>), and installs it.
#   scripts/pgvector.sh [MAJOR]   MAJOR: the server's major version (default: the newest one
#                                 under /usr/lib/postgresql). Does nothing when it is installed.
# Portable build: OPTFLAGS="" (pgvector's default is -march=native, which would tie the library
# to this machine's CPU). Needs root (apt-get, make install), gcc, make, curl.
set -euo pipefail

VERSION=0.8.0
SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
URL="${PGVECTOR_MIRROR:-http://deb.debian.org/debian}/pool/main/p/pgvector/pgvector_${VERSION}.orig.tar.gz"

fail() { echo "pgvector: $*" >&2; exit 1; }

major="${1:-}"
if [ -z "$major" ]; then
  major=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$major" ] && [ -x "/usr/lib/postgresql/$major/bin/postgres" ] ||
  fail "no PostgreSQL server found under /usr/lib/postgresql (install postgresql first)"
PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config"
[ -x "$PG_CONFIG" ] || fail "$PG_CONFIG is missing (package postgresql-client-$major)"

control="$("$PG_CONFIG" --sharedir)/extension/vector.control"
if [ -f "$control" ]; then
  echo "pgvector: already installed for PostgreSQL $major ($control)" >&2
  exit 0
fi
[ "$(id -u)" = 0 ] || fail "not installed, and installing needs root (apt-get, make install)"
for tool in curl gcc make sha256sum tar; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install build-essential curl)"
done

# The server's headers (pg_config and the PGXS makefiles come with the server's client package).
if [ ! -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ]; then
  echo "pgvector: installing postgresql-server-dev-$major…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$major" >/dev/null 2>&1 || {
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$major" >&2 ||
      fail "could not install postgresql-server-dev-$major (apt-get)"
  }
fi

work=$(mktemp -d /tmp/pgvector-build-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "pgvector: downloading $URL" >&2
curl -fsSL --retry 3 -o "$work/src.tar.gz" "$URL" || fail "download failed: $URL"
got=$(sha256sum "$work/src.tar.gz" | cut -d' ' -f1)
[ "$got" = "$SHA256" ] ||
  fail "sha256 mismatch for $URL: expected $SHA256, got $got (refusing to build it)"
tar -xzf "$work/src.tar.gz" -C "$work"
src="$work/pgvector-$VERSION"
[ -f "$src/Makefile" ] || fail "unexpected tarball layout (no pgvector-$VERSION/Makefile)"

echo "pgvector: building $VERSION for PostgreSQL $major…" >&2
jobs=$(nproc 2>/dev/null || echo 1)
make -C "$src" -s -j "$jobs" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >"$work/build.log" 2>&1 || {
  tail -n 30 "$work/build.log" >&2
  fail "build failed (log above)"
}
make -C "$src" -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >"$work/install.log" 2>&1 || {
  tail -n 30 "$work/install.log" >&2
  fail "make install failed (log above)"
}
[ -f "$control" ] || fail "installed, but $control is missing"
echo "pgvector: $VERSION installed for PostgreSQL $major" >&2
