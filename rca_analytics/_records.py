"""One record at a time: fetch, insert, update, soft-delete, link, review and relate.

The operations behind :class:`~rca_analytics.Store`'s single-record methods
(``add_event``, ``update_investigation``, ``link``, ``label_link``, ``relate`` ...).
Each takes the store's :class:`~._data.Data` and runs in its transaction; links go
through the one link writer (:mod:`._links`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from pydantic_core import PydanticUndefined

from . import _data, _links
from . import _validate as v
from ._data import Data
from ._reasons import Reason
from ._summaries import derive
from .errors import DuplicateRecord, Failure, NotFound, ValidationFailed
from .models import (
    Event,
    Investigation,
    Link,
    LinkMethod,
    Record,
    Relation,
    Review,
    utc_now,
)
from .schema import json_columns, quote

R = TypeVar("R", bound=Record)
#: The two kinds of record with ids, lifecycles and histories.
E = TypeVar("E", Event, Investigation)

_ONE_MICROSECOND = dt.timedelta(microseconds=1)


def coerce(model: type[R], record: R | Mapping[str, Any] | Any) -> R:
    """``record`` as a ``model``: validated from a mapping (or a DataFrame row)."""
    if isinstance(record, model):
        return record
    if isinstance(record, Record):
        raise TypeError(f"expected {model.__name__}, got {type(record).__name__}")
    if not isinstance(record, Mapping) and hasattr(record, "to_dict"):
        record = record.to_dict()  # e.g. a pandas Series (one DataFrame row)
    if not isinstance(record, Mapping):
        raise TypeError(f"expected {model.__name__} or a mapping, got {type(record).__name__}")
    return model.model_validate(record)


def load(model: type[R], row: dict[str, Any]) -> R:
    """A stored row as its model (JSON columns parsed)."""
    for name in json_columns(model):
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return model.model_validate(row)


def select(data: Data, model: type[R], where: str, params: Sequence[Any]) -> list[R]:
    """The stored records of ``model`` matching ``where`` (whitelisted SQL, parameters)."""
    cols = ", ".join(data.column(model, c) for c in model.stored_fields())
    sql = f"SELECT {cols} FROM {_data.TABLE_OF[model]} WHERE {where}"  # noqa: S608 - whitelisted
    rows = data.rows(sql, params)
    return [load(model, row) for row in rows]


def fetch(data: Data, model: type[E], record_id: Any, *, include_deleted: bool) -> E:
    """One record by id; :class:`NotFound` when missing (or soft-deleted, unless asked)."""
    kind = _data.ENTITY_OF[model]
    record_id = _key(record_id, kind)
    found = select(data, model, "id = ?", [record_id])
    data.require_found(
        kind, record_id, found[0].deleted_at if found else None, found=bool(found),
        include_deleted=include_deleted,
    )  # fmt: skip
    return found[0]


def insert(data: Data, model: type[Record], record: Record) -> None:
    """Insert one validated record (its stored fields).

    An event without a summary gets the one loads derive for it.
    """
    if isinstance(record, Event) and record.summary is None:
        record = record.model_copy(update={"summary": derived_summary(record)})
    names = model.stored_fields()
    values = [_param(getattr(record, n)) for n in names]
    cols = ", ".join(quote(n) for n in names)
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {_data.TABLE_OF[model]} ({cols}) VALUES ({marks})"  # noqa: S608 - whitelisted
    data.execute(sql, values)


def derived_summary(event: Event) -> str | None:
    """The summary the store derives for an event without one (:mod:`._summaries`)."""
    return derive(
        event.event_type,
        source=event.source.value,
        service=event.service,
        component=event.component,
        source_id=event.source_id,
        data=event.data,
    )


def require_new(data: Data, model: type[E], record: E) -> None:
    """Raise DuplicateRecord if the record's id (or an event's source key) is taken."""
    kind = _data.ENTITY_OF[model]
    if isinstance(record, Event) and record.source_id is not None:
        rows = data.rows(
            "SELECT id, deleted_at, id = ? AS same_id FROM events "
            "WHERE id = ? OR (source = ? AND source_id = ?) ORDER BY same_id DESC",
            [record.id, record.id, record.source.value, record.source_id],
        )
    else:
        rows = data.rows(
            f"SELECT id, deleted_at, TRUE AS same_id FROM {_data.TABLE_OF[model]} WHERE id = ?",  # noqa: S608
            [record.id],
        )
    if not rows:
        return
    deleted = rows[0]["deleted_at"] is not None
    if rows[0]["same_id"]:
        raise DuplicateRecord(
            f"{kind} id {record.id!r} is taken"
            + (" by a soft-deleted record; restore it instead" if deleted else ""),
            existing_id=record.id,
            key={"id": record.id},
            deleted=deleted,
        )
    assert isinstance(record, Event)
    raise_source_clash(record, rows[0]["id"], deleted)


def raise_source_clash(event: Event, existing: str, deleted: bool) -> None:
    """Raise DuplicateRecord: another event has ``event``'s ``(source, source_id)``."""
    hint = (
        f"; it is soft-deleted: restore_event({existing!r}) brings it back"
        if deleted
        else "; (source, source_id) names one event: it was stored before"
    )
    raise DuplicateRecord(
        f"event ({event.source.value}, source_id={event.source_id!r}) exists already "
        f"as {existing!r}{hint}",
        existing_id=existing,
        key={"source": event.source.value, "source_id": event.source_id},
        deleted=deleted,
    )


