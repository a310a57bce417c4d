"""The format modules' docstrings are their specs: their examples must hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_common", "_jsonio", "_values", "_excel", "ims_json", "gstr2b_json", "portal_excel",
           "canonical", "purchase_register", "upload_json"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"ims_excel.formats.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
