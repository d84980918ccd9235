"""Security headers on every HTTP response.

``nosniff`` stops browsers from guessing a content type (an uploaded file's
report rendered as HTML), ``no-store`` keeps personal data out of shared and
browser caches, and the frame and referrer rules keep responses from being
embedded or leaking URLs. A header a route set itself is left alone.
"""

from __future__ import annotations

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


HEADER_NAMES = frozenset(name for name, _ in HEADERS)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus those of ``HEADERS`` the response did not set itself (a new list)."""
    present = {low for low in (name.lower() for name, _ in headers) if low in HEADER_NAMES}
    if not present:
        return [*headers, *HEADERS]
    return [*headers, *((name, value) for name, value in HEADERS if name not in present)]

