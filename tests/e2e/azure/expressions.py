"""The expressions of Azure Pipelines that the generated pipelines use, evaluated as Azure does:
conditions (`and(succeeded(), eq(variables.IS_TAG, true))`), runtime expressions of variables
(`$[startsWith(variables['Build.SourceBranch'], 'refs/tags/v')]`), template expressions
(`${{ trim(parameters.version) }}`) and macros (`$(REGISTRY)`).

Values are strings, booleans or numbers; comparisons are case-insensitive on strings and convert
the right operand to the left one's type, as Azure's do. Names of variables are case-insensitive.
An expression this does not know is an error, not a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*(?:\['[^']*'\])*(?:\.\w+)*)|(?P<punct>[(),]))"
)


class ExpressionError(Exception):
    pass


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read `{text[position:]}` in `{text}`")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "0"}
    return bool(value)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool):
        return left == truthy(right)
    return as_text(left).lower() == as_text(right).lower()


class Evaluator:
    """Evaluates expressions against `lookup(name)` (variables, parameters, dependencies) and
    the status functions of the place they are in."""

    def __init__(self, lookup: Callable[[str], Any], status: Mapping[str, bool] | None = None):
        self.lookup = lookup
        self.status = dict(status or {})

    def evaluate(self, text: str) -> Any:
        self.items = tokens(text)
        self.index = 0
        value = self.expression()
        if self.index != len(self.items):
            raise ExpressionError(f"unexpected `{self.items[self.index][1]}` in `{text}`")
        return value

    def next(self) -> tuple[str, str]:
        item = self.items[self.index]
        self.index += 1
        return item

    def expression(self) -> Any:
        kind, value = self.next()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind != "name":
            raise ExpressionError(f"unexpected `{value}`")
        if value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if self.index < len(self.items) and self.items[self.index] == ("punct", "("):
            self.index += 1
            arguments = []
            while self.items[self.index] != ("punct", ")"):
                arguments.append(self.expression())
                if self.items[self.index] == ("punct", ","):
                    self.index += 1
            self.index += 1
            return self.call(value.lower(), arguments)
        return self.lookup(value)

    def call(self, function: str, arguments: list[Any]) -> Any:
        if function in self.status and not arguments:
            return self.status[function]
        if function == "always":
            return True
        if function == "and":
            return all(truthy(argument) for argument in arguments)
        if function == "or":
            return any(truthy(argument) for argument in arguments)
        if function == "not":
            return not truthy(arguments[0])
        if function == "eq":
            return equal(arguments[0], arguments[1])
        if function == "ne":
            return not equal(arguments[0], arguments[1])
        if function == "startswith":
            return as_text(arguments[0]).lower().startswith(as_text(arguments[1]).lower())
        if function == "trim":
            return as_text(arguments[0]).strip()
        raise ExpressionError(f"the runner does not know the function `{function}`")


TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}")
MACRO = re.compile(r"\$\(([\w.]+)\)")


def expand_template_expressions(value: Any, parameters: Mapping[str, Any]) -> Any:
    """`${{ ... }}` in every string of `value`, with the template's parameters."""
    if isinstance(value, dict):
        return {key: expand_template_expressions(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_template_expressions(item, parameters) for item in value]
    if not isinstance(value, str):
        return value

    def lookup(name: str) -> Any:
        if not name.startswith("parameters."):
            raise ExpressionError(f"`{name}` is not known when the pipeline is compiled")
        key = name.removeprefix("parameters.")
        if key not in parameters:
            raise ExpressionError(f"no parameter `{key}`")
        return parameters[key]

    whole = TEMPLATE.fullmatch(value.strip())
    if whole:
        return Evaluator(lookup).evaluate(whole.group(1))
    return TEMPLATE.sub(lambda m: as_text(Evaluator(lookup).evaluate(m.group(1))), value)


def expand_macros(text: str, variables: Mapping[str, str]) -> str:
    """`$(name)` replaced by the variable's value; an unknown one is left as it is, as Azure
    leaves it."""
    lowered = {key.lower(): value for key, value in variables.items()}
    return MACRO.sub(lambda m: lowered.get(m.group(1).lower(), m.group(0)), text)
