"""ims_excel: the IMS engine behind the Excel workbook.

Packages, one job each, in layers (each imports only from the layers below it; the contracts are in
pyproject.toml ``[tool.importlinter]`` and tests/test_architecture.py checks them):

* ``cli`` (the ``ims-excel`` command) and ``xl`` (the xlwings doors inside Excel);
* ``book`` - the client-workbook lifecycle: read, process, import, export, new, roll, upgrade, history, batch;
* ``template`` (the .xlsm built from source, with its specs and cached values) and ``formats`` (portal files
  in and out);
* ``engine`` - validation, GSTR-2B, GSTR-3B Table 4, supplier add-back, deadlines, the messages;
* the core: ``normalise`` (typed records, named errors), ``rules`` (the IMS rules as dated data), ``records``,
  ``gstin``, ``vec``, ``periods``;
* ``xlsx`` - the generic in-place xlsx layer, which imports nothing of IMS.
"""

__version__ = "0.1.0"
