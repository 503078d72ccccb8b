#!/usr/bin/env bash
# Rewrites vendor/NAME.diff from the vendored copy vendor/NAME: the difference between the published .crate of
# the version in vendor/upstream.txt and the copy. Run it after changing a vendored file, so that the diff a
# reviewer reads is what is built; tools/vendor_check.sh then checks the two agree.
#
#   bash tools/vendor_diff.sh              # every crate in vendor/upstream.txt
#   bash tools/vendor_diff.sh burn-flex    # only these
set -euo pipefail
# shellcheck source=tools/vendor_lib.sh
source "$(dirname "$0")/vendor_lib.sh"

command -v git > /dev/null || die "git is needed to write the diffs"
read_upstream
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

wanted=("$@")
for want in "${wanted[@]}"; do
  found=0
  for name in "${names[@]}"; do [ "$name" = "$want" ] && found=1; done
  [ "$found" = 1 ] || die "$want is not listed in vendor/upstream.txt (listed: ${names[*]})"
done

for i in "${!names[@]}"; do
  name=${names[$i]} version=${versions[$i]}
  if [ "${#wanted[@]}" -gt 0 ]; then
    skip=1
    for want in "${wanted[@]}"; do [ "$want" = "$name" ] && skip=0; done
    [ "$skip" = 0 ] || continue
  fi
  [ -d "$vendor/$name" ] || die "$name $version: vendor/$name not found"
  work=$tmp/$name
  mkdir -p "$work"
  fetch_pristine "$name" "$version" "${sums[$i]}" "$work"
  # Trees named a and b, diffed with empty prefixes: the paths come out as a/src/... and b/src/..., which
  # `patch -p1` (the check) applies inside the unpacked crate.
  mv "$work/$name-$version" "$work/a"
  cp -R "$vendor/$name" "$work/b"
  strip_ignored "$work/a"
  strip_ignored "$work/b"
  # Git's defaults only (no user or system configuration: a diff.noprefix or diff.algorithm setting would
  # change the file), so the same copy always gives the same diff.
  rc=0
  (cd "$work" && GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git diff --no-index --no-color --no-ext-diff \
    --no-textconv --no-renames --src-prefix= --dst-prefix= a b) > "$work/raw.diff" || rc=$?
  [ "$rc" -le 1 ] || die "$name $version: git diff failed (exit $rc)"
  # A new file's header names it b/X twice, a deleted one a/X twice (the empty prefixes); git's own form is
  # a/X b/X, which the diffs have always had.
  sed -e 's#^diff --git b/\(.*\) b/\1$#diff --git a/\1 b/\1#' -e 's#^diff --git a/\(.*\) a/\1$#diff --git a/\1 b/\1#' \
    "$work/raw.diff" > "$work/out.diff"
  [ "$rc" = 1 ] || echo "$(basename "$0"): warning: vendor/$name is identical to the published $name $version" >&2
  if grep -q '^Binary files ' "$work/out.diff"; then
    die "$name $version: the copy changes a binary file ($(grep '^Binary files ' "$work/out.diff" | head -1)), which patch(1) cannot apply"
  fi
  mv "$work/out.diff" "$vendor/$name.diff"
  echo "vendor_diff: wrote vendor/$name.diff against the published $name $version ($pristine_from), files changed: $(grep -c '^diff --git ' "$vendor/$name.diff")"
done
