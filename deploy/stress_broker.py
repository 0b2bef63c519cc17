"""Stress the embedded Celery queue (not a test): several producer and consumer processes at once.

Each producer process publishes ``--messages`` messages to one queue of a fresh broker file while the
consumer processes take them (one unacknowledged message each, acknowledged after it is recorded, as
Celery's workers do with ``acks_late`` and a prefetch of 1). At the end it prints how many were sent,
received, lost and received twice, the time per message, and the send → receive latency.

    .venv/bin/python deploy/stress_broker.py --producers 4 --consumers 3 --messages 1000

``--url`` points it at another broker (e.g. ``redis://127.0.0.1:6379/10``, with ``--transport ''``).
tests/deploy/test_broker.py runs a small one and checks that nothing is lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRANSPORT = "web.broker:Transport"
QUEUE = Queue("stress", Exchange("stress", type="direct"), routing_key="stress")


def connect(url: str, transport: str) -> Connection:
    return Connection(url, transport=transport or None)


def produce(url: str, transport: str, producer: int, messages: int, out) -> None:
    with connect(url, transport) as conn:
        publisher = Producer(conn.channel(), exchange=QUEUE.exchange, routing_key="stress")
        started = time.perf_counter()
        for n in range(messages):
            publisher.publish({"id": f"{producer}-{n}", "sent": time.time()}, declare=[QUEUE], retry=True)
        out.put(("sent", producer, time.perf_counter() - started))


def consume(url: str, transport: str, sending_done, out) -> None:
    """Take messages until the producers are done and the queue has stayed empty for two seconds."""
    received: list[tuple[str, float]] = []

    def on_message(body, message) -> None:
        received.append((body["id"], time.time() - body["sent"]))
        message.ack()

    with connect(url, transport) as conn:
        with Consumer(conn.channel(), queues=[QUEUE], callbacks=[on_message], accept=["json"],
                      prefetch_count=1):
            idle = 0.0
            while not (sending_done.is_set() and idle >= 2.0):
                try:
                    conn.drain_events(timeout=0.5)
                    idle = 0.0
                except TimeoutError:
                    idle += 0.5
    out.put(("received", received))


def run(*, producers: int, consumers: int, messages: int, url: str = "", transport: str = TRANSPORT) -> dict:
    """The stress run's figures; a fresh SQLite broker file in a temporary folder unless ``url``."""
    with tempfile.TemporaryDirectory(prefix="digitscan-stress-") as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'broker.sqlite3'}"
        with connect(url, transport) as conn:  # the queue exists before anyone consumes
            QUEUE(conn.channel()).declare()
        ctx = mp.get_context("spawn")
        out, sending_done = ctx.Queue(), ctx.Event()
        readers = [ctx.Process(target=consume, args=(url, transport, sending_done, out))
                   for _ in range(consumers)]
        writers = [ctx.Process(target=produce, args=(url, transport, p, messages, out))
                   for p in range(producers)]
        started = time.perf_counter()
        for process in readers + writers:
            process.start()
        # A process that died never reports: fail after a generous wait rather than hang.
        results = [out.get(timeout=600) for _ in writers]
        sending_done.set()
        results += [out.get(timeout=600) for _ in readers]
        elapsed = time.perf_counter() - started
        for process in readers + writers:
            process.join(timeout=30)
    return summarise(results, producers * messages, elapsed, producers, messages)


def summarise(results: list, expected: int, elapsed: float, producers: int, messages: int) -> dict:
    sent = {f"{p}-{n}" for p in range(producers) for n in range(messages)}
    got = [item for kind, *rest in results if kind == "received" for item in rest[0]]
    ids = [i for i, _ in got]
    latencies = sorted(lat for _, lat in got)
    send_s = [rest[1] for kind, *rest in results if kind == "sent"]
    return {
        "sent": expected, "received": len(ids), "lost": len(sent - set(ids)),
        "duplicated": len(ids) - len(set(ids)), "unexpected": len(set(ids) - sent),
        "per_consumer": [len(rest[0]) for kind, *rest in results if kind == "received"],
        "elapsed_s": round(elapsed, 2), "ms_per_message": round(1000 * elapsed / max(1, expected), 2),
        "publish_ms_per_message": round(1000 * statistics.mean(send_s) / max(1, messages), 2),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000, help="per producer")
    parser.add_argument("--url", default="", help="default: a fresh SQLite file, the embedded queue")
    parser.add_argument("--transport", default=TRANSPORT, help="kombu transport class ('' = the URL's)")
    args = parser.parse_args()
    figures = run(producers=args.producers, consumers=args.consumers, messages=args.messages,
                  url=args.url, transport=args.transport)
    print(json.dumps(figures, indent=2))
    sys.exit(0 if figures["lost"] == figures["duplicated"] == figures["unexpected"] == 0 else 1)


if __name__ == "__main__":
    main()