def require_free_source_key(data: Data, event: Event) -> None:
    if event.source_id is None:
        return
    rows = data.rows(
        "SELECT id, deleted_at FROM events WHERE source = ? AND source_id = ? AND id <> ?",
        [event.source.value, event.source_id, event.id],
    )
    if rows:
        raise_source_clash(event, rows[0]["id"], rows[0]["deleted_at"] is not None)


def update(data: Data, model: type[E], record_id: Any, changes: Mapping[str, Any]) -> None:
    """Validate ``changes`` against the whole record, then write only what differs."""
    record_id = _key(record_id, _data.ENTITY_OF[model])
    problems = [
        Failure(
            record_id,
            name,
            "read_only",
            _READ_ONLY_HINTS.get(name, "cannot be changed by an update"),
            changes[name],
        )
        for name in sorted(set(changes) & set(model.read_only_fields))
    ]
    problems += [
        Failure(
            record_id,
            name,
            "required",
            "cannot be cleared (None/NaN would mean the default); give a value",
            value,
        )
        for name, value in changes.items()
        if name in model.model_fields
        and v.is_missing(value)
        and model.model_fields[name].default not in (None, PydanticUndefined)
    ]
    if problems:
        raise ValidationFailed(problems, model.__name__)
    current = fetch(data, model, record_id, include_deleted=False)
    merged = current.model_dump(exclude=set(model.derived_fields)) | dict(changes)
    try:
        new = model.model_validate(merged)
    except ValidationFailed as err:
        raise err.with_record(record_id) from None
    diff: dict[str, tuple[Any, Any]] = {
        name: (getattr(current, name), getattr(new, name))
        for name in model.stored_fields()
        if not _same(getattr(current, name), getattr(new, name))
    }
    if not diff:
        return
    if isinstance(new, Event) and {"source", "source_id"} & set(diff):
        require_free_source_key(data, new)
    now = max(utc_now(), current.updated_at + _ONE_MICROSECOND)
    diff["updated_at"] = (current.updated_at, now)
    assignments = ", ".join(f"{quote(n)} = ?" for n in diff)
    data.execute(
        f"UPDATE {_data.TABLE_OF[model]} SET {assignments} WHERE id = ?",  # noqa: S608 - whitelisted
        [*(_param(pair[1]) for pair in diff.values()), record_id],
    )
    data.log(
        _data.ENTITY_OF[model],
        record_id,
        "update",
        {n: {"old": old, "new": new_} for n, (old, new_) in diff.items()},
    )


def touch(data: Data, model: type[Record], *record_ids: str) -> None:
    """Move ``updated_at`` of records whose links or relations changed."""
    data.execute(
        f"UPDATE {_data.TABLE_OF[model]} "  # noqa: S608 - whitelisted
        "SET updated_at = greatest(updated_at + INTERVAL 1 MICROSECOND, ?) "
        "WHERE list_contains(?, id)",
        [utc_now(), list(record_ids)],
    )


