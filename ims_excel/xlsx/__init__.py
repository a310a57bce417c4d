"""The generic in-place xlsx layer: zip package, streamed sheets, cell reading and writing, worker fan-out."""
