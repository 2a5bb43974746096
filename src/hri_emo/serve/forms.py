"""A strict multipart/form-data reader for /v1/predict: raw bytes per part (python-multipart).

Starlette's form parser quietly decodes text fields that are not UTF-8 as latin-1; here a
field that is not UTF-8 is an error, as are unknown, repeated or missing-name parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from hri_emo.serve.http_errors import ApiError


@dataclass
class FormPart:
    name: str
    filename: str | None
    data: bytearray = field(default_factory=bytearray)

    def text(self) -> str:
        try:
            return bytes(self.data).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ApiError(
                422, "invalid_text", f"form field {self.name!r} is not UTF-8 text: {err}"
            ) from err


def parse_form(body: bytes, content_type: str, allowed: tuple[str, ...]) -> dict[str, FormPart]:
    """The parts of a multipart body by name; only names in `allowed`, each at most once."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "invalid_multipart", "multipart body without a boundary parameter")
    parts: list[FormPart] = []
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    headers: dict[bytes, bytes] = {}

    def on_header_end() -> None:
        headers[bytes(header["field"]).lower()] = bytes(header["value"])
        header["field"], header["value"] = bytearray(), bytearray()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise ApiError(422, "invalid_multipart", "a form part has no name")
        filename = options.get(b"filename")
        parts.append(
            FormPart(
                name.decode("utf-8", "replace"),
                None if filename is None else filename.decode("utf-8", "replace"),
            )
        )
        headers.clear()

    callbacks = {
        "on_header_field": lambda d, s, e: header["field"].extend(d[s:e]),
        "on_header_value": lambda d, s, e: header["value"].extend(d[s:e]),
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": lambda d, s, e: parts[-1].data.extend(d[s:e]),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError, IndexError) as err:
        raise ApiError(400, "invalid_multipart", f"malformed multipart body: {err}") from err
    return _by_name(parts, allowed)


def _by_name(parts: list[FormPart], allowed: tuple[str, ...]) -> dict[str, FormPart]:
    named: dict[str, FormPart] = {}
    for part in parts:
        if part.name not in allowed:
            raise ApiError(
                422,
                "unknown_field",
                f"unknown form field {part.name!r}; expected {', '.join(allowed)}",
            )
        if part.name in named:
            raise ApiError(422, "repeated_field", f"form field {part.name!r} is given twice")
        named[part.name] = part
    return named