def set_deleted(data: Data, model: type[E], record_id: Any, *, deleted: bool) -> None:
    with data.write():
        current = fetch(data, model, record_id, include_deleted=True)
        record_id = current.id
        if (current.deleted_at is not None) == deleted:
            return  # already in the requested state
        now = max(utc_now(), current.updated_at + _ONE_MICROSECOND)
        data.execute(
            f"UPDATE {_data.TABLE_OF[model]} SET deleted_at = ?, updated_at = ? WHERE id = ?",  # noqa: S608
            [now if deleted else None, now, record_id],
        )
        data.log(
            _data.ENTITY_OF[model],
            record_id,
            "delete" if deleted else "restore",
            {"deleted_at": now if deleted else current.deleted_at},
        )


def put_link(
    data: Data,
    new: Link,
    *,
    touch_event: bool = True,
    touch_investigation: bool = True,
    extra: Mapping[str, Any] | None = None,
    keep_time: bool = True,
) -> Link:
    """One link by a person, through the one link writer; returns it as stored."""
    table = _links.input_table(
        [new.model_dump(include={"event_id", "investigation_id", "confidence", "reasons",
                                 "linked_at"}) | {"method": new.method.value}],
        method=new.method.value,
        touch_event=touch_event,
        touch_investigation=touch_investigation,
    )  # fmt: skip
    _links.write_links(data, table, who="person", keep_time=keep_time, extra=extra)
    key = [new.event_id, new.investigation_id]
    return select(data, Link, "event_id = ? AND investigation_id = ?", key)[0]


def add_event(data: Data, event: Event | Mapping[str, Any]) -> Event:
    """See :meth:`Store.add_event`."""
    ev = coerce(Event, event)
    with data.write():
        require_new(data, Event, ev)
        for inv_id in ev.investigation_ids:
            fetch(data, Investigation, inv_id, include_deleted=False)
        insert(data, Event, ev)
        data.log("event", ev.id, "insert", {})
        linked_at = ev.linked_at or utc_now()
        for inv_id in ev.investigation_ids:  # part of the new event: it is not "updated"
            put_link(
                data,
                Link(event_id=ev.id, investigation_id=inv_id, linked_at=linked_at),
                touch_event=False,
            )
        return get_event(data, ev.id, include_deleted=True)


def get_event(data: Data, event_id: str, *, include_deleted: bool = False) -> Event:
    """See :meth:`Store.get_event`."""
    with data.handle.lock:
        ev = fetch(data, Event, event_id, include_deleted=include_deleted)
        rows = data.rows(
            "SELECT l.investigation_id, l.linked_at FROM links l "
            "JOIN investigations i ON i.id = l.investigation_id "
            "WHERE l.event_id = ? AND i.deleted_at IS NULL "
            "ORDER BY l.linked_at, l.investigation_id",
            [ev.id],
        )
    ev.investigation_ids = [r["investigation_id"] for r in rows]
    ev.linked_at = max((r["linked_at"] for r in rows), default=None)
    return ev


def add_investigation(
    data: Data, investigation: Investigation | Mapping[str, Any]
) -> Investigation:
    """See :meth:`Store.add_investigation`."""
    inv = coerce(Investigation, investigation)
    with data.write():
        require_new(data, Investigation, inv)
        for ev_id in inv.event_ids:
            fetch(data, Event, ev_id, include_deleted=False)
        for other in inv.related_investigation_ids:
            fetch(data, Investigation, other, include_deleted=False)
        insert(data, Investigation, inv)
        data.log("investigation", inv.id, "insert", {})
        for ev_id in inv.event_ids:
            put_link(data, Link(event_id=ev_id, investigation_id=inv.id), touch_investigation=False)
        for other in inv.related_investigation_ids:
            relate(data, inv.id, other)
        return get_investigation(data, inv.id, include_deleted=True)


