"""Vectorised helpers: map a column through its few distinct values, not row by row.

>>> import pandas as pd
>>> by_unique(pd.Series(["a", "b", "a"]), {"a": 1, "b": 2}, default=0, dtype="int8").tolist()
[1, 2, 1]
>>> by_unique(pd.Series(["27AB", "29CD"]), lambda s: s[:2], dtype=object).tolist()
['27', '29']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd


def by_unique(series: pd.Series | np.ndarray, how: Mapping | Callable, default: object = None,
              dtype: object = object) -> np.ndarray:
    """Apply a mapping or function to each distinct value once, then broadcast."""
    if isinstance(getattr(series, "dtype", None), pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), list(series.cat.categories)  # already factorised
    else:
        codes, uniques = pd.factorize(np.asarray(series, dtype=object), use_na_sentinel=True)
    if isinstance(how, Mapping):
        values = [how.get(u, default) for u in uniques]
    else:
        values = [how(u) for u in uniques]
    lookup = np.array(values + [default], dtype=dtype)  # the sentinel -1 picks the default
    return lookup[codes]


def codes_in(series: pd.Series, values: "list[str] | tuple[str, ...]") -> np.ndarray:
    """Position of each value in ``values`` (-1 if absent); free for categoricals.

    >>> codes_in(pd.Series(["b", "x", "a"]), ("a", "b")).tolist()
    [1, -1, 0]
    """
    if isinstance(getattr(series, "dtype", None), pd.CategoricalDtype):
        where = pd.Index(values).get_indexer(series.cat.categories)
        return np.append(where, -1)[series.cat.codes.to_numpy()]
    return pd.Index(values).get_indexer(np.asarray(series, dtype=object))


def labels(codes: np.ndarray, names) -> pd.Categorical:
    """Text column from integer codes without building a million strings (-1 = missing).

    >>> list(labels(np.array([1, 0, 1]), ["no", "yes"]))
    ['yes', 'no', 'yes']
    """
    return pd.Categorical.from_codes(np.asarray(codes, dtype="int64"), categories=list(names))
