"""How long render_mp4 takes for a portrait 1080x1920 video at 10 fps, and how big it gets.

The first render encodes the picture's 10 s loop; the process keeps it, so the later ones
(`cached`) only write packets. The ratio column compares each with the first render.

Run: .venv/bin/python benchmarks/render_speed.py
"""

from __future__ import annotations

import pathlib
import tempfile
import time

from nemo_fake.media import render_mp4

DURATIONS_S = (10, 60, 300)


def main() -> None:
    header = (
        f"{'duration':>9} {'frames':>7} {'loop':>7} {'seconds':>8} {'vs first':>9} {'size':>10}"
    )
    print(header)
    first: float | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for duration_s in DURATIONS_S:
            dest = pathlib.Path(tmp) / f"render-{duration_s}s.mp4"
            start = time.perf_counter()
            render_mp4(dest, width=1080, height=1920, duration_ms=duration_s * 1000, fps=10)
            elapsed = time.perf_counter() - start
            first = first or elapsed
            size = dest.stat().st_size
            loop = "encoded" if elapsed is first else "cached"
            print(
                f"{duration_s:>8}s {duration_s * 10:>7} {loop:>7} {elapsed:>8.2f} "
                f"{elapsed / first:>8.3f}x {size / 1024:>8.1f} KB"
            )


if __name__ == "__main__":
    main()
