"""A small multipart/form-data reader for file uploads.

FastAPI's ``UploadFile`` needs the ``python-multipart`` package, which the
project does not depend on; uploads here are bounded by the body-size limit
and held in memory anyway, so splitting the body on its boundary is enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PARAM = re.compile(r'(\w+\*?)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))')


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True, slots=True)
class Part:
    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes


def boundary_of(content_type: str | None) -> bytes:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("expected a multipart/form-data body (upload files as form fields)")
    match = _BOUNDARY.search(content_type)
    if not match:
        raise MultipartError("multipart body without a boundary")
    return match.group(1).encode("latin-1")


def _disposition(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, quoted, bare in _PARAM.findall(value):
        text = quoted.replace('\\"', '"') if quoted or not bare else bare
        key = key.lower()
        if key.endswith("*"):  # RFC 5987: filename*=UTF-8''%E5%B7%A5.csv
            from urllib.parse import unquote

            charset, _, encoded = text.partition("''")
            text = unquote(encoded or text, encoding=charset or "utf-8")
            key = key[:-1]
        params[key] = text
    return params


def parse(body: bytes, content_type: str | None) -> list[Part]:
    """The parts of a multipart body, in order."""
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise MultipartError("multipart body has no parts (or does not use its declared boundary)")
    parts: list[Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = chunk.partition(b"\n\n")
            if not sep:
                raise MultipartError("multipart part without headers")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disp = _disposition(headers.get("content-disposition", ""))
        parts.append(Part(disp.get("name"), disp.get("filename"), headers.get("content-type"), data))
    return parts
