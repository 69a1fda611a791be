"""The rule index: for every policy rule id of ``docs/policy.md`` (S1 … K3), the functions that enforce
it and the tests that check it, found by the ids the code and the tests cite.

Each rule is *decided* by exactly one function (or, for a fixed vocabulary, one enum) marked
``@decides("…")`` (``shared.policy_rules.decides``); the index names it first. Everything else that cites
the rule applies it, describes it or checks it.

``python -m shared.rule_index write`` rewrites ``docs/rule-index.md``; ``check`` (used by the test suite)
fails when the committed index is stale, when a rule has no code or no test citing it, or when it has no
deciding function or more than one.

A citation is a rule id as a word (``C6``, ``H8``; ranges such as ``C4–C9`` count for every id in them)
in a comment, docstring, string or name. It is attributed to the innermost function or class around it,
or to the module when it stands at module level.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "docs" / "policy.md"
INDEX = ROOT / "docs" / "rule-index.md"
CODE_DIRS = ("services", "shared")
RULE_HEADING = re.compile(r"^- \*\*([SPHCEK]\d{1,2})\*\*", re.MULTILINE)
CITATION = re.compile(r"(?<![A-Za-z0-9_])([SPHCEK])(\d{1,2})(?:\s*[–-]\s*\1?(\d{1,2}))?(?![0-9])")


@dataclass
class Rule:
    id: str
    deciders: set[str] = field(default_factory=set)
    code: set[str] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)


def rule_ids() -> list[str]:
    return RULE_HEADING.findall(POLICY.read_text(encoding="utf-8"))


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


def _python_files() -> list[Path]:
    files = [
        p
        for d in CODE_DIRS
        for p in (ROOT / d).rglob("*.py")
        if "migrations" not in p.parts and p != Path(__file__).resolve()
    ]
    files += (ROOT / "tests").rglob("*.py")
    return sorted(files)


def _scopes(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outermost first."""
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                found.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _decided(tree: ast.Module, module: str) -> list[tuple[str, str]]:
    """(rule id, function) for every ``@decides("…")`` in the module."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                for decorator in child.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    callee = call.func if call else None
                    if isinstance(callee, ast.Name) and callee.id == "decides" and call is not None:
                        found.extend(
                            (arg.value, f"{module}.{name}")
                            for arg in call.args
                            if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        )
                visit(child, name + ".")

    visit(tree, "")
    return found


def _cited(line: str, known: set[str]) -> set[str]:
    ids: set[str] = set()
    for letter, first, last in CITATION.findall(line):
        numbers = range(int(first), int(last) + 1) if last else [int(first)]
        ids |= {f"{letter}{n}" for n in numbers} & known
    return ids


def build() -> dict[str, Rule]:
    known = rule_ids()
    rules = {rule: Rule(rule) for rule in known}
    for path in _python_files():
        source = path.read_text(encoding="utf-8")
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        tree = ast.parse(source)
        scopes = _scopes(tree)
        if not _is_test(path):
            for rule, where in _decided(tree, module):
                if rule in rules:
                    rules[rule].deciders.add(where)
        for number, line in enumerate(source.splitlines(), start=1):
            ids = _cited(line, set(known))
            if not ids:
                continue
            inner = [name for first, last, name in scopes if first <= number <= last]
            where = f"{module}.{inner[-1]}" if inner else module
            for rule in ids:
                (rules[rule].tests if _is_test(path) else rules[rule].code).add(where)
    return rules


def render(rules: dict[str, Rule]) -> str:
    lines = [
        "# Rule index",
        "",
        "Generated by `python -m shared.rule_index write` from the rule ids the code and the tests cite; a test",
        "fails when it is stale or when a rule of [`policy.md`](policy.md) has no code or no test. Each entry is",
        "a module path and the function or class that cites the rule. **Decided by** is the one function (or enum,",
        "for a fixed vocabulary) marked `@decides` for the rule: start there.",
        "",
    ]
    for rule in rules.values():
        lines.append(f"## {rule.id}")
        lines.append("")
        lines.append("Decided by: " + (", ".join(f"`{where}`" for where in sorted(rule.deciders)) or "(nothing)"))
        lines.append("")
        lines.append("Enforced in:")
        lines += [f"- `{where}`" for where in sorted(rule.code)] or ["- (nothing)"]
        lines.append("")
        lines.append("Checked by:")
        lines += [f"- `{where}`" for where in sorted(rule.tests)] or ["- (nothing)"]
        lines.append("")
    return "\n".join(lines)


def gaps(rules: dict[str, Rule]) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = defaultdict(list)
    for rule in rules.values():
        if not rule.code:
            missing["no code"].append(rule.id)
        if not rule.tests:
            missing["no test"].append(rule.id)
        if len(rule.deciders) != 1:
            missing["not decided by exactly one function"].append(rule.id)
    return dict(missing)


def main(argv: list[str]) -> int:
    rules = build()
    if argv == ["write"]:
        INDEX.write_text(render(rules), encoding="utf-8")
        print(f"wrote {INDEX.relative_to(ROOT)}")  # noqa: T201 - a command-line tool
        return 0
    if argv == ["check"]:
        problems = gaps(rules)
        if not INDEX.exists() or INDEX.read_text(encoding="utf-8") != render(rules):
            problems["stale"] = [str(INDEX.relative_to(ROOT))]
        print(problems or "ok")  # noqa: T201
        return 1 if problems else 0
    print("usage: python -m shared.rule_index (write|check)", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
