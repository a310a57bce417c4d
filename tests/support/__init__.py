"""Test-only code, importable by the tests, the benchmarks and the scripts (which put the repository
root on ``sys.path``): not part of the runtime package.

* :mod:`.recalc` - LibreOffice as the formula engine (recalculate a built workbook, read its values);
* :mod:`.synthetic` - generated records covering every section, action and flag;
* :mod:`.sample` - tidy rows for pictures and typed-cell tests of the template;
* :mod:`.reference` - the per-row reference implementation of the rules the engine is checked against.
"""
