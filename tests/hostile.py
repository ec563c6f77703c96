"""Hypothesis strategies for hostile input, shared by every surface's property suite.

Bounded on purpose (few examples, no example database), so CI stays fast; each suite
asserts the same property: no 5xx, no dropped socket, nothing stored that a later read
cannot serve.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every code point, lone surrogates and NUL included: what JSON escapes can carry.
ANY_CHAR = st.characters(codec=None, categories=None)
NASTY = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\r\n", "\u202e", "\u200b", "²", "①", "٣", "%00", "[", "<"]
)
# Short text that is mostly hostile: any characters with the known troublemakers mixed in.
hostile_text = st.lists(st.one_of(ANY_CHAR, NASTY), max_size=40).map("".join)
# Long values past the columns' sizes, now and then.
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["x", "ü", "\U0001f600"]), st.integers(0, 5000)
)
text_values = st.one_of(hostile_text, long_text)
# Ids as strings: in range, past 32 and 64 bits, negative, non-ASCII digits, junk.
id_strings = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["2147483647", "2147483648", "0", "-1", "1e3", "²", "①", "٣", " 1", "1_0"]),
    hostile_text,
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), text_values
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)

# derandomize: CI runs the same examples every time, so a red run can be replayed and a
# green one is not luck; widen the search locally with a hypothesis profile if needed.
bounded = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
