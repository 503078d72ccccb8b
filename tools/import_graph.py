#!/usr/bin/env python3
"""The crate's file-level import graph, and the structure rules it must keep (issue #24).

Reads every `src/**/*.rs`, maps each file to its module path (the library's `src/lib.rs` tree, and the
binary's `src/main.rs` + `src/cli/` tree, whose `trgl::` paths point into the library), and collects each
file's references to other modules of the crate: `use crate::…`, `use super::…`, `use self::…`, a `use`
of a child module, and paths written in code (`crate::x::y`, `super::z`). A path maps to the module file
that defines it: the longest prefix that is a module, then, when the next segment is an item that module
re-exports (`pub use child::Item`), on to the file that re-export names.

Granularity: files. A `pub use` and a `pub mod` line are not counted as a dependency of the file that
holds them (unless that file's own code uses the name): they make a name visible, while the code that
needs the item is the user's, which the
re-export resolution above sends straight to the defining file. Without that rule every `mod.rs` that
re-exports from a child that uses `super::…` would be a circle; with it, a circle between a `mod.rs` and
its child means that code in each really needs the other, which the rule is meant to catch (coarser
granularity, one node per folder, would instead make a circle of `config` and every module whose section
`config` assembles, which is the layout the rule asks for).

Rules, each failing the run (exit 1):
- no circle: a strongly connected component of more than one file;
- no source file over 300 lines;
- `src/config.rs` imports no module of `crate::train`, `crate::model`, `crate::data` or
  `crate::transport` other than their `config` submodules.

Usage: python3 tools/import_graph.py [--dot]   (run from anywhere; the crate is this file's ../)
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
MAX_LINES = 300
SECTION_OWNERS = ("train", "model", "data", "transport")

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_files():
    """{(crate, module path tuple): file relative to the repository} for both crates."""
    modules = {}
    for dirpath, _, names in os.walk(SRC):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), SRC)
            parts = rel[:-3].split(os.sep)
            if parts == ["lib"]:
                key = ("lib", ())
            elif parts == ["main"]:
                key = ("bin", ())
            else:
                if parts[-1] == "mod":
                    parts = parts[:-1]
                crate = "bin" if parts[0] == "cli" else "lib"
                key = (crate, tuple(parts))
            modules[key] = os.path.relpath(os.path.join(dirpath, name), ROOT)
    return modules


def strip_comments(text):
    """The text without `//` comments (doc comments included: an intra-doc link is not an import)."""
    out = []
    for line in text.splitlines():
        i = 0
        in_str = False
        while i < len(line):
            c = line[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif line.startswith("//", i):
                line = line[:i]
                break
            i += 1
        out.append(line)
    return out


def expand_use(tree):
    """`a::{b, c::{d, self}}` → [["a","b"], ["a","c","d"], ["a","c"]] (glob `*` kept as a segment)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)  # `X as Y` uses X
    tree = re.sub(r"\s+", "", tree)

    def split_top(s):
        depth, start, parts = 0, 0, []
        for i, c in enumerate(s):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "," and depth == 0:
                parts.append(s[start:i])
                start = i + 1
        parts.append(s[start:])
        return [p for p in parts if p]

    def walk(prefix, s):
        brace = s.find("{")
        if brace < 0:
            segs = [x for x in s.split("::") if x]
            if segs == ["self"]:
                return [prefix]
            return [prefix + segs]
        head = [x for x in s[:brace].split("::") if x]
        inner = s[brace + 1 : s.rfind("}")]
        result = []
        for part in split_top(inner):
            result += walk(prefix + head, part)
        return result

    return walk([], tree)


def parse_file(lines):
    """(uses, reexports, code paths): `use` trees as (is_pub, path segments, inline-module depth), and
    the `crate::`/`super::`/`self::`/`trgl::` paths written in code, each with its inline-module depth."""
    uses, paths, code = [], [], []
    stack = []  # brace depths at which an inline `mod name {` opened
    depth = 0
    buffer, buffer_pub, buffer_depth = None, False, 0
    for line in lines:
        stripped = line.strip()
        if buffer is not None:
            buffer += " " + stripped
            if ";" in stripped:
                body = buffer[: buffer.index(";")]
                for segs in expand_use(body):
                    uses.append((buffer_pub, segs, buffer_depth))
                buffer = None
            continue
        m = re.match(r"(pub(\([^)]*\))?\s+)?use\s+(.*)", stripped)
        if m:
            is_pub = m.group(1) is not None
            rest = m.group(3)
            if ";" in rest:
                for segs in expand_use(rest[: rest.index(";")]):
                    uses.append((is_pub, segs, len(stack)))
            else:
                buffer, buffer_pub, buffer_depth = rest, is_pub, len(stack)
            continue
        if re.match(r"(pub(\([^)]*\))?\s+)?mod\s+" + IDENT + r"\s*\{", stripped):
            stack.append(depth)
        code.append(line)
        for pm in re.finditer(r"(?<![A-Za-z0-9_:])((?:crate|super|self|trgl)(?:::" + IDENT + r")+)", line):
            paths.append((pm.group(1).split("::"), len(stack)))
        depth += line.count("{") - line.count("}")
        while stack and depth <= stack[-1]:
            stack.pop()
    return uses, paths, "\n".join(code)


