"""The API's JSON parser: REST framework's, refusing bodies nested too deeply.

Python's JSON decoder recurses once per level of nesting; a 2 KB body of 1,000 ``[``
raises ``RecursionError``, which REST framework does not turn into a parse error (only
``ValueError``), so it became a 500 with a traceback. Here it is a 400 like any other
malformed body, and so is anything nested deeper than ``MAX_DEPTH`` that did parse (no
input of this API is nested at all; deep structures only waste the code that walks them).
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

logger = logging.getLogger(__name__)

MAX_DEPTH = 32
TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep."


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = _TOO_DEEP
        if data is _TOO_DEEP or depth(data) > MAX_DEPTH:
            logger.info("request body refused: %s", TOO_DEEP)
            raise ParseError(TOO_DEEP)
        return data


_TOO_DEEP = object()


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), without recursion;
    counting stops past ``MAX_DEPTH``."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, level = pending.pop()
        if not isinstance(current, (dict, list)):
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = current.values() if isinstance(current, dict) else current
        pending.extend((child, level + 1) for child in children)
    return deepest
