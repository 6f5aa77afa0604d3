"""The recording proxy's memory while a large upload streams through it to the upstream.

Starts a fake (the upstream) and `nemo-fake record` in front of it, sends one multipart upload
of N MB (default 300) through the proxy in 1 MB chunks, and prints the proxy's resident memory
at start and its peak, and the ratio of the two: the proxy passes the body on as it comes, so
the ratio stays near 1 whatever N is. The upstream refuses the zero-filled "video" (4001) once
it has it all; the cassette keeps the part's name and size. Linux only (/proc/PID/status).

Run: .venv/bin/python benchmarks/proxy_upload_memory.py [N]
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from nemo_fake import NemoFake
from nemo_fake.testing import serve

CHUNK = 1024 * 1024
NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


def memory_mb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    return 0


def multipart(megabytes: int, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    for _ in range(megabytes):
        yield bytes(CHUNK)
    yield f"\r\n--{boundary}--\r\n".encode()


def main(megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder, NemoFake() as upstream, serve(upstream) as api:
        cassette = Path(folder) / "upload.yaml"
        proxy = subprocess.Popen(
            [
                str(NEMO_FAKE),
                "record",
                "--upstream",
                api.url,
                "--port",
                "0",
                "--out",
                str(cassette),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proxy.stdout is not None
            found = re.search(r"through (http://\S+) into", proxy.stdout.readline())
            assert found, "no banner"
            url = found.group(1)
            at_start = memory_mb(proxy.pid, "VmRSS")
            with httpx.Client(base_url=url, timeout=600) as http:
                issued = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "bench"})
                auth = {"Authorization": f"Bearer {issued.json()['data']['token']}"}
                sid = http.post(
                    "/api/tasks/me/with-session/nemo_agent", headers=auth, json={"task_name": "b"}
                ).json()["data"]["session_id"]
                boundary = "nemo-bench-boundary"
                answer = http.post(
                    f"/api/upload-video/nemo_agent/me/{sid}",
                    headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                    content=multipart(megabytes, boundary),
                )
            peak = memory_mb(proxy.pid, "VmHWM")
        finally:
            proxy.send_signal(signal.SIGINT)
            proxy.wait(timeout=15)
        print(f"upload of {megabytes} MB through the proxy: answered {answer.status_code}")
        print(f"proxy memory at start: {at_start} MB, peak: {peak} MB")
        print(f"peak / start: {peak / max(at_start, 1):.2f}")
        print("cassette:", [line.strip() for line in cassette.read_text().splitlines()
                            if "filename" in line or "size:" in line])  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
