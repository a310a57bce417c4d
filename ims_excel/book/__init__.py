"""The client-workbook lifecycle: read, process, import, export, roll, new, upgrade, batch."""
