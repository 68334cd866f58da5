"""probe_media against Debian's ffprobe run once per file, on the same 1,000 small files.

Run from the repository root (needs the ``media`` extra and ``apt-get install -y ffmpeg`` for
the ffprobe side; the tests need neither ffmpeg nor this script)::

    .venv/bin/python benchmarks/bench_media.py            # 1000 files, 3 repeats
    .venv/bin/python benchmarks/bench_media.py 400 1      # files, repeats

The files are the sandbox's shipped media (every format: MKA, MKV, WebM, MP4, M4A, MP3, WAV),
copied round-robin into a temporary folder. ffprobe runs the way a script would use it: one
process per file, ``-show_format -show_streams`` as JSON, sequentially. probe_media runs with
its defaults (header, index and last second, in threads), and once with ``decode=True``. The
best of the repeats is reported.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import recanalytics as ra
from recanalytics.sandbox import storage

FORMATS = [
    name
    for name in storage.MEDIA_SECONDS
    if name.split(".")[-1] in {"mka", "mkv", "webm", "mp4", "m4a", "mp3", "wav"}
    and name != "data.mka"
]


def best(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        sys.exit("ffprobe not found: apt-get install -y ffmpeg")
    version = subprocess.run([ffprobe, "-version"], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(count):
            name = FORMATS[i % len(FORMATS)]
            path = root / f"file-{i:05d}.{name.split('.')[-1]}"
            shutil.copyfile(storage.MEDIA_DIR / name, path)
            paths.append(path)
        total = sum(p.stat().st_size for p in paths)

        def with_ffprobe() -> None:
            for path in paths:
                subprocess.run(
                    [
                        ffprobe,
                        "-v",
                        "error",
                        "-of",
                        "json",
                        "-show_format",
                        "-show_streams",
                        str(path),
                    ],
                    capture_output=True,
                    check=True,
                )

        probed = ra.probe_media(paths)
        assert probed["error"].null_count() == count and probed["decodable"].all()
        fast = best(lambda: ra.probe_media(paths), repeats)
        full = best(lambda: ra.probe_media(paths, decode=True), repeats)
        slow = best(with_ffprobe, repeats)
    print(f"{count} files ({len(FORMATS)} formats, {total / 2**20:.1f} MiB), best of {repeats}")
    print(f"python {platform.python_version()}, {version.splitlines()[0]}")
    print("| method | time | files/s | vs ffprobe |")
    print("|---|---|---|---|")
    print(f"| ffprobe, one process per file | {slow:.2f} s | {count / slow:,.0f} | 1.0× |")
    print(f"| probe_media (index) | {fast:.2f} s | {count / fast:,.0f} | {slow / fast:.1f}× |")
    print(f"| probe_media(decode=True) | {full:.2f} s | {count / full:,.0f} | {slow / full:.1f}× |")


if __name__ == "__main__":
    main()
