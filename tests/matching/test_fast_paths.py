"""The matcher's fast paths give exactly what the numpy routines they replace give."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from clearance.matching.candidates import _unique


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=200))
def test_unique_ids_and_inverse_equal_numpys(values: list[int]) -> None:
    array = np.asarray(values, dtype=np.int64)
    expected, expected_inverse = np.unique(array, return_inverse=True)
    unique, inverse = _unique(array)
    assert unique.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.tolist()
    assert (unique[inverse] == array).all()
