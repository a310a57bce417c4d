"""The workbook built from source (``python -m ims_excel.template.build``, deterministic).

:mod:`.specs` (the Inward / Outward tables, imported by the builder and the doors), :mod:`.tables`,
:mod:`.inward` / :mod:`.outward` (formula columns) with :mod:`.cached` (their values from the engine's
result), :mod:`.summaries`, :mod:`.rules_sheet`, :mod:`.config`, :mod:`.start`, :mod:`.styles`,
:mod:`.vba` (with the top-level ``vba_stub/``).
"""
