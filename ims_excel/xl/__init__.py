"""The xlwings doors inside Excel: :mod:`.udfs` (worksheet functions) and :mod:`.macros` (the buttons)."""
