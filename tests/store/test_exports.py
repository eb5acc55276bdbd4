"""The package's public surface is what __all__ says, and every name in it exists."""

from __future__ import annotations

import llmrt.runtime.store as store


def test_all_names_exist_and_nothing_public_is_missing():
    assert sorted(store.__all__) == sorted(set(store.__all__))
    for name in store.__all__:
        assert hasattr(store, name), name
    public = {n for n in vars(store) if not n.startswith("_") and not isinstance(
        getattr(store, n), type(store))} - {"annotations"}
    assert public == set(store.__all__)
