#!/usr/bin/env python3
"""Test suites and tests are named in snake_case, as a sentence: `TEST(media_policy,
refuses_multicast)` reads as "media policy refuses multicast" in ctest's output.

usage: check_test_names.py SOURCE_DIR"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
macro = re.compile(r"\b(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\(\s*(\w+)\s*,\s*(\w+)\s*\)")
snake = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

bad = []
count = 0
for folder in ("tests", "bench"):
    for path in sorted((root / folder).rglob("*.[ch]pp")):
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for m in macro.finditer(line):
                count += 1
                for name in m.groups():
                    if not snake.match(name):
                        bad.append(f"{path.relative_to(root)}:{n}: {name} is not snake_case")
for b in bad:
    print(b)
print(f"{count} tests checked")
sys.exit(1 if bad or count == 0 else 0)
