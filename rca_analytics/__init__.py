"""rca_analytics: incident root-cause analysis in your notebook.

Validated events and investigations in one embedded DuckDB file, linked with
confidence, queried as pandas DataFrames.

>>> import rca_analytics as rca
>>> store = rca.connect(":memory:")
>>> inv = store.add_investigation(rca.Investigation(title="Checkout 500s", priority="P0"))
>>> store.get_investigation(inv.id).priority
<Priority.P0: 'P0'>
"""

from . import metrics, report
from ._importing import ImportReport, SqliteImportReport
from ._ingesting import IngestReport, Reading, read
from ._lake import LakeExport, LakeExportReport
from ._lake_import import LakeImport, LakeImportReport
from ._loading import LoadReport
from ._reasons import Reason
from ._reports import OperationReport
from ._version import __version__
from .errors import (
    CorruptStore,
    DuplicateRecord,
    Failure,
    NotFound,
    QueryError,
    RcaError,
    ReaderError,
    ReadOnlyStore,
    SchemaVersionError,
    StoreError,
    StoreLocked,
    TransactionAborted,
    UnknownNameWarning,
    ValidationFailed,
    WriteFailed,
)
from .linking import AutoLinkReport, LinkerConfig, LinkerQuality
from .models import (
    Change,
    Event,
    EventSeverity,
    EventSource,
    ImpactSeverity,
    Investigation,
    InvestigationStatus,
    Link,
    LinkMethod,
    Priority,
    Review,
)
from .store import Store, connect, connect_lake

__all__ = [
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
    "LakeExport",
    "LakeExportReport",
    "LakeImport",
    "LakeImportReport",
    "Link",
    "LinkMethod",
    "LinkerConfig",
    "LinkerQuality",
    "LoadReport",
    "NotFound",
    "OperationReport",
    "Priority",
    "QueryError",
    "RcaError",
    "ReadOnlyStore",
    "ReaderError",
    "Reading",
    "Reason",
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
]
