"""The generic in-place xlsx layer; it imports nothing of IMS (an import-linter contract says so).

* :mod:`.package` - the zip package: parts read and copied raw, written (streamed, ZIP64), saved atomically;
  :class:`~.package.PackageProblem` for a file that is not a usable package; the zip-bomb and XML checks;
* :mod:`.fileio` - the one atomic writer (dated backups, mode and owner kept, read-only targets refused,
  symlinks written through, disk full reported) and the run lock beside a book;
* :mod:`.units` - the one sheet splitter (head, blobs of whole rows, tail); :mod:`.sheetxml` - rows in,
  rows out (cell encoding, the injector of cached values); :mod:`.fastread` - the numpy cell reader;
* :mod:`.tableread` - a table's cell range read into column arrays, the one path of reading a table
  (package, units, fastread or calamine, fanout), each block handed to the caller's ``finish``;
* :mod:`.codec` - ISA-L deflate/inflate; :mod:`.fanout` - units of a big sheet to worker processes
  (forked, or spawned where there is no ``fork``), through shared memory;
* :mod:`.dates` - Excel's date serials; :mod:`.alloc` - glibc allocator tuning (called by the CLI only).
"""
