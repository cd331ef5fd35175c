"""The words of a synthetic history, as data.

Names of services, people and files, and the recurring log templates, alert names and
incident stories the generator draws from.

The order of every tuple matters: random draws index into them.
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


SERVICE_NAMES = _words(
    "checkout payments search identity inventory storefront shipping pricing notifications "
    "ledger catalog recommendations orders accounts reviews media fraud loyalty returns tax "
    "promotions gateway analytics support"
)
SUFFIXES = ("api", "worker", "db", "web", "scheduler", "consumer", "cache", "sync")
TEAMS = ("commerce", "platform", "growth", "core", "fulfilment", "identity", "data")
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
PEOPLE = _words(
    "ana bo chen dara eli fatima gus hana ivan jo kemal lena mateo nia omar priya quinn rosa "
    "sven tomas"
)
VENDORS = ("Paylane", "Smsly", "Geocodr", "MailFox", "CDNova")
VERBS = ("fix", "add", "refactor", "bump", "tune", "remove", "document", "rename", "test")
OBJECTS = _words(
    "retry budget,cache TTL,null check,metrics labels,timeouts,feature flag,logging,pagination,"
    "connection pool,schema,dependencies,error handling,batch size,healthcheck,rate limits",
    ",",
)
DIRS = ("src/api", "src/core", "src/db", "src/jobs", "config", "tests", "migrations", "deploy")
FILES = ("handlers", "models", "client", "pool", "settings", "retry", "cache", "views", "queue")
ENDPOINTS = _words(
    "GET /api/v1/items,POST /api/v1/orders,GET /api/v2/search,POST /api/v1/cart,"
    "GET /api/v1/users/me,POST /api/v1/payments,GET /healthz,PUT /api/v1/stock",
    ",",
)
CONFIG_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("db.pool.max_size", ("20", "30", "40", "50", "60")),
    ("http.client.timeout_ms", ("1500", "2000", "2500", "3000")),
    ("cache.ttl_s", ("120", "300", "600", "900")),
    ("feature.fast_checkout", ("false", "true")),
    ("worker.concurrency", ("4", "8", "12", "16")),
    ("rate_limit.rps", ("300", "500", "800", "1000")),
    ("retry.max_attempts", ("2", "3", "4")),
    ("log.level", ("info", "warn", "debug")),
    ("consumer.max_poll_records", ("200", "500", "1000")),
    ("auth.jwks_cache_s", ("600", "1800", "3600")),
)

#: Recurring background templates (level, message format); fields in braces are filled
#: with numbers (see ``_tools.render``), so every message of a template has the same template.
BACKGROUND = (
    ("warning", "slow query took {ms} ms (rows={n})"),
    ("warning", "retrying request after {ms} ms (attempt {k}/3)"),
    ("warning", "cache hit ratio {pct}% below threshold"),
    ("warning", "GC pause of {ms} ms"),
    ("warning", "request body too large: {n} bytes"),
    ("warning", "rate limit reached for client {id}"),
    ("warning", "deprecated API v{k} called by client {id}"),
    ("warning", "queue depth {n} above soft limit"),
    ("warning", "connection reset by peer {ip}"),
    ("warning", "feature flag cache refreshed late by {ms} ms"),
    ("error", "failed to send email to user {id}: mailbox unavailable"),
    ("error", "payment token {id} expired before capture"),
    ("error", "upstream timeout after {ms} ms on GET /api/v{k}/items"),
    ("error", "invalid JSON in request body at position {n}"),
    ("error", "user {id} not found"),
    ("error", "lock wait timeout exceeded after {ms} ms"),
    ("error", "health check to {ip} failed"),
    ("error", "unhandled exception in worker {n}: KeyError"),
    ("error", "message {id} moved to dead-letter queue after {k} attempts"),
    ("error", "object store PUT failed with status {code}: SlowDown"),
)
INFRA = (
    ("error", "kernel: oom-killer invoked for pid {n}"),
    ("warning", "ingress: upstream connect error or disconnect/reset before headers, retried {k}"),
    ("warning", "node {ip} condition MemoryPressure for {n} s"),
    ("error", "dns resolver timeout after {ms} ms"),
)


@dataclass(frozen=True)
class Story:
    """How one kind of incident shows, is titled and explained."""

    key: str
    title: str
    alert: str
    templates: tuple[tuple[str, str], ...]
    words: str  # what went wrong, for a postmortem ("the pool was shrunk")
    description: str
    remediation: str
    config: tuple[str, str, str, str] = ("", "", "", "")  # a bad config: key, old, new, effect
    commit: str = ""  # message of a bad commit


CHANGE_STORIES = (
    Story(
        "errors",
        "{svc}: elevated 5xx error rate",
        "HighErrorRate",
        (
            ("error", "HTTP 500 on POST /api/v{k}/orders: NullPointerException in OrderMapper"),
            ("error", "unhandled exception in request handler (request {id})"),
        ),
        "a null-handling regression in the order mapper",
        "{Svc} returns 5xx for about {pct}% of requests",
        "Rolled back; added a regression test for orders without a discount.",
        (
            "feature.fast_checkout",
            "false",
            "true",
            "it enabled the fast checkout path, which fails on orders without a discount",
        ),
        "handle orders without discount in OrderMapper",
    ),
    Story(
        "latency",
        "{svc}: p99 latency above {k} s",
        "LatencySLOBurn",
        (
            ("warning", "request to /api/v{k}/search took {ms} ms (budget 800 ms)"),
            ("error", "query plan fell back to sequential scan after {ms} ms"),
        ),
        "an N+1 query in the listing endpoint",
        "{Svc} p99 latency is {k} s, {pct}% of requests time out",
        "Reverted the change; latency back under 800 ms.",
        (
            "cache.ttl_s",
            "300",
            "1",
            "cache entries expired after a second, so every request went to the database",
        ),
        "load listing details per item",
    ),
    Story(
        "pool",
        "{svc}: requests failing, database connection pool exhausted",
        "DBPoolSaturated",
        (("error", "connection pool exhausted ({n}/{n}), waited {ms} ms"),),
        "a smaller database connection pool",
        "{Svc} requests fail waiting for database connections",
        "Restored the pool size; added a pool-saturation alert.",
        (
            "db.pool.max_size",
            "50",
            "5",
            "the database connection pool was too small for the traffic",
        ),
        "reduce default DB pool size",
    ),
    Story(
        "crash",
        "{comp} pods crash-looping",
        "KubePodCrashLooping",
        (
            ("critical", "worker {n} killed: out of memory (rss {mb} MB)"),
            ("error", "container exited with code 137 after {n} s"),
        ),
        "a memory leak in the batch loader",
        "{comp} pods of {svc} restart every few minutes (OOMKilled)",
        "Rolled back and raised the memory limit until the leak is fixed.",
        (
            "worker.concurrency",
            "8",
            "64",
            "64 concurrent workers needed more memory than the pods have",
        ),
        "cache decoded batches in the loader",
    ),
    Story(
        "queue",
        "{svc}: message backlog growing",
        "QueueBacklogHigh",
        (
            ("error", "consumer lag {n} on partition {k} above limit"),
            ("error", "failed to process message {id}: cannot decode field at offset {n}"),
        ),
        "a message schema change the consumers could not read",
        "{Svc} consumers fall behind, backlog at {n} messages",
        "Rolled back the producer and replayed the dead-letter queue.",
        (
            "consumer.max_poll_records",
            "500",
            "50000",
            "consumers fetched so many records per poll that they missed their deadline",
        ),
        "add currency to order event schema",
    ),
    Story(
        "auth",
        "{svc}: users cannot log in",
        "AuthFailureRateHigh",
        (("error", "token validation failed for client {id}: invalid signature"),),
        "a signing key rotation that published the wrong key id",
        "Logins through {svc} fail for about {pct}% of users",
        "Republished the previous signing key.",
        (
            "auth.jwks_cache_s",
            "3600",
            "0",
            "token validation fetched signing keys on every request and was throttled",
        ),
        "rotate token signing key",
    ),
)
UPSTREAM_TEMPLATES = (
    ("error", "call to {dep} failed with status {code} after {ms} ms"),
    ("error", "circuit breaker open for {dep} after {n} failures"),
)
NO_CHANGE_STORIES = (
    Story(
        "third_party",
        "{svc}: errors from {vendor}",
        "ExternalDependencyErrors",
        (("error", "{vendor} API returned {code} after {ms} ms"),),
        "an outage at {vendor}; nothing changed on our side",
        "{Svc} calls to {vendor} fail or time out",
        "Failed over to the secondary provider until {vendor} recovered.",
    ),
    Story(
        "capacity",
        "{svc}: requests rejected under load",
        "HighLatency",
        (
            ("error", "request queue full ({n} waiting), rejecting request"),
            ("warning", "CPU throttled for {ms} ms in the last period"),
        ),
        "a traffic spike of {k}x from a marketing campaign, beyond provisioned capacity",
        "{Svc} rejects requests, traffic is {k}x the usual",
        "Scaled out and raised the autoscaling ceiling.",
    ),
    Story(
        "certificate",
        "{svc}: TLS errors calling {vendor}",
        "BlackboxProbeFailed",
        (("error", "TLS handshake with {vendor} failed: certificate has expired"),),
        "an expired TLS certificate on the {vendor} endpoint",
        "{Svc} cannot reach {vendor} over TLS",
        "Rotated the certificate; added expiry monitoring 30 days ahead.",
    ),
    Story(
        "cloud",
        "{svc}: slow disk I/O in {region}",
        "NodeDiskIOSaturation",
        (("error", "I/O timeout on volume vol-{id} after {ms} ms"),),
        "a storage degradation of the cloud provider in {region}",
        "{Svc} writes stall in {region}",
        "Moved traffic out of {region} until the provider fixed the volumes.",
    ),
)
STORM_ALERTS = _words(
    "TargetDown KubeNodeNotReady HighLatency ErrorBudgetBurn KubePodNotReady BlackboxProbeFailed"
)
BACKGROUND_ALERTS = _words(
    "HighLatency PodRestarting CPUThrottlingHigh DiskSpaceLow ErrorBudgetBurn MemoryPressure "
    "ReplicaLag CertificateExpiringSoon TargetDown HighErrorRate"
)
SPAN_MESSAGES = ("deadline exceeded", "connection refused", "internal error", "unavailable")
