"""Readers: turn files and signals from other systems into records.

A reader parses its input and yields records (or batches of them) with what it could
not read; it never writes to a store. The store loads what readers yield.
"""
