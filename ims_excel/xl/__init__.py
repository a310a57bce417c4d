"""The xlwings doors inside Excel: :mod:`.udfs` (worksheet functions), :mod:`.macros` (the buttons) and
:mod:`.openbook` (the open workbook as the use cases' port, :mod:`ims_excel.book.port`)."""