def get_investigation(
    data: Data, investigation_id: str, *, include_deleted: bool = False
) -> Investigation:
    """See :meth:`Store.get_investigation`."""
    with data.handle.lock:
        inv = fetch(data, Investigation, investigation_id, include_deleted=include_deleted)
        # Deleted events are few, and their rows are found without reading every id.
        events = data.rows(
            "SELECT l.event_id FROM links l WHERE l.investigation_id = ? AND l.event_id "
            "NOT IN (SELECT id FROM events WHERE deleted_at IS NOT NULL) "
            "ORDER BY l.linked_at, l.event_id",
            [inv.id],
        )
        related = data.rows(
            "SELECT r.other FROM ("
            "  SELECT related_investigation_id AS other, related_at"
            "  FROM investigation_relations WHERE investigation_id = ? UNION ALL"
            "  SELECT investigation_id AS other, related_at FROM investigation_relations"
            "  WHERE related_investigation_id = ?) r "
            "JOIN investigations i ON i.id = r.other WHERE i.deleted_at IS NULL "
            "ORDER BY r.related_at, r.other",
            [inv.id, inv.id],
        )
    inv.event_ids = [r["event_id"] for r in events]
    inv.related_investigation_ids = [r["other"] for r in related]
    return inv


def link(
    data: Data,
    event_id: str,
    investigation_id: str,
    *,
    confidence: float = 1.0,
    method: LinkMethod | str = LinkMethod.MANUAL,
    reasons: Sequence[str] | str = (),
    linked_at: dt.datetime | str | float | None = None,
) -> Link:
    """See :meth:`Store.link`."""
    fields: dict[str, Any] = {
        "event_id": event_id,
        "investigation_id": investigation_id,
        "confidence": confidence,
        "method": method,
        "reasons": reasons,
    }
    if linked_at is not None:
        fields["linked_at"] = linked_at
    new = Link.model_validate(fields)
    with data.write():
        fetch(data, Event, new.event_id, include_deleted=False)
        fetch(data, Investigation, new.investigation_id, include_deleted=False)
        key = [new.event_id, new.investigation_id]
        rejected = select(
            data, Review, "event_id = ? AND investigation_id = ? AND NOT accepted", key
        )
        if rejected and new.method is not LinkMethod.MANUAL:
            raise ValidationFailed(
                [
                    Failure(
                        record=f"{new.event_id} -> {new.investigation_id}",
                        field="method",
                        code=Reason.REJECTED_BY_REVIEW,
                        message=f"a reviewer rejected this pair on "
                        f"{rejected[0].reviewed_at:%Y-%m-%d %H:%M}Z; only a link by hand "
                        "(method='manual') or label_link(accepted=True) overrides that",
                        value=new.method.value,
                    )
                ],
                "Link",
            )
        extra = {"overrides_review": rejected[0].model_dump(mode="json")} if rejected else {}
        return put_link(data, new, keep_time=linked_at is None, extra=extra)


def unlink(data: Data, event_id: str, investigation_id: str) -> Link:
    """See :meth:`Store.unlink`."""
    event_id, investigation_id = (
        _key(event_id, "event"),
        _key(investigation_id, "investigation"),
    )
    with data.write():
        old = _links.remove_link(data, event_id, investigation_id)
        if old is None:
            raise NotFound(
                f"event {event_id!r} is not linked to investigation {investigation_id!r}"
            )
        return old


