"""Resuming with `?after=<id>`: the one rule both live sockets (chat, notifications) read it by."""

import re
from urllib.parse import parse_qs

# Ids are 64-bit signed integers (BigAutoField): at most 19 digits and 2**63 - 1.
MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


class BadResumePoint(ValueError):
    """`?after=` holds something other than an id; the handshake is refused (HTTP 403)."""


def read_after(query_string: bytes) -> int | None:
    """The `?after=<id>` of a handshake: None without one, the id, or BadResumePoint.

    One rule for both sockets: ASCII digits only, at most 19 of them, at most MAX_ID. The check is
    a regular expression on purpose: `str.isdigit()` also accepts "²" or "①", which `int()` then
    refuses. A bad value refuses the handshake rather than being ignored: a client that believes
    it resumes must never silently get something else. When `after` appears twice, the last wins.
    """
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get("after")
    if not values:
        return None
    value = values[-1]
    if not _ID.fullmatch(value) or int(value) > MAX_ID:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise BadResumePoint(f"?after= must be an id (ASCII digits, at most {MAX_ID}), not {shown!r}")
    return int(value)
