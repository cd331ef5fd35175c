"""Pin the public names: adding or removing one is a deliberate API change."""

from __future__ import annotations

import inspect

import rca_analytics as rca
from rca_analytics import errors

PUBLIC = {
    "AutoLinkReport",
    "Change",
    "CorruptStore",
    "DuplicateRecord",
    "Event",
    "EventSeverity",
    "EventSource",
    "Failure",
    "ImpactSeverity",
    "ImportReport",
    "IngestReport",
    "Investigation",
    "InvestigationStatus",
    "Link",
    "LinkMethod",
    "LinkerConfig",
    "LinkerQuality",
    "LakeExport",
    "LakeExportReport",
    "LakeImport",
    "LakeImportReport",
    "LoadReport",
    "NotFound",
    "Priority",
    "QueryError",
    "RcaError",
    "ReadOnlyStore",
    "ReaderError",
    "Reading",
    "Reason",
    "OperationReport",
    "Review",
    "SchemaVersionError",
    "SqliteImportReport",
    "Store",
    "StoreError",
    "StoreLocked",
    "TransactionAborted",
    "UnknownNameWarning",
    "ValidationFailed",
    "WriteFailed",
    "__version__",
    "connect",
    "connect_lake",
    "metrics",
    "read",
    "report",
}

STORE_METHODS = {
    "add_event",
    "alias",
    "aliases",
    "remove_alias",
    "add_events",
    "add_investigations",
    "import_sqlite",
    "ingest",
    "export_lake",
    "import_lake",
    "get_event",
    "update_event",
    "delete_event",
    "restore_event",
    "tag_event",
    "untag_event",
    "add_investigation",
    "get_investigation",
    "update_investigation",
    "delete_investigation",
    "restore_investigation",
    "tag_investigation",
    "untag_investigation",
    "link",
    "unlink",
    "get_links",
    "label_link",
    "reviews",
    "suggest_links",
    "auto_link",
    "changes_before",
    "linker_quality",
    "relate",
    "unrelate",
    "history",
    "stats",
    "events",
    "investigations",
    "event_investigations",
    "timeline",
    "counts",
    "sql",
    "verify",
    "transaction",
    "close",
}


def test_public_names_are_pinned() -> None:
    assert set(rca.__all__) == PUBLIC
    assert sorted(rca.__all__) == rca.__all__
    for name in rca.__all__:
        assert hasattr(rca, name), name


def test_store_api() -> None:
    public = {n for n, _ in inspect.getmembers(rca.Store) if not n.startswith("_")}
    properties = {"path", "read_only", "schema_version", "closed", "store_id"}
    assert public - properties == STORE_METHODS
    assert hasattr(rca.Store, "__enter__") and hasattr(rca.Store, "__exit__")


def test_every_error_derives_from_rca_error_and_is_in_the_drawn_tree() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        obj = getattr(errors, name)
        if name == "Failure":
            continue
        assert issubclass(obj, rca.RcaError), name
        assert name in doc, f"{name} missing from the tree in errors.py"
        assert getattr(rca, name) is obj
    assert issubclass(rca.NotFound, LookupError)
    assert issubclass(rca.StoreLocked, rca.StoreError)


def test_every_report_is_a_report_and_old_names_are_the_same_classes() -> None:
    for name in (
        "AutoLinkReport",
        "IngestReport",
        "LakeExportReport",
        "LakeImportReport",
        "LoadReport",
        "SqliteImportReport",
    ):
        assert issubclass(getattr(rca, name), rca.OperationReport), name
    assert rca.ImportReport is rca.SqliteImportReport
    assert rca.LakeImport is rca.LakeImportReport
    assert rca.LakeExport is rca.LakeExportReport


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("rca_analytics").joinpath("py.typed").is_file()
