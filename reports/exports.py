"""The CSV export: rows are read from the database in chunks and written out as they come, so the
server's memory stays flat however many rows the report has.

The same rows, two spellings of the loop, because the two interfaces stream differently:

* WSGI: Gunicorn iterates the response on its worker thread, one chunk at a time. A plain
  generator over `QuerySet.iterator()` is the natural fit.
* ASGI: Django sends the response from the event loop. Handed a *sync* iterator, it cannot call it
  there (every chunk is a blocking database read), so it warns and consumes the whole iterator in
  a worker thread first, holding the entire export in memory before sending a byte. Handed an
  *async* iterator, it awaits one chunk at a time; `QuerySet.aiterator()` runs each database fetch
  in a worker thread and gives the loop back between chunks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator

from reports.definitions import Report, Row
from reports.filters import DateRange

# Rows per database fetch and per chunk sent: big enough that each send carries tens of kilobytes,
# small enough that memory stays flat.
CHUNK_ROWS = 2000


def csv_chunks(report: Report, date_range: DateRange) -> Iterator[bytes]:
    yield _header(report)
    batch = []
    for row in report.rows(date_range).iterator(chunk_size=CHUNK_ROWS):
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            yield _encode(report, batch)
            batch = []
    if batch:
        yield _encode(report, batch)


async def acsv_chunks(report: Report, date_range: DateRange) -> AsyncIterator[bytes]:
    yield _header(report)
    batch = []
    async for row in report.rows(date_range).aiterator(chunk_size=CHUNK_ROWS):
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            yield _encode(report, batch)
            batch = []
    if batch:
        yield _encode(report, batch)


# The body of a HEAD response, of the kind each interface streams without buffering.


def no_chunks() -> Iterator[bytes]:
    return iter(())


async def ano_chunks() -> AsyncIterator[bytes]:
    for chunk in no_chunks():
        yield chunk


def _header(report: Report) -> bytes:
    return _write([[column.label for column in report.columns]])


def _encode(report: Report, rows: Iterable[Row]) -> bytes:
    return _write([[column.csv_value(row[column.key]) for column in report.columns] for row in rows])


def _write(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    # The csv module quotes a field only when it must (a comma, a quote, a line break), doubles
    # quotes inside it, and ends lines with CRLF as RFC 4180 says.
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8")


def csv_filename(report: Report, date_range: DateRange) -> str:
    parts = [report.slug, *(day.isoformat() for day in (date_range.start, date_range.end) if day)]
    return "_".join(parts) + ".csv"
