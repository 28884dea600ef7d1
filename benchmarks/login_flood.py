"""Login flood: N clients send wrong passwords to ``POST /login`` while a probe times other requests.

    .venv/bin/python benchmarks/login_flood.py                    # 10 clients x 5 wrong logins, bcrypt cost 12
    .venv/bin/python benchmarks/login_flood.py --no-throttle      # throttle out of the way: the event loop alone
    .venv/bin/python benchmarks/login_flood.py --clients 10 --per-client 5 --rounds 12 --out FILE.json

Serves the app (without the Gradio UI: the stall is the event loop's, whatever the route) with uvicorn
on a free loopback port, over an empty data folder, with two users hashed at ``--rounds``. Each client
is its own loopback address (127.0.0.N via uvicorn's peer address), as the probe's clients were, and
tries one account ("alice") with wrong passwords. Meanwhile a probe fetches ``GET /login`` every 50 ms.
Prints one JSON object: how long the flood took, how the attempts ended (303 wrong password, 429
throttled), and the probe's p50/p95/max latency during the flood and before it.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt cost of the users' hashes (production: 12)")
    parser.add_argument("--no-throttle", action="store_true", help="set login_throttle_after high")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import uvicorn
    from civicrag.ui.auth import hash_password
    from civicrag.ui.server import create_app

    from civicrag.settings import load_settings

    data = Path(tempfile.mkdtemp(prefix="civicrag-bench-login-"))
    users = {name: {"role": role, "password_hash": hash_password(f"{name}-pw-1", rounds=args.rounds)}
             for name, role in (("alice", "admin"), ("bob", "staff"))}
    extra: dict[str, Any] = {"login_throttle_after": 10_000} if args.no_throttle else {}
    settings = load_settings(None, data_dir=data, auth_mode="users", users=users, session_secret="bench", **extra)
    app = create_app(settings, with_ui=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="0.0.0.0", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def probe(stop: threading.Event, out: list[float]) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while not stop.is_set():
                t0 = time.perf_counter()
                client.get("/login").raise_for_status()
                out.append(time.perf_counter() - t0)
                time.sleep(0.05)

    baseline: list[float] = []
    stop = threading.Event()
    t = threading.Thread(target=probe, args=(stop, baseline))
    t.start()
    time.sleep(1.0)
    stop.set()
    t.join()

    statuses: dict[int, int] = {}
    samples: dict[int, str] = {}
    lock = threading.Lock()

    def flood(n: int) -> None:
        # Each client comes from its own loopback address (127.0.0.2, 127.0.0.3, ...).
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{n + 2}")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, transport=transport) as client:
            for i in range(args.per_client):
                got = client.post("/login", data={"username": "alice", "password": f"wrong-{n}-{i}"},
                                  headers={"Origin": f"http://127.0.0.1:{port}"}, follow_redirects=False)
                with lock:
                    statuses[got.status_code] = statuses.get(got.status_code, 0) + 1
                    samples.setdefault(got.status_code, got.text[-300:])

    during: list[float] = []
    stop = threading.Event()
    t = threading.Thread(target=probe, args=(stop, during))
    t.start()
    t0 = time.perf_counter()
    workers = [threading.Thread(target=flood, args=(n,)) for n in range(args.clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    flood_s = time.perf_counter() - t0
    stop.set()
    t.join()
    server.should_exit = True
    thread.join(timeout=10)

    result = {
        "clients": args.clients, "per_client": args.per_client, "bcrypt_rounds": args.rounds,
        "throttle": not args.no_throttle, "flood_s": round(flood_s, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "unexpected": {str(k): v for k, v in samples.items() if k not in (303, 429)},
        "probe_before_ms": {"p50": round(percentile(baseline, 50) * 1000, 1),
                            "max": round(max(baseline) * 1000, 1)},
        "probe_during_ms": {"n": len(during), "p50": round(percentile(during, 50) * 1000, 1),
                            "p95": round(percentile(during, 95) * 1000, 1), "max": round(max(during) * 1000, 1)},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
