"""``python -m ims_excel.cli``: the ``ims-excel`` command."""

import sys

from ims_excel.cli.app import main

sys.exit(main())
