"""The one vocabulary of reason codes: why a record, row or input was not taken.

Model validation, bulk validation, every reader, the loader and the imports all say why
with a :class:`Reason`; ``docs/reasons.md`` has the table (code, meaning, who emits it,
an example). A ``Reason`` is a :class:`enum.StrEnum`, so it equals its text:

>>> Reason.MISSING == "missing", str(Reason.INVALID_TYPE)
(True, 'invalid_type')

Codes of earlier releases are still understood (``Reason("wrong_type")`` is
``Reason.INVALID_TYPE``); :data:`RENAMED` lists them.

>>> Reason("missing_field") is Reason.MISSING
True

This module imports nothing of the package (it sits below the models and the errors).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["RENAMED", "Reason"]


class Reason(enum.StrEnum):
    """Why something was rejected; the values are the stable codes in reports and failures."""

    # --- a value of a record ------------------------------------------------------------
    #: A required field is absent (or None/NaN where that is not allowed).
    MISSING = "missing"
    #: A name that must have text is blank.
    EMPTY = "empty"
    #: A field the model does not have.
    UNKNOWN_FIELD = "unknown_field"
    #: A value of the wrong type (a number where text belongs, a bool, a list...).
    INVALID_TYPE = "invalid_type"
    #: Not one of the allowed values of an enumeration.
    INVALID_CHOICE = "invalid_choice"
    #: A value that breaks a rule no more specific code names.
    INVALID_VALUE = "invalid_value"
    #: A time that cannot be read (not ISO 8601, not a number, out of range).
    INVALID_DATETIME = "invalid_datetime"
    #: A time without a time zone or offset.
    NAIVE_DATETIME = "naive_datetime"
    #: Text holding characters that are not valid Unicode (lone surrogates).
    INVALID_TEXT = "invalid_text"
    #: An identifier that is not of its required form (e.g. a trace id that is not hex).
    INVALID_ID = "invalid_id"
    #: Text longer than its field allows.
    TOO_LONG = "too_long"
    #: A number outside its allowed range.
    OUT_OF_RANGE = "out_of_range"
    #: A field ``Store.update_*`` does not change.
    READ_ONLY = "read_only"
    #: An update that would clear a field that must have a value.
    REQUIRED = "required"

    # --- a record among others ----------------------------------------------------------
    #: A DataFrame with the same column twice.
    DUPLICATE_COLUMN = "duplicate_column"
    #: An id taken by another record (stored, or earlier in the input).
    DUPLICATE_ID = "duplicate_id"
    #: A link or relation naming a record that does not exist (or is deleted).
    DANGLING_LINK = "dangling_link"
    #: An investigation related to itself.
    SELF_RELATION = "self_relation"
    #: A link to a pair a reviewer rejected.
    REJECTED_BY_REVIEW = "rejected_by_review"
    #: A lake's review rejects a pair that is linked here (the link stays).
    REVIEW_CONFLICTS_LINK = "review_conflicts_link"
    #: Another row of the same input names the same pair (the first is taken).
    SAME_PAIR = "same_pair"
    #: A lake record is soft-deleted here and active in the lake.
    DELETED_HERE = "deleted_here"
    #: A lake record is soft-deleted in the lake and active here.
    DELETED_IN_LAKE = "deleted_in_lake"

    # --- an input (file, line, document) ------------------------------------------------
    #: Text that is not valid JSON (or a value JSON cannot hold).
    BAD_JSON = "bad_json"
    #: XML that does not parse.
    BAD_XML = "bad_xml"
    #: A line that is not logfmt (no ``key=value``).
    BAD_LOGFMT = "bad_logfmt"
    #: A line that is not syslog.
    BAD_SYSLOG = "bad_syslog"
    #: A record that could not be parsed: a line of a log that does not match the file's
    #: line format, a record git printed.
    BAD_RECORD = "bad_record"
    #: Bytes that are not UTF-8 text.
    NOT_UTF8 = "not_utf8"
    #: A line longer than a reader keeps.
    LINE_TOO_LONG = "line_too_long"
    #: A file (or a piece of it) larger than a reader reads whole.
    TOO_LARGE = "too_large"
    #: A document nested deeper than a reader follows.
    TOO_DEEP = "too_deep"
    #: An XML document type declaration (entities are never expanded).
    FORBIDDEN_DTD = "forbidden_dtd"
    #: A FIFO, device, socket or folder where a file was expected.
    NOT_REGULAR_FILE = "not_regular_file"
    #: Reading failed part way (I/O error, broken gzip).
    UNREADABLE = "unreadable"
    #: A file of another format than the reader's.
    UNKNOWN_FORMAT = "unknown_format"
    #: git exited with an error.
    GIT_FAILED = "git_failed"

    @classmethod
    def _missing_(cls, value: object) -> Reason | None:
        """Codes of earlier releases name their new member (``wrong_type``...)."""
        return RENAMED.get(value) if isinstance(value, str) else None


#: Codes of earlier releases and the reason each became (``Reason(old)`` gives it).
RENAMED: Mapping[str, Reason] = MappingProxyType(
    {
        "missing_field": Reason.MISSING,
        "wrong_type": Reason.INVALID_TYPE,
        "not_bool": Reason.INVALID_TYPE,
        "invalid_time": Reason.INVALID_DATETIME,
        "not_json": Reason.BAD_JSON,
        "bad_text": Reason.NOT_UTF8,
        "not_found": Reason.DANGLING_LINK,
        "link_rejected_by_review": Reason.REJECTED_BY_REVIEW,
    }
)
