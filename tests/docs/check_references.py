#!/usr/bin/env python3
"""Every reference from the tree to docs/architecture.md names a section that exists there,
and nothing cites a document that a clone of the repository does not have.

usage: check_references.py SOURCE_DIR"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
arch = (root / "docs" / "architecture.md").read_text()
sections = set(re.findall(r"^## (\d+)\. ", arch, re.M))

SUFFIXES = {".cpp", ".hpp", ".h", ".txt", ".cmake", ".md", ".yaml", ".yml", ".sh", ".py", ".js",
            ".json", ".service", ".in"}
SKIP = {"build", "node_modules", ".git"}
# Documents that live outside the repository; a comment citing them cannot be followed.
foreign = re.compile(r"\b(DESIGN|STYLE|INTEROP)\.md\b")
cite = re.compile(r"architecture\.md\s*§\s*(\d+)")

errors = []
checked = 0
for path in root.rglob("*"):
    if not path.is_file() or path.suffix not in SUFFIXES:
        continue
    if any(part in SKIP for part in path.relative_to(root).parts):
        continue
    if path.resolve() == pathlib.Path(__file__).resolve():
        continue
    text = path.read_text(errors="replace")
    for n, line in enumerate(text.splitlines(), 1):
        where = f"{path.relative_to(root)}:{n}"
        if foreign.search(line):
            errors.append(f"{where}: cites a document that is not in the repository: {line.strip()}")
        for m in cite.finditer(line):
            checked += 1
            if m.group(1) not in sections:
                errors.append(f"{where}: docs/architecture.md has no section {m.group(1)}")

if checked == 0:
    errors.append("no reference to docs/architecture.md found: is the pattern still right?")
for e in errors:
    print(e)
print(f"{checked} references checked against sections {sorted(sections, key=int)}")
sys.exit(1 if errors else 0)
