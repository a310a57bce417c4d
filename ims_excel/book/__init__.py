"""The client-workbook lifecycle, one module per job (the use cases the CLI and the Excel buttons call).

* :mod:`.port` - what a use case needs from a workbook; :mod:`.filebook` - its adapter for a closed file
  (the xlwings one, for the open workbook, is :mod:`ims_excel.xl.openbook`);
* :mod:`.read` - a client workbook's Config, its Inward / Outward tables, the engine run on them;
* :mod:`.edit` - package edits (sheets, calc chain, custom properties) and the styles we borrow;
* :mod:`.carry` - what a change cannot keep (refused, naming the parts, unless forced);
* :mod:`.processing` (``process`` on any workbook: the command's door is :mod:`.process`, with the
  file's lock, signatures and custom property), :mod:`.imports`, :mod:`.export`, :mod:`.reconcile`,
  :mod:`.new`, :mod:`.roll`, :mod:`.upgrade`, :mod:`.history`, :mod:`.batch` - one use case each;
* :mod:`.cached` - the engine's values cached into every formula cell of a file (issue 9);
* :mod:`.outputs` - what the doors write, computed from the engine's result (grids, summaries, Config).
"""
