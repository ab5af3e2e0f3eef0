#!/usr/bin/env python3
"""Checks the shape rules of docs/ENGINE.md on ferry-core: file and method lengths, package cycles.

    tools/engine-shape.py            # after ./mvnw -B -pl ferry-core compile

Prints every main file over its line limit, every method over 60 lines (counted from its
signature line to its closing brace, by brace matching on the source with strings and comments
skipped), and every cycle between ferry-core's packages as jdeps sees them in the compiled classes.
A cycle that runs only through the API package (an engine class implementing a public sealed
interface, or a public interface's static factory naming its internal implementation) is listed
apart: those are the allowed kind. Exit status 1 if anything else is found.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "ferry-core", "src", "main", "java")
CLASSES = os.path.join(ROOT, "ferry-core", "target", "classes")
FILE_LIMIT = 600
TRANSPORT_LIMIT = 700  # the socket and TLS transports
METHOD_LIMIT = 60

SIGNATURE = re.compile(
    r"^\s*(?:@\w+\s+)*(?:(?:public|protected|private|static|final|abstract|synchronized|default)\s+)*"
    r"(?:<[^>]+>\s+)?[\w<>\[\], .?]+\s+(\w+)\s*\([^;]*$|"
    r"^\s*(?:(?:public|protected|private)\s+)?([A-Z]\w*)\s*\([^;]*$")


def strip(line, state):
    """The line without string, char literals and comments; state carries block comments."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state["block"]:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out)
            state["block"], i = False, end + 2
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"], i = True, i + 2
            continue
        if line.startswith('"""', i):
            end = line.find('"""', i + 3)
            i = n if end < 0 else end + 3
            continue
        if c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def long_methods(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    state = {"block": False}
    code = [strip(l, state) for l in lines]
    found = []
    for start, line in enumerate(code):
        m = SIGNATURE.match(line)
        if not m or re.match(r"^\s*(if|for|while|switch|catch|return|new|else|try|throw|case|assert|record|class|interface|enum)\b|^\s*(?:\w+\s+)*(record|class|interface|enum)\b", line):
            continue
        # find the opening brace of the body (the signature may span lines), then its match
        depth, opened = 0, False
        for i in range(start, min(len(code), start + 400)):
            for ch in code[i]:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
                elif ch == ";" and not opened and depth == 0:
                    break
            else:
                if opened and depth == 0:
                    length = i - start + 1
                    if length > METHOD_LIMIT:
                        found.append((start + 1, m.group(1) or m.group(2), length))
                    break
                continue
            break
    return found


def package_cycles():
    jars = [os.path.join(d, f) for d, _, fs in os.walk(os.path.expanduser("~/.m2/repository/com/kohlschutter"))
            for f in fs if f.endswith(".jar") and "2.10.1" in f]
    out = subprocess.run(["jdeps", "--multi-release", "17", "--module-path", os.pathsep.join(jars), "-verbose:package",
                          "-filter:none", CLASSES],
                         capture_output=True, text=True).stdout
    edges = {}
    for line in out.splitlines():
        m = re.match(r"\s+(dev\.ferry[\w.]*)\s+->\s+(dev\.ferry[\w.]*)\s", line)
        if m and m.group(1) != m.group(2):
            edges.setdefault(m.group(1), set()).add(m.group(2))
    # Tarjan's strongly connected components
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return comps, edges


def main():
    bad = 0
    for dirpath, _, files in os.walk(SRC):
        for f in sorted(files):
            if not f.endswith(".java"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, ROOT)
            n = sum(1 for _ in open(path, encoding="utf-8"))
            limit = TRANSPORT_LIMIT if f in ("SocketTransport.java", "TlsTransport.java") else FILE_LIMIT
            if n > limit:
                print(f"file over {limit} lines: {rel} ({n})")
                bad += 1
            for line, name, length in long_methods(path):
                print(f"method over {METHOD_LIMIT} lines: {rel}:{line} {name} ({length})")
                bad += 1
    if os.path.isdir(CLASSES):
        comps, edges = package_cycles()
        for comp in comps:
            engine = [p for p in comp if ".internal" in p]
            # Cycles through the API packages are the allowed kind only if, with the API packages
            # taken out, no engine packages still form a cycle among themselves.
            inner = {p: {q for q in edges.get(p, ()) if q in engine} for p in engine}
            sub = [p for p in engine if any(p in inner.get(q, ()) for q in engine)]
            kind = "engine cycle" if _has_cycle(inner) else "through the API (allowed kind)"
            print(f"package cycle, {kind}: {' <-> '.join(comp)}")
            if kind == "engine cycle":
                bad += 1
    else:
        print("no compiled classes: build ferry-core first for the package check")
    return 1 if bad else 0


def _has_cycle(graph):
    seen, active = set(), set()

    def dfs(v):
        seen.add(v)
        active.add(v)
        for w in graph.get(v, ()):
            if w in active or (w not in seen and dfs(w)):
                return True
        active.discard(v)
        return False

    return any(dfs(v) for v in graph if v not in seen)


if __name__ == "__main__":
    sys.exit(main())
