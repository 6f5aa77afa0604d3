"""How long render_mp4 takes for a portrait 1080x1920 video at 10 fps, and how big it gets.

Run: .venv/bin/python benchmarks/render_speed.py
"""

from __future__ import annotations

import pathlib
import tempfile
import time

from nemo_fake.media import render_mp4

DURATIONS_S = (10, 60, 300)


def main() -> None:
    print(f"{'duration':>9} {'frames':>7} {'seconds':>8} {'x realtime':>10} {'size':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for duration_s in DURATIONS_S:
            dest = pathlib.Path(tmp) / f"render-{duration_s}s.mp4"
            start = time.perf_counter()
            render_mp4(dest, width=1080, height=1920, duration_ms=duration_s * 1000, fps=10)
            elapsed = time.perf_counter() - start
            size = dest.stat().st_size
            print(
                f"{duration_s:>8}s {duration_s * 10:>7} {elapsed:>8.2f} "
                f"{duration_s / elapsed:>9.1f}x {size / 1024:>8.1f} KB"
            )


if __name__ == "__main__":
    main()
