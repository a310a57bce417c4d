"""The ``ims-excel`` command: argument parsing, exit codes and output formatting over the use cases.

* :mod:`.app` - the parser and :func:`main` (the console entry point, also ``python -m ims_excel.cli``);
* :mod:`.exits` - exit codes (once), the usage error, parsing of flag values;
* :mod:`.commands` - ``report`` and ``rules``; :mod:`.demo` - ``demo``;
* :mod:`.book` - the commands on client workbooks (new, import, process, export, roll, batch, upgrade),
  each a call into :mod:`ims_excel.book`;
* :mod:`.output` - the engine's result as the ``report --json`` contract and as a text report.
"""

from ims_excel.cli.app import main

__all__ = ["main"]
