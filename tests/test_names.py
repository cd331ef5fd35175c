"""One vocabulary for names: ``key`` in Python and ``key_sql`` in DuckDB agree, aliases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rca_analytics as rca
from rca_analytics._names import WHITESPACE, Aliases, key, key_sql
from rca_analytics.models import Alias


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rca.Store]:
    with rca.connect(tmp_path_factory.mktemp("names") / "s.duckdb") as opened:
        yield opened


def sql_keys(store: rca.Store, texts: list[str]) -> list[str | None]:
    """``key_sql`` of each text, computed by the store's DuckDB."""
    frame = store.sql(
        f"SELECT list_transform(?::VARCHAR[], lambda x: {key_sql('x')}) AS k", [texts]
    )
    return list(frame["k"].iloc[0])


# Text built to be hostile: every white space Python knows, cased letters whose
# lower case depends on context (final sigma) or grows (dotted I), quotes, SQL and
# regex syntax, and anything else Unicode has.
HOSTILE = st.text(
    st.one_of(
        st.sampled_from(WHITESPACE),
        st.sampled_from("ΣσςİIıAa'\"%_\\*+.[]()|^$\x00"),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=16,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=20))
def test_key_and_key_sql_agree_on_hostile_text(store: rca.Store, texts: list[str]) -> None:
    assert sql_keys(store, texts) == [key(t) for t in texts]


@pytest.mark.parametrize("space", list(WHITESPACE))
def test_every_ascii_and_unicode_white_space_is_one_space(store: rca.Store, space: str) -> None:
    text = f"{space}Payments{space}{space}API{space}"
    assert key(text) == "payments api"
    assert sql_keys(store, [text]) == ["payments api"]


def test_white_space_is_what_python_splits_on() -> None:
    spaces = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert set(spaces) == set(WHITESPACE)


@given(HOSTILE)
def test_key_is_idempotent_and_blank_is_none(text: str) -> None:
    k = key(text)
    assert key(k) == k
    if k is not None:
        assert k == k.strip() and "  " not in k and k.lower() == k
    assert (k is None) == (not text.split())


def test_context_free_lower_case() -> None:
    # DuckDB lowers one character at a time; so does key()
    assert key("ΟΔΟΣ") == "οδοσ" != "ΟΔΟΣ".lower()
    assert key("İstanbul") == "istanbul"


def test_aliases_keys_and_canonical() -> None:
    names = Aliases(
        {"payments": "payments", "payments-api": "payments", "pay": "payments", "ui": "Web UI"}
    )
    assert names.keys(" PAY ") == ["pay", "payments", "payments-api"]
    assert names.keys("Payments") == ["pay", "payments", "payments-api"]
    assert names.keys("checkout") == ["checkout"]
    assert names.keys("UI") == ["ui", "web ui"]  # the name's own key, even without a row
    assert names.keys("   ") == []
    assert names.keys_of(["pay", "checkout"]) == ["pay", "payments", "payments-api", "checkout"]
    assert names.canonical("PAYMENTS-api") == "payments"
    assert names.canonical("Checkout") == "Checkout"
    assert names.canonical("ui") == "Web UI"
    assert not Aliases() and names


def test_stored_alias_keys_are_key(tmp_path: Path) -> None:
    with rca.connect(tmp_path / "s.duckdb") as store:
        store.alias("Zahlungs  Dienst", " ZAHLUNG\tΣ ")
        assert store.aliases()["alias"].tolist() == ["zahlung σ", "zahlungs dienst"]
        assert store.aliases()["name"].tolist() == ["Zahlungs  Dienst"] * 2


@given(HOSTILE.filter(lambda t: bool(t.split())))
def test_the_alias_model_keeps_a_key_as_it_is(text: str) -> None:
    k = key(text)
    assert Alias(alias=k, name=text).alias == k