def main():
    dot = "--dot" in sys.argv[1:]
    modules = module_files()
    by_file = {f: key for key, f in modules.items()}
    parsed = {}
    for key, f in modules.items():
        with open(os.path.join(ROOT, f), encoding="utf-8") as fh:
            text = fh.read()
        parsed[f] = (text.count("\n") + (0 if text.endswith("\n") or not text else 1), parse_file(strip_comments(text)))

    def absolute(key, segs, inline):
        """A path's segments from its crate's root, as (crate, segments); None when it leaves the crate."""
        crate, here = key
        here = list(here)
        if not segs:
            return None
        first = segs[0]
        if first == "trgl":
            return ("lib", list(segs[1:]))
        if first == "crate":
            return (crate, list(segs[1:]))
        # Inside an inline module, `self`/`super` start from it; its items are the file's own.
        if first in ("self", "super"):
            level = 0
            rest = list(segs)
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    level += 1
                rest.pop(0)
            level = max(0, level - inline)
            base = here[: len(here) - level] if level else here
            return (crate, base + rest)
        # A `use` that starts with a child module of this one.
        if (crate, tuple(here + [first])) in modules:
            return (crate, here + list(segs))
        return None

    reexports = {}  # (crate, module) → {name: (crate, segments)}
    for key, f in modules.items():
        for is_pub, segs, inline in parsed[f][1][0]:
            if is_pub and inline == 0 and segs and segs[-1] != "*":
                target = absolute(key, segs, inline)
                if target:
                    reexports.setdefault(key, {})[segs[-1]] = target

    def resolve(crate, segs, seen=()):
        """The file defining `segs` (longest module prefix, then through re-exports)."""
        for n in range(len(segs), -1, -1):
            key = (crate, tuple(segs[:n]))
            if key in modules:
                if n < len(segs):
                    target = reexports.get(key, {}).get(segs[n])
                    if target and (key, segs[n]) not in seen:
                        return resolve(target[0], target[1], seen + ((key, segs[n]),))
                return modules[key]
        return None

    graph = {f: set() for f in modules.values()}
    for key, f in modules.items():
        uses, paths, code = parsed[f][1]
        # A re-export counts where this file's own code uses the name too.
        used = lambda segs: bool(segs) and re.search(r"(?<![A-Za-z0-9_])" + re.escape(segs[-1]) + r"(?![A-Za-z0-9_])", code)
        refs = [(segs, inline) for is_pub, segs, inline in uses if not (is_pub and inline == 0) or used(segs)]
        refs += paths
        for segs, inline in refs:
            segs = [s for s in segs if s != "*"]
            target = absolute(key, segs, inline)
            if not target:
                continue
            to = resolve(*target)
            if to and to != f:
                graph[f].add(to)

    failed = False
    if dot:
        print("digraph trgl {")
        for f in sorted(graph):
            for t in sorted(graph[f]):
                print(f'  "{f}" -> "{t}";')
        print("}")
    else:
        print("import graph (file -> files it uses):")
        for f in sorted(graph):
            print(f"  {f} -> {', '.join(sorted(graph[f])) or '(nothing)'}")

    out = sys.stderr if dot else sys.stdout
    circles = strongly_connected(graph)
    print(f"\ncircles (import cycles of more than one file): {len(circles)}", file=out)
    for c in circles:
        failed = True
        print("  " + " <-> ".join(sorted(c)), file=out)

    long_files = sorted((n, f) for f, (n, _) in parsed.items() if n > MAX_LINES)
    print(f"\nfiles over {MAX_LINES} lines: {len(long_files)}", file=out)
    for n, f in long_files:
        failed = True
        print(f"  {f}: {n}", file=out)

    violations = []
    config_key = ("lib", ("config",))
    if config_key in modules:
        f = modules[config_key]
        for segs, inline in [(s, i) for _, s, i in parsed[f][1][0]] + parsed[f][1][1]:
            target = absolute(config_key, segs, inline)
            if not target or target[0] != "lib" or not target[1] or target[1][0] not in SECTION_OWNERS:
                continue
            to = resolve(*target)
            if to and not ("config" in by_file[to][1][1:]):
                violations.append(f"{'::'.join(['crate'] + target[1])} ({to})")
    print(f"\nsrc/config.rs imports of section owners other than their config modules: {len(violations)}", file=out)
    for v in sorted(set(violations)):
        failed = True
        print(f"  {v}", file=out)

    print("\nresult: " + ("FAIL" if failed else "ok"), file=out)
    return 1 if failed else 0


def strongly_connected(graph):
    """Tarjan's algorithm, iteratively; the components of more than one node, each sorted."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return sorted(comps)


if __name__ == "__main__":
    sys.exit(main())
