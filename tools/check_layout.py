#!/usr/bin/env python3
"""Checks the checkout's layout rules (issue 22): README length, function length in src/,
the module dependency order of #includes, and the module libraries CMake builds.

  tools/check_layout.py [--root DIR] [--max-function 110] [--max-readme 250] [--list N]

Exit 0 when every rule holds, 1 otherwise (each violation printed on its own line).
The module order (lowest first) is MODULES below; a file of module M may include its own
module and any module listed before M, never one after it. CMakeLists.txt's KWS_MODULES (one
library per module) must list the src/ modules in that order, and the README's module line
("Modules, lowest first: a → b → …") must name the same modules in the same order.
"""
import argparse
import os
import re
import sys

MODULES = ["util", "audio", "features", "tflite", "runtime", "data", "synth", "layers", "model", "train",
           "export", "stream", "recipe", "report", "bench", "search", "quickstart", "cli"]


def strip_code(text):
    """Blanks out comments, string and char literals (keeps newlines and braces of code)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j + 1]))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    """(name, first line, line count) of every function body at namespace or class level."""
    code = strip_code(open(path, encoding="utf-8", errors="replace").read())
    result, depth, scopes = [], 0, []  # scopes: stack of (kind, start_line, name)
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            head = code[max(0, i - 400):i]
            head = head[head.rfind(";") + 1:] if ";" in head else head
            inside_fn = any(k == "fn" for k, _, _ in scopes)
            m = re.search(r"([~\w:<>]+)\s*\([^;{}]*\)\s*(const|noexcept|override|final|mutable|->\s*[\w:<>,\s*&]+|\s)*$",
                          head)
            is_fn = (not inside_fn and m is not None and
                     not re.search(r"\b(if|for|while|switch|catch|return)\s*\([^()]*\)?\s*$", head.strip()))
            if is_fn and m.group(1) in ("if", "for", "while", "switch", "catch"):
                is_fn = False
            scopes.append(("fn" if is_fn else "block", line, m.group(1) if is_fn else ""))
        elif c == "}" and scopes:
            kind, start, name = scopes.pop()
            if kind == "fn":
                result.append((name, start, line - start + 1))
    return result


def module_of(rel):
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "src" else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--max-function", type=int, default=110)
    ap.add_argument("--max-readme", type=int, default=250)
    ap.add_argument("--min-modules", type=int, default=10)
    ap.add_argument("--list", type=int, default=0, help="also print the N longest functions")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    bad = []

    readme = sum(1 for _ in open(os.path.join(root, "README.md"), encoding="utf-8"))
    if readme > a.max_readme:
        bad.append(f"README.md: {readme} lines (at most {a.max_readme})")

    all_fns = []
    for dirpath, _, files in os.walk(os.path.join(root, "src")):
        for f in sorted(files):
            if not f.endswith((".cc", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            for name, start, n in functions(path):
                all_fns.append((n, f"{rel}:{start}", name))
                if n > a.max_function:
                    bad.append(f"{rel}:{start}: function {name} is {n} lines (at most {a.max_function})")
            mod = module_of(rel)
            if mod not in MODULES:
                bad.append(f"{rel}: module '{mod}' is not in the module order")
                continue
            for k, text in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                m = re.match(r'\s*#\s*include\s+"([\w]+)/', text)
                if not m or m.group(1) not in MODULES:
                    continue
                if MODULES.index(m.group(1)) > MODULES.index(mod):
                    bad.append(f"{rel}:{k}: {mod} includes {m.group(1)} (a higher module)")

    cmake = open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8").read()
    present = [m for m in MODULES if os.path.isdir(os.path.join(root, "src", m))]
    m = re.search(r"set\(KWS_MODULES\s+([^)]*)\)", cmake)
    cmake_modules = [x for x in (m.group(1).split() if m else []) if os.path.isdir(os.path.join(root, "src", x))]
    libs = set(re.findall(r"add_library\(\s*kws_(\w+)", cmake)) | set(cmake_modules)
    libs &= set(MODULES)
    if len(libs) < a.min_modules:
        bad.append(f"CMakeLists.txt: {len(libs)} module libraries (at least {a.min_modules})")
    if cmake_modules and cmake_modules + ["cli"] != present:
        bad.append(f"CMakeLists.txt: KWS_MODULES {cmake_modules} + cli is not the module order {present}")
    readme_text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    m = re.search(r"Modules, lowest first[^:]*:\s*([^\n]+)", readme_text)
    named = [x.strip(" `.") for x in m.group(1).split("→")] if m else []
    if named != present:
        bad.append(f"README.md: the module line names {named or 'nothing'}, not the module order {present}")

    if a.list:
        for n, where, name in sorted(all_fns, reverse=True)[:a.list]:
            print(f"{n:5d}  {where}  {name}")
    for b in bad:
        print(b)
    print(f"check_layout: {len(bad)} problem(s); README {readme} lines; longest function "
          f"{max(all_fns)[0] if all_fns else 0} lines; {len(libs)} module libraries", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
