"""A compound rule's ``statement``: ``and``, ``or``, ``xor`` over two or more arguments, ``not``
over one, arguments being rule names or further operations, e.g.
``or(and(SeriousPlayers, VeryCloseSkill), and(CasualPlayers, SomewhatCloseSkill))``."""

from __future__ import annotations

from typing import Literal, cast

from lobby.flexmatch.ruleset.model import Call, RuleRef, Statement

OPERATORS = ("and", "or", "not", "xor")


class StatementError(ValueError):
    """A statement that cannot be read."""


def parse_statement(text: str) -> Statement:
    """Parse a compound statement; raise :class:`StatementError` when it is malformed."""
    pos = 0

    def ws() -> None:
        nonlocal pos
        while pos < len(text) and text[pos].isspace():
            pos += 1

    def node(depth: int) -> Statement:
        nonlocal pos
        if depth > 32:
            raise StatementError("nests operations more than 32 deep")
        ws()
        start = pos
        while pos < len(text) and text[pos] not in "(),":
            pos += 1
        word = text[start:pos].strip()
        ws()
        if pos < len(text) and text[pos] == "(":
            if word not in OPERATORS:
                raise StatementError(f"uses {word!r}, which is not one of and, or, not, xor")
            pos += 1
            args = [node(depth + 1)]
            ws()
            while pos < len(text) and text[pos] == ",":
                pos += 1
                args.append(node(depth + 1))
                ws()
            if pos >= len(text) or text[pos] != ")":
                raise StatementError(f"leaves {word}( without its closing ')'")
            pos += 1
            if word == "not" and len(args) != 1:
                raise StatementError(f"gives not {len(args)} arguments; not takes exactly one")
            if word != "not" and len(args) < 2:
                raise StatementError(f"gives {word} {len(args)} argument; {word} takes two or more")
            return Call(cast(Literal["and", "or", "not", "xor"], word), tuple(args))
        if not word:
            raise StatementError(f"expects a rule name or an operation at character {pos + 1}")
        if word in OPERATORS:
            raise StatementError(f"uses {word} without arguments in parentheses")
        return RuleRef(word)

    tree = node(0)
    ws()
    if pos != len(text):
        raise StatementError(f"has {text[pos:pos + 12]!r} after the end of the statement")
    if isinstance(tree, RuleRef):
        raise StatementError("is a bare rule name; use and, or, not or xor")
    return tree


def rule_names(tree: Statement) -> list[str]:
    """The rule names a statement refers to, in order of appearance."""
    if isinstance(tree, RuleRef):
        return [tree.name]
    return [name for arg in tree.args for name in rule_names(arg)]
