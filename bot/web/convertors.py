"""The `{name:id}` path convertor, registered on import by every module whose routes use
it (the review app and the public archive, which tests also build on their own)."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class RowId(Convertor[int]):
    """A database id: 1 to 18 digits. A longer number cannot name a row (SQLite and
    PostgreSQL ids are 64-bit), so it is a 404, not an overflow in the driver."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RowId())
