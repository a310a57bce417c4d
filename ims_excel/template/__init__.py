"""The workbook built from source: tables, formulas, summaries, Rules and Config sheets, styles, VBA."""
