"""Footprint of the real daemon (``ashyq-kiosk run``) as systemd would see it:
time from start to READY=1 on a NOTIFY_SOCKET we own, peak RSS without and
with the camera, and idle CPU over a quiet minute.

    python -m bench.bench_footprint [--idle 60]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from bench.results import record

TOKEN = "bench-token"
NUMBER = "871008401427"


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def camera_video(folder: str) -> str:
    """A short video of a QR code with the demo IIN, written by OpenCV."""
    import cv2
    import numpy as np
    import segno
    qr = segno.make(NUMBER, error="m")
    modules = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], dtype=np.uint8)
    code = cv2.resize(modules, (240, 240), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640), 200, np.uint8)
    frame[120:360, 200:440] = code
    path = os.path.join(folder, "camera.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    for _ in range(800):  # longer than the whole measurement: the camera decodes throughout
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def write_config(folder: str, url: str, scanner: str, camera: str) -> str:
    secrets = os.path.join(folder, "secrets.toml")
    with open(secrets, "w") as handle:
        handle.write(f'status_token = "{TOKEN}"\nperson_key = "bench"\n')
    os.chmod(secrets, 0o600)
    path = os.path.join(folder, "kiosk.toml")
    camera_section = f'[camera]\nenabled = true\nsource = "{camera}"\n' if camera else ""
    with open(path, "w") as handle:
        handle.write(f"""[kiosk]
state_dir = "{folder}/state"
secrets_file = "{secrets}"
log_level = "warning"
[status]
base_url = "{url}"
[scanner]
port = "{scanner}"
[signals]
pin_factory = "mock"
[display]
video_driver = "dummy"
fullscreen = false
{camera_section}""")
    return path


def _drain(sock) -> None:
    while True:
        try:
            sock.recv(4096)
        except OSError:  # closed at the end, or timed out while idle
            if sock.fileno() < 0:
                return


def measure(url: str, idle: float, camera: str = "") -> dict:
    folder = tempfile.mkdtemp(prefix="bench-footprint-")
    master, slave = os.openpty()
    config = write_config(folder, url, os.ttyname(slave), camera)
    notify_path = os.path.join(folder, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(1)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="10000000",
               SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    start = time.perf_counter()
    daemon = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", config],
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    ready = None
    try:
        while ready is None:
            if daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited ({daemon.returncode}) before READY=1")
            try:
                message = notify.recv(4096).decode()
            except TimeoutError:
                if time.perf_counter() - start > 30:
                    raise
                continue
            if "READY=1" in message:
                ready = time.perf_counter() - start
        drain = threading.Thread(target=_drain, args=(notify,), daemon=True)
        drain.start()  # as systemd does: it reads every notification
        for _ in range(20):
            os.write(master, NUMBER.encode() + b"\r")
            time.sleep(0.3)
        time.sleep(6)  # back to idle
        cpu_before, wall_before = proc_cpu_seconds(daemon.pid), time.perf_counter()
        time.sleep(idle)
        cpu = (proc_cpu_seconds(daemon.pid) - cpu_before) / (time.perf_counter() - wall_before)
        rss = peak_rss_mb(daemon.pid)
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)
        notify.close()
        os.close(master)
        os.close(slave)
    return {"ready": ready, "rss": rss, "cpu": cpu * 100}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=60.0)
    args = parser.parse_args(argv)
    from kiosk.servers.status_server import StatusServer
    folder = tempfile.mkdtemp(prefix="bench-camera-")
    with StatusServer({NUMBER: {"colour": "green", "name": ""}}, token=TOKEN) as server:
        plain = measure(server.url, args.idle)
        try:
            import drivers.camera  # noqa: F401
            camera = measure(server.url, min(args.idle, 20.0), camera_video(folder))
        except ImportError:
            camera = {"ready": float("nan"), "rss": float("nan"), "cpu": float("nan")}
    verdict = lambda ok: "met" if ok else "MISSED"
    lines = [
        "| figure | without camera | with camera | target |",
        "|---|---|---|---|",
        f"| start to READY=1 | {plain['ready']:.2f} s | {camera['ready']:.2f} s | <= 2 s |",
        f"| peak RSS (VmHWM) | {plain['rss']:.1f} MB | {camera['rss']:.1f} MB | <= 80 MB / 150 MB |",
        f"| idle CPU, one core | {plain['cpu']:.2f} % over {args.idle:.0f} s | "
        f"{camera['cpu']:.2f} % (camera decoding) | <= 3 % (without camera) |",
        "",
        f"READY {verdict(plain['ready'] <= 2)}; RSS without camera {verdict(plain['rss'] <= 80)}, "
        f"with camera {verdict(camera['rss'] <= 150)}; idle CPU {verdict(plain['cpu'] <= 3)}.",
    ]
    record("Footprint of the daemon (bench/bench_footprint.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
