#!/usr/bin/env bash
# Checks that every vendored crate is exactly what vendor/README.md says it is: the published .crate of the
# version in vendor/upstream.txt plus vendor/NAME.diff, nothing else — so the diffs are a complete, reviewable
# account of the fork, and Cargo.lock really builds the copies. Exit 1 naming each differing file.
# Files Cargo adds when packaging or unpacking (tools/vendor_lib.sh, `vendor_ignored`) are not compared.
# After a deliberate change to a vendored file: bash tools/vendor_diff.sh NAME, then this again.
set -euo pipefail
# shellcheck source=tools/vendor_lib.sh
source "$(dirname "$0")/vendor_lib.sh"

command -v patch > /dev/null || die "patch(1) is needed to apply the diffs (Debian/Ubuntu: apt-get install patch)"
read_upstream
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
  echo "vendor_check: FAIL $*"
  failed=1
}

# A copy nobody lists would be built without being checked.
for dir in "$vendor"/*/; do
  dir_name=$(basename "$dir")
  listed=0
  for name in "${names[@]}"; do [ "$name" = "$dir_name" ] && listed=1; done
  [ "$listed" = 1 ] || fail "vendor/$dir_name is not listed in vendor/upstream.txt"
done

for i in "${!names[@]}"; do
  name=${names[$i]} version=${versions[$i]}
  copy=$vendor/$name
  if [ ! -d "$copy" ]; then fail "$name $version: vendor/$name not found"; continue; fi
  if [ ! -f "$vendor/$name.diff" ]; then fail "$name $version: vendor/$name.diff not found"; continue; fi

  # The copy is only what trgl builds if Cargo.toml patches it in and Cargo.lock took it: a patched package is
  # locked without a `source` line (a registry package has one).
  if ! grep -Fqx "$name = { path = \"vendor/$name\" }" "$root/Cargo.toml"; then
    fail "$name $version: Cargo.toml's [patch.crates-io] has no line '$name = { path = \"vendor/$name\" }'"
  fi
  if ! awk -v head="name = \"$name\"\nversion = \"$version\"\n" \
    'index($0 "\n", head) && $0 !~ /\nsource = / { found = 1 } END { exit !found }' RS= "$root/Cargo.lock"; then
    fail "$name $version: Cargo.lock has no $name $version from a path (is vendor/$name's version $version, and the lock up to date?)"
  fi

  work=$tmp/$name
  mkdir -p "$work"
  fetch_pristine "$name" "$version" "${sums[$i]}" "$work"
  expected=$work/$name-$version
  if ! patch -d "$expected" -p1 -s -f --fuzz=0 --no-backup-if-mismatch < "$vendor/$name.diff" > "$work/patch.log" 2>&1; then
    fail "$name $version: vendor/$name.diff does not apply cleanly to the published crate:"
    sed 's/^/    /' "$work/patch.log"
    continue
  fi
  actual=$work/copy
  cp -R "$copy" "$actual"
  strip_ignored "$expected"
  strip_ignored "$actual"

  rc=0
  diff -rq "$expected" "$actual" > "$work/diff.txt" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    echo "vendor_check: ok $name $version: vendor/$name = published .crate (sha256 ${sums[$i]:0:12}…, from $pristine_from) + vendor/$name.diff (files changed: $(grep -c '^diff --git ' "$vendor/$name.diff"))"
    continue
  fi
  while IFS= read -r line; do
    case $line in
      "Files $expected/"*" and $actual/"*" differ")
        rel=${line#"Files $expected/"}
        rel=${rel%% and "$actual/"*}
        fail "$name $version: vendor/$name/$rel differs from the published crate + vendor/$name.diff" ;;
      "Only in $actual"*)
        rel=${line#"Only in $actual"}
        rel=${rel#/}
        rel=${rel/: //}
        rel=${rel#/}
        fail "$name $version: vendor/$name/$rel is not in the published crate + vendor/$name.diff" ;;
      "Only in $expected"*)
        rel=${line#"Only in $expected"}
        rel=${rel#/}
        rel=${rel/: //}
        rel=${rel#/}
        fail "$name $version: vendor/$name/$rel is missing (the published crate + vendor/$name.diff has it)" ;;
      *)
        fail "$name $version: ${line//$work\//}" ;;
    esac
  done < "$work/diff.txt"
done

if [ "$failed" != 0 ]; then
  echo "vendor_check: the vendored copies and their diffs disagree; if a copy's change is meant, rewrite its diff with" \
    "'bash tools/vendor_diff.sh NAME' (vendor/README.md)" >&2
  exit 1
fi
