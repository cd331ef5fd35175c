"""Small vectorised tools of the generator: random streams, ids, texts and numbers.

Also the array types and the time units (microseconds) every part of it uses.
"""

from __future__ import annotations

import math
import string
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Objs = npt.NDArray[np.object_]
Bools = npt.NDArray[np.bool_]

#: Time units: times are integer microseconds after the start of the history.
US = 1_000_000
MIN = 60 * US
HOUR = 60 * MIN
DAY = 24 * HOUR

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def stream_rng(seed: int, stream: str) -> np.random.Generator:
    """A generator per stream: changing one part of the settings leaves the others be."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _hex_matrix(raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    out = np.empty((raw.shape[0], raw.shape[1] * 2), np.uint8)
    out[:, 0::2] = _HEX[raw >> 4]
    out[:, 1::2] = _HEX[raw & 15]
    return out


def random_hex(rng: np.random.Generator, n: int, chars: int) -> Objs:
    """``n`` random lower-case hex strings of ``chars`` digits."""
    nbytes = (chars + 1) // 2
    raw = np.frombuffer(rng.bytes(n * nbytes), np.uint8).reshape(n, nbytes)
    text = np.ascontiguousarray(_hex_matrix(raw)[:, :chars])
    return text.view(f"S{chars}").ravel().astype(f"U{chars}").astype(object)


def random_uuids(rng: np.random.Generator, n: int) -> Objs:
    """``n`` random UUID4 strings (version and variant bits set), from ``rng``."""
    raw = np.frombuffer(rng.bytes(n * 16), np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = np.full((n, 36), ord("-"), np.uint8)
    out[:, _UUID_POS] = _hex_matrix(raw)
    return out.view("S36").ravel().astype("U36").astype(object)


def iso_text(us: Ints) -> Objs:
    """RFC 3339 text of epoch microseconds, as Alertmanager writes ``startsAt``."""
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return np.char.add(text, "Z").astype(object)


def where_objects(mask: Bools, yes: Any, no: Any) -> Objs:
    """``numpy.where`` into an object array (values may be None)."""
    out = no.astype(object) if isinstance(no, np.ndarray) else full_objects(no, len(mask))
    out[mask] = yes[mask] if isinstance(yes, np.ndarray) else yes
    return out


def pick_uniform(rng: np.random.Generator, values: Sequence[Any], n: int) -> Objs:
    """``n`` values drawn uniformly from ``values``, as an object array."""
    pool = np.empty(len(values), object)
    pool[:] = list(values)
    return pool[rng.integers(0, len(values), n)]


def full_objects(value: Any, n: int) -> Objs:
    """An object array of ``n`` times ``value`` (a tuple stays one value)."""
    out = np.empty(n, object)
    out[:] = [value] * n if isinstance(value, tuple) else value
    return out


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> Floats:
    """``n`` log-normal draws around ``median``."""
    return np.asarray(rng.lognormal(math.log(median), sigma, n), np.float64)


def allocate(shares: Sequence[float], n: int, rng: np.random.Generator) -> Ints:
    """``n`` labels 0..k-1 in exactly these shares (largest remainders), shuffled."""
    exact = np.asarray(shares, np.float64) * n
    counts = np.floor(exact).astype(np.int64)
    rest = n - int(counts.sum())
    if rest:
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    labels = np.repeat(np.arange(len(shares), dtype=np.int64), counts)
    return np.asarray(rng.permutation(labels), np.int64)


#: How each numeric field of a message format is drawn.
_FIELDS: dict[str, Callable[[np.random.Generator, int], list[Any]]] = {
    "n": lambda r, k: r.integers(2, 1000, k).tolist(),
    "ms": lambda r, k: (np.round(r.lognormal(6.0, 1.1, k)).astype(np.int64) + 5).tolist(),
    "id": lambda r, k: r.integers(100_000, 99_999_999, k).tolist(),
    "k": lambda r, k: r.integers(2, 10, k).tolist(),
    "pct": lambda r, k: r.integers(1, 100, k).tolist(),
    "mb": lambda r, k: r.integers(200, 4096, k).tolist(),
    "code": lambda r, k: r.choice(np.array([429, 500, 502, 503, 504]), k).tolist(),
    "ip": lambda r, k: [
        f"10.{a}.{b}.{c}:{p}"
        for a, b, c, p in zip(
            r.integers(0, 255, k).tolist(),
            r.integers(0, 255, k).tolist(),
            r.integers(1, 255, k).tolist(),
            r.integers(1024, 65535, k).tolist(),
            strict=True,
        )
    ],
}


def render(fmt: str, rng: np.random.Generator, n: int) -> list[str]:
    """``n`` messages of one format, its numeric fields drawn at random."""
    names = list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(fmt) if f))
    if not names:
        return [fmt] * n
    positional = fmt
    for i, name in enumerate(names):
        positional = positional.replace("{" + name + "}", "{" + str(i) + "}")
    columns = [_FIELDS[name](rng, n) for name in names]
    return list(map(positional.format, *columns))


def fill_names(text: str, **names: str) -> str:
    """Put names (service, dependency, vendor ...) into a format, keeping number fields."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def capitalize(text: str) -> str:
    """``text`` with its first letter upper-case (the rest as it is)."""
    return text[:1].upper() + text[1:]


def lookup_names(idx: Ints, names: Sequence[str], keep: Bools | None = None) -> Objs:
    """``names[idx]`` as an object array; None where ``idx`` is negative or not ``keep``."""
    pool = np.empty(len(names) + 1, object)
    pool[:-1] = list(names)
    pool[-1] = None
    picked = np.where(idx < 0, len(names), idx)
    if keep is not None:
        picked = np.where(keep, picked, len(names))
    return pool[picked]
