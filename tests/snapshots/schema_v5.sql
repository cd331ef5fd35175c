CREATE SEQUENCE changes_seq START 1
;
CREATE TABLE rca_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)
;
CREATE TABLE events (
  "id" VARCHAR NOT NULL,
  "timestamp" TIMESTAMPTZ NOT NULL,
  "source" VARCHAR NOT NULL CHECK ("source" IN ('git', 'ci', 'logs', 'metrics', 'traces', 'manual')),
  "event_type" VARCHAR NOT NULL,
  "severity" VARCHAR NOT NULL CHECK ("severity" IN ('critical', 'high', 'medium', 'low', 'info')),
  "component" VARCHAR,
  "service" VARCHAR,
  "source_id" VARCHAR,
  "data" JSON NOT NULL,
  "tags" VARCHAR[] NOT NULL,
  "metadata" JSON NOT NULL,
  "parsed_at" TIMESTAMPTZ,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  "deleted_at" TIMESTAMPTZ,
  "revision" VARCHAR,
  "summary" VARCHAR
)
;
CREATE TABLE investigations (
  "id" VARCHAR NOT NULL,
  "title" VARCHAR NOT NULL,
  "description" VARCHAR,
  "status" VARCHAR NOT NULL CHECK ("status" IN ('open', 'in_progress', 'resolved', 'closed')),
  "impact_severity" VARCHAR NOT NULL CHECK ("impact_severity" IN ('critical', 'high', 'medium', 'low')),
  "priority" VARCHAR NOT NULL CHECK ("priority" IN ('P0', 'P1', 'P2', 'P3')),
  "impact_started_at" TIMESTAMPTZ,
  "detected_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "mitigated_at" TIMESTAMPTZ,
  "resolved_at" TIMESTAMPTZ,
  "root_cause" VARCHAR CHECK (length("root_cause") <= 2000),
  "remediation" VARCHAR CHECK (length("remediation") <= 2000),
  "lessons_learned" VARCHAR CHECK (length("lessons_learned") <= 2000),
  "component_affected" VARCHAR,
  "service_affected" VARCHAR,
  "tags" VARCHAR[] NOT NULL,
  "created_by" VARCHAR,
  "assigned_to" VARCHAR,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  "deleted_at" TIMESTAMPTZ,
  "revision" VARCHAR,
  PRIMARY KEY ("id")
)
;
CREATE TABLE links (
  "event_id" VARCHAR NOT NULL,
  "investigation_id" VARCHAR NOT NULL,
  "confidence" DOUBLE NOT NULL CHECK ("confidence" >= 0.0 AND "confidence" <= 1.0),
  "method" VARCHAR NOT NULL CHECK ("method" IN ('manual', 'rule', 'linker', 'import')),
  "reasons" VARCHAR[] NOT NULL,
  "linked_at" TIMESTAMPTZ NOT NULL,
  PRIMARY KEY ("event_id", "investigation_id")
)
;
CREATE TABLE link_reviews (
  "event_id" VARCHAR NOT NULL,
  "investigation_id" VARCHAR NOT NULL,
  "accepted" BOOLEAN NOT NULL,
  "reviewed_at" TIMESTAMPTZ NOT NULL,
  "reviewed_by" VARCHAR,
  "note" VARCHAR,
  "confidence" DOUBLE CHECK ("confidence" >= 0.0 AND "confidence" <= 1.0),
  "method" VARCHAR CHECK ("method" IN ('manual', 'rule', 'linker', 'import')),
  "reasons" VARCHAR[] NOT NULL,
  PRIMARY KEY ("event_id", "investigation_id")
)
;
CREATE TABLE investigation_relations (
  "investigation_id" VARCHAR NOT NULL,
  "related_investigation_id" VARCHAR NOT NULL,
  "related_at" TIMESTAMPTZ NOT NULL,
  PRIMARY KEY ("investigation_id", "related_investigation_id")
)
;
CREATE TABLE changes (
  "seq" BIGINT DEFAULT nextval('changes_seq') NOT NULL,
  "at" TIMESTAMPTZ NOT NULL,
  "entity" VARCHAR NOT NULL CHECK ("entity" IN ('event', 'investigation', 'batch')),
  "record_id" VARCHAR NOT NULL,
  "action" VARCHAR NOT NULL CHECK ("action" IN ('insert', 'update', 'delete', 'restore', 'link', 'unlink', 'relate', 'unrelate', 'bulk_insert')),
  "detail" JSON NOT NULL,
  PRIMARY KEY ("seq")
)
;
CREATE TABLE import_rejects (
  "source" VARCHAR NOT NULL,
  "table_name" VARCHAR NOT NULL CHECK ("table_name" IN ('events', 'investigations', 'links')),
  "record_id" VARCHAR,
  "field" VARCHAR,
  "code" VARCHAR NOT NULL,
  "message" VARCHAR NOT NULL,
  "imported_at" TIMESTAMPTZ NOT NULL
)
;
CREATE TABLE name_aliases (
  "alias" VARCHAR NOT NULL,
  "name" VARCHAR NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  PRIMARY KEY ("alias")
)
