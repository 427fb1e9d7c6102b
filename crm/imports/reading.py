"""How an uploaded CSV file reads: its encoding, delimiter, header row, and its rows,
streamed from the stored file so a large one never sits in memory whole.

- **Encoding**: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"); a file
  that is not valid UTF-8 is read as Windows-1252 (Excel's plain "CSV" on Western
  systems, a superset of Latin-1's printable characters) if it decodes as that, and
  refused otherwise. The whole file is checked when it is inspected, so a bad byte near
  the end refuses the upload instead of failing the import half way.
- **Delimiter**: comma, semicolon or tab, guessed by :class:`csv.Sniffer` from the first
  KiBs; when it cannot tell, whichever of them the first line holds most (a comma on a
  tie). Quotes are always ``"``.
- **Rows**: the first row names the columns (blank names are columns nobody can map;
  a name given twice is refused); rows that are blank or hold only empty cells are left
  out and not counted, but keep their place in the numbering, which is a spreadsheet's
  (the header is row 1), so an error report's row numbers find the row.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ",;\t"
#: Characters looked at to guess the delimiter.
SNIFF_SIZE = 4096
#: Data rows kept as samples for a mapping screen.
SAMPLES = 5
MAX_COLUMNS = 500


class Unreadable(ValueError):
    """The file cannot be imported as it is; ``code`` and the message say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Layout:
    encoding: str
    delimiter: str
    headers: list[str]
    total_rows: int
    samples: list[list[str]]


Opener = Callable[[], BinaryIO]


def _text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    # newline="": the csv module reads line endings itself (quoted ones included).
    return io.TextIOWrapper(stream, encoding=encoding, newline="")


def _delimiter(sample: str) -> str:
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0:  # whole lines only: a cut one misleads the sniffer
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count)


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def records(stream: BinaryIO, *, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` of each data row that is not blank, in file order."""
    reader = csv.reader(_text(stream, encoding), delimiter=delimiter)
    for number, cells in enumerate(itertools.islice(reader, 1, None), start=2):
        if not _blank(cells):
            yield number, cells


def _headers(cells: list[str] | None) -> list[str]:
    headers = [cell.strip() for cell in cells or []]
    if not any(headers):
        raise Unreadable("import_no_header", "The first row must name the columns.")
    if len(headers) > MAX_COLUMNS:
        raise Unreadable("import_too_many_columns", f"At most {MAX_COLUMNS} columns.")
    twice = sorted({h for h in headers if h and headers.count(h) > 1})
    if twice:
        raise Unreadable(
            "import_duplicate_columns",
            f"Each column needs its own name; given more than once: {', '.join(twice)}.",
        )
    return headers


def _not_text() -> Unreadable:
    # A NUL is no character of a text file (nor one PostgreSQL stores): a binary file.
    return Unreadable(
        "import_not_csv", "This is not a text file; save the spreadsheet as CSV first."
    )


def _read(opener: Opener, encoding: str) -> Layout:
    with _text(opener(), encoding) as text:
        sample = text.read(SNIFF_SIZE)
    if "\x00" in sample:
        raise _not_text()
    delimiter = _delimiter(sample)
    reader = csv.reader(_text(opener(), encoding), delimiter=delimiter)
    try:
        headers = _headers(next(reader, None))
        samples, total = [], 0
        for cells in reader:
            if _blank(cells):
                continue
            if any("\x00" in cell for cell in cells):
                raise _not_text()
            total += 1
            if len(samples) < SAMPLES:
                samples.append(cells)
    except csv.Error as exc:
        raise Unreadable(
            "import_not_csv", f"Row {reader.line_num} cannot be read as CSV: {exc}."
        ) from exc
    return Layout(encoding, delimiter, headers, total, samples)


def inspect(opener: Opener) -> Layout:
    """How the file ``opener`` opens reads (each call opens it anew), checked whole, or
    :class:`Unreadable`."""
    for encoding in ENCODINGS:
        try:
            return _read(opener, encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable(
        "import_unsupported_encoding",
        "The file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8.",
    )
