"""Benchmark: peak memory and time of reading a big IMS JSON, parsed whole vs streamed (issue 14).

Run: ``python benchmarks/bench_json_memory.py [MB]`` (default 74). An IMS JSON of about that size is
generated (:func:`benchmarks.bench_formats.make_json`, ~388 bytes a record), then each way of reading
it runs in its own fresh process, side by side in one run (alternating, ``--repeat`` times), and
reports its own peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and time:

* ``whole read``: ``json.loads`` of the whole file (:func:`ims_excel.formats._jsonio.read_whole_with`,
  the way the readers worked before), into the raw frame;
* ``streamed read``: :func:`ims_excel.formats.detect_and_read` (:mod:`ims_excel.formats._jsonstream`),
  into the raw frame;
* ``whole load`` / ``streamed load``: the same plus the typed step (``to_typed``, normalise), as
  ``import`` and ``report`` read a source;
* ``python + imports``: the interpreter with the package imported and nothing read (the floor).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])

BYTES_PER_RECORD = 388

WAYS = {
    "python + imports": "from ims_excel.formats import ims_json, load, detect_and_read\n",
    "whole read": "from ims_excel.formats import parse_json\nfrom ims_excel.formats._jsonio import read_whole_with\n"
                  "raw = read_whole_with(parse_json, PATH)\n",
    "streamed read": "from ims_excel.formats import detect_and_read\nraw = detect_and_read(PATH)\n",
    "whole load": "from ims_excel.formats import parse_json, to_typed\nfrom ims_excel.formats._jsonio import "
                  "read_whole_with\nraw = to_typed(read_whole_with(parse_json, PATH))\n",
    "streamed load": "from ims_excel.formats import load\nraw = load(PATH)\n",
}


def measure(code: str, path: Path) -> tuple[float, float, int]:
    """(peak RSS MB, seconds, rows) of ``code`` run in a fresh Python process."""
    root = ROOT
    script = (f"import resource, sys, time\nsys.path.insert(0, {root!r})\nPATH = {str(path)!r}\n"
              f"t0 = time.perf_counter()\n{code}t = time.perf_counter() - t0\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, t, len(raw) if 'raw' in dir() else 0)\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": root})
    kb, seconds, rows = out.stdout.split()
    return int(kb) / 1024, float(seconds), int(rows)


def main(mb: float = 74, repeat: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ims.json"
        # Made in a process of its own: a child's ru_maxrss starts from its parent's (fork keeps it over exec).
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {ROOT!r}); from benchmarks."
                        f"bench_formats import make_json; from pathlib import Path; "
                        f"make_json(Path({str(path)!r}), {int(mb * 2**20 / BYTES_PER_RECORD)})"], check=True)
        size = path.stat().st_size / 2**20
        print(f"IMS JSON: {size:.1f} MB; machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in WAYS}
        for _ in range(repeat):
            for name, code in WAYS.items():
                results[name].append(measure(code, path))
        print(f"{'way':<18}{'peak RSS MB':>12}{'x file':>8}{'seconds':>9}{'rows':>9}   (best of {repeat})")
        for name, runs in results.items():
            peak, seconds, rows = min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2]
            print(f"{name:<18}{peak:>12.0f}{peak / size:>8.1f}{seconds:>9.1f}{rows:>9}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 74, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
