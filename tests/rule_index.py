"""Which tests name which rule of DOMAIN.md: `python -m tests.rule_index` prints `R-ID  file::test` lines, sorted.

A rule is named by a test's function name (`test_r_sub_1_…` is R-SUB-1; `r_cus_state` is R-CUS-STATE; the rules
without a number, `r_billstart`, `r_pre` and `r_dial`, are R-BILLSTART, R-PRE and R-DIAL) or by its docstring
(`R-ORG-6`). Used to show that a reshaping of the suite keeps at least one test for every rule id.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent
_IN_NAME = re.compile(r"(?:^|_)r_([a-z]+)_(\d+|state)(?=_|$)")
_IN_TEXT = re.compile(r"\bR-([A-Z]+)-(\d+|STATE)\b")
# Rules whose id has no number (DOMAIN.md: R-BILLSTART, R-PRE, R-DIAL).
_BARE = ("billstart", "pre", "dial")
_BARE_IN_NAME = re.compile(r"(?:^|_)r_(" + "|".join(_BARE) + r")(?=_|$)")
_BARE_IN_TEXT = re.compile(r"\bR-(" + "|".join(b.upper() for b in _BARE) + r")\b(?!-)")


def rule_ids(name: str, docstring: str | None) -> set[str]:
    found = {f"R-{a.upper()}-{b.upper()}" for a, b in _IN_NAME.findall(name)}
    found |= {f"R-{a}-{b}" for a, b in _IN_TEXT.findall(docstring or "")}
    found |= {f"R-{a.upper()}" for a in _BARE_IN_NAME.findall(name)}
    found |= {f"R-{a}" for a in _BARE_IN_TEXT.findall(docstring or "")}
    return found


def index(root: Path = TESTS) -> dict[str, list[str]]:
    rules: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                for rule in rule_ids(node.name, ast.get_docstring(node)):
                    rules[rule].append(f"{path.relative_to(root.parent)}::{node.name}")
    return rules


def main() -> int:
    rules = index()
    for rule in sorted(rules):
        for test in sorted(rules[rule]):
            print(f"{rule}\t{test}")
    print(f"# {len(rules)} rule ids, {sum(map(len, rules.values()))} tests naming them", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
