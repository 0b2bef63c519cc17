"""The embedded Celery broker: a SQLite file under ``var/``, read through kombu's SQLAlchemy transport.

Settings select it (``CELERY_BROKER_TRANSPORT = "web.broker:Transport"``) when ``CELERY_BROKER_URL`` is not
set; with it set (Redis) this module is never used.

Why not kombu's filesystem transport, the embedded queue before: several processes writing its shared
exchange files at once corrupt them (celery/kombu#1551, the pidbox broadcast exchange), and the worker
that reads one dies with ``Unrecoverable error: JSONDecodeError``. Here every message is one row of one
SQLite file, and SQLite serialises the writers.

What this adds to kombu's transport:

- A consumer claims a message and deletes its row in one ``BEGIN IMMEDIATE`` transaction, so no two
  consumers get the same message. Kombu only marks a consumed row invisible and keeps it, so its file
  grows by every message ever sent.
- No SQLite connection is pooled (``NullPool``): a connection made before a fork (Celery's pool
  processes, which send tasks too) is never used after it. A writer waits up to 30 s for the lock instead
  of failing with "database is locked". The file is in WAL mode, so readers do not block the writer.
- It polls an empty queue every 0.1 s instead of every second.

There is no fanout exchange: Celery turns the workers' remote control off on this transport by itself
(``celery inspect`` and ``celery control`` need Redis), and settings turn it off explicitly.
"""

from __future__ import annotations

from json import loads
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

BUSY_TIMEOUT_S = 30
POLLING_INTERVAL_S = 0.1


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self):
        url = self.connection.client.hostname
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_S})
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _on_connect)
        return engine

    def _get(self, queue):
        """The oldest message of ``queue``, claimed and removed in one transaction (raises Empty)."""
        obj = self._get_or_create(queue)
        session = self.session
        if session.bind.dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (session.query(self.message_cls)
                       .with_for_update()
                       .filter(self.message_cls.queue_id == obj.id)
                       .filter(self.message_cls.visible.is_not(False))
                       .order_by(self.message_cls.sent_at, self.message_cls.id)
                       .limit(1)
                       .first())
            if message is None:
                raise Empty()
            payload = message.payload
            session.delete(message)
        except BaseException:
            session.rollback()
            raise
        # Committed before the message is handed on: if the commit fails, the row is still there.
        session.commit()
        return loads(bytes_to_str(payload))


class Transport(kombu_sqla.Transport):
    Channel = Channel
    polling_interval = POLLING_INTERVAL_S
