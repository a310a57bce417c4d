"""ims_excel: the IMS engine behind the Excel workbook.

Folders, one job each:
``rules`` (the IMS rules as dated data), ``engine`` (validation, GSTR-2B,
GSTR-3B Table 4, supplier add-back, deadlines), ``formats`` (portal files in
and out), ``workbook`` (the .xlsm built from source), ``xl`` (xlwings doors),
``cli`` (the ``ims-excel`` command).
"""

__version__ = "0.1.0"