def label_link(
    data: Data,
    event_id: str,
    investigation_id: str,
    *,
    accepted: bool,
    by: str | None = None,
    note: str | None = None,
) -> Review:
    """See :meth:`Store.label_link`."""
    verdict: object = accepted
    if isinstance(verdict, np.bool_):  # numpy's, e.g. from a DataFrame column
        verdict = bool(verdict)
    if not isinstance(verdict, bool):
        raise ValidationFailed(
            [
                Failure(
                    record=f"{event_id} -> {investigation_id}",
                    field="accepted",
                    code=Reason.INVALID_TYPE,
                    value=verdict,
                    message=f"accepted must be True or False, not {verdict!r}",
                )
            ],
            "Review",
        )
    accepted = verdict
    event_id = _key(event_id, "event")
    investigation_id = _key(investigation_id, "investigation")
    key = [event_id, investigation_id]
    with data.write():
        fetch(data, Event, event_id, include_deleted=False)
        fetch(data, Investigation, investigation_id, include_deleted=False)
        linked = select(data, Link, "event_id = ? AND investigation_id = ?", key)
        earlier = select(data, Review, "event_id = ? AND investigation_id = ?", key)
        judged: dict[str, Any] = {}
        if linked:
            judged = linked[0].model_dump(include={"confidence", "method", "reasons"})
        elif earlier:  # re-judging a rejected pair: keep what was judged then
            judged = earlier[0].model_dump(include={"confidence", "method", "reasons"})
        review = Review.model_validate(
            {
                "event_id": event_id,
                "investigation_id": investigation_id,
                **judged,
                "accepted": accepted,
                "reviewed_by": by,
                "note": note,
            }
        )
        data.execute("DELETE FROM link_reviews WHERE event_id = ? AND investigation_id = ?", key)
        insert(data, Review, review)
        detail = {"review": review.model_dump(mode="json")}
        if accepted and not linked:
            restored = Link.model_validate(
                {
                    "event_id": event_id,
                    "investigation_id": investigation_id,
                    "confidence": judged.get("confidence") or 1.0,
                    "method": judged.get("method") or LinkMethod.MANUAL,
                    "reasons": judged.get("reasons") or ["accepted by a reviewer"],
                }
            )
            put_link(data, restored, extra=detail)
        elif not accepted and linked:
            _links.remove_link(data, event_id, investigation_id, extra=detail)
        else:
            data.log("event", event_id, "link", detail)
            data.log("investigation", investigation_id, "link", detail)
        return review


def relate(data: Data, investigation_id: str, other_id: str) -> None:
    """See :meth:`Store.relate`."""
    investigation_id = _key(investigation_id, "investigation")
    other_id = _key(other_id, "investigation")
    if investigation_id == other_id:
        raise ValidationFailed(
            [
                Failure(
                    investigation_id,
                    "related_investigation_ids",
                    "self_relation",
                    "an investigation cannot be related to itself",
                    other_id,
                )
            ],
            "Relation",
        )
    low, high = sorted((investigation_id, other_id))
    with data.write():
        fetch(data, Investigation, investigation_id, include_deleted=False)
        fetch(data, Investigation, other_id, include_deleted=False)
        if select(
            data, Relation, "investigation_id = ? AND related_investigation_id = ?", [low, high]
        ):
            return
        insert(data, Relation, Relation(investigation_id=low, related_investigation_id=high))
        data.log("investigation", investigation_id, "relate", {"other": other_id})
        data.log("investigation", other_id, "relate", {"other": investigation_id})
        touch(data, Investigation, low, high)


def unrelate(data: Data, investigation_id: str, other_id: str) -> None:
    """See :meth:`Store.unrelate`."""
    investigation_id = _key(investigation_id, "investigation")
    other_id = _key(other_id, "investigation")
    low, high = sorted((investigation_id, other_id))
    with data.write():
        if not select(
            data, Relation, "investigation_id = ? AND related_investigation_id = ?", [low, high]
        ):
            raise NotFound(f"investigations {investigation_id!r} and {other_id!r} are not related")
        data.execute(
            "DELETE FROM investigation_relations "
            "WHERE investigation_id = ? AND related_investigation_id = ?",
            [low, high],
        )
        data.log("investigation", investigation_id, "unrelate", {"other": other_id})
        data.log("investigation", other_id, "unrelate", {"other": investigation_id})
        touch(data, Investigation, low, high)


_READ_ONLY_HINTS = {
    "id": "ids never change; add a new record instead",
    "created_at": "creation time is kept as recorded",
    "updated_at": "moves by itself on every change",
    "deleted_at": "use delete_*() / restore_*()",
    "investigation_ids": "use link() / unlink()",
    "event_ids": "use link() / unlink()",
    "linked_at": "set by link()",
    "related_investigation_ids": "use relate() / unrelate()",
}


#: A record id as stored (see :func:`._data.record_key`).
_key = _data.record_key


def _same(old: Any, new: Any) -> bool:
    """Equal as stored: JSON values compare by their JSON text (True is not 1)."""
    if isinstance(old, dict) or isinstance(new, dict):
        return json.dumps(old, sort_keys=False) == json.dumps(new, sort_keys=False)
    return bool(old == new)


def _param(value: Any) -> Any:
    """A model value as a DuckDB parameter (JSON columns as text, enums as values)."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return str(value)  # plain str for StrEnum members
    return value
