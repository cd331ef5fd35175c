"""The generator behind :mod:`rca_analytics.synthetic`, one job per module.

From the bottom up: ``_vocabulary`` (names, templates, stories), ``_tools`` (random streams,
ids, texts, time units), ``_settings`` (:class:`HistorySettings`, the work calendar),
``_topology`` (the fleet), ``_incidents`` (what goes wrong, when), ``_events`` (the record
of events, truth links and noise), ``_changes`` (commits, builds, deploys, config
changes), ``_signals`` (logs, alerts, spans, floods and storms), ``_symptoms`` (what an
incident shows), ``_frames`` and ``_postmortem`` (the frames and investigations), and
``_generator`` (the order it all happens in). Nothing here imports the public module.
"""
