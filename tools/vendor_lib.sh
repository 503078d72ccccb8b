# Sourced by tools/vendor_check.sh and tools/vendor_diff.sh: the list of vendored crates (vendor/upstream.txt)
# and their published sources. Both scripts must build the pristine tree the same way, or a diff written by one
# would not be what the other applies.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vendor=$root/vendor
upstream=$vendor/upstream.txt

# Files that `cargo package` puts into a .crate (.cargo_vcs_info.json, Cargo.toml.orig, Cargo.lock) or that
# Cargo writes when it unpacks one (.cargo-ok), at the crate's top level. Cargo never reads them when the crate
# is a dependency, and the copies were vendored with some of them and not others (rayon-core's has its
# Cargo.lock and Cargo.toml.orig, the other two neither), so both scripts drop them from both trees before
# comparing: the diffs never mention them and the check never fails on them.
vendor_ignored=(.cargo_vcs_info.json .cargo-ok Cargo.toml.orig Cargo.lock)

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# names[i], versions[i], sums[i]: one entry per line of vendor/upstream.txt.
read_upstream() {
  names=() versions=() sums=()
  [ -f "$upstream" ] || die "vendor/upstream.txt not found (one line per vendored crate: name version sha256)"
  local line n v s extra lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    read -r n v s extra <<< "$line"
    if [ -z "${s:-}" ] || [ -n "${extra:-}" ] || ! [[ $s =~ ^[0-9a-f]{64}$ ]]; then
      die "vendor/upstream.txt line $lineno: expected 'name version sha256', got '$line'"
    fi
    names+=("$n") versions+=("$v") sums+=("$s")
  done < "$upstream"
  [ "${#names[@]}" -gt 0 ] || die "vendor/upstream.txt lists no crates"
}

# Unpacks the published NAME-VERSION.crate into DEST/NAME-VERSION, after checking its sha256 against
# vendor/upstream.txt (a cached or downloaded file that is not what crates.io published must not become the
# reference). Cargo's own download cache first (no network needed), else crates.io's static download URL.
# Sets pristine_from to where the .crate came from.
fetch_pristine() {
  local name=$1 version=$2 sum=$3 dest=$4
  local file=$name-$version.crate src="" origin f got
  for f in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$file"; do
    if [ -f "$f" ]; then src=$f origin=$f pristine_from="Cargo's cache"; break; fi
  done
  if [ -z "$src" ]; then
    local url=https://static.crates.io/crates/$name/$file
    command -v curl > /dev/null || die "$name $version: $file is not in Cargo's cache and curl is not installed to download $url"
    curl -fsSL --retry 3 -o "$dest/$file" "$url" \
      || die "$name $version: $file is not in Cargo's cache and downloading $url failed"
    src=$dest/$file origin=$url pristine_from=crates.io
  fi
  got=$(sha256sum "$src" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || die "$name $version: $origin has sha256 $got, vendor/upstream.txt says $sum"
  tar -xzf "$src" -C "$dest" || die "$name $version: could not unpack $origin"
  [ -d "$dest/$name-$version" ] || die "$name $version: $origin does not unpack to $name-$version/"
}

strip_ignored() {
  local dir=$1 f
  for f in "${vendor_ignored[@]}"; do rm -f "$dir/$f"; done
}
