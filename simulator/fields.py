"""Partial responses: the ``fields`` system parameter every Google JSON API accepts.

Syntax (Google "partial response" guide): a comma-separated list of selections; ``a/b`` selects a
nested field; ``a(b,c)`` selects several sub-fields of ``a``; selections apply to every element of
an array. Unknown fields select nothing. A malformed mask is 400 INVALID_ARGUMENT, as Google does.
Pipelines use it to shrink 10,000-point pages (``fields=dataPoints(steps(count,interval/startTime)),
nextPageToken``).
"""

from __future__ import annotations

from typing import Any

from simulator.errors import invalid_argument

Mask = dict[str, "Mask | None"]  # None: the whole field


def parse_mask(text: str) -> Mask:
    mask, pos = _parse_list(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise invalid_argument(f"Invalid field selection {text!r}.")
    return mask


def _parse_list(text: str, pos: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] in "_/@.$"):
            pos += 1
        path = text[start:pos].split("/")
        if not all(path):
            raise invalid_argument(f"Invalid field selection {text!r}.")
        sub: Mask | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise invalid_argument(f"Invalid field selection {text!r}: unbalanced parentheses.")
            pos += 1
        _merge(mask, path, sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return mask, pos


def _merge(mask: Mask, path: list[str], sub: Mask | None) -> None:
    head, rest = path[0], path[1:]
    if rest:
        nested = mask.get(head, {})
        if nested is None:  # already selected whole
            return
        _merge(nested, rest, sub)
        mask[head] = nested
    elif head not in mask:
        mask[head] = sub
    elif mask[head] is None or sub is None:
        mask[head] = None  # selecting a field whole wins over selecting parts of it
    else:
        mask[head].update(sub)  # type: ignore[union-attr]


def apply_mask(value: Any, mask: Mask | None) -> Any:
    """The parts of a decoded JSON value that ``mask`` selects."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_mask(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: apply_mask(value[key], sub) for key, sub in mask.items() if key in value}
