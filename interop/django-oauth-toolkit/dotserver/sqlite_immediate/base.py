"""
Django's sqlite3 backend, with every transaction started as BEGIN IMMEDIATE.

DOT's save_bearer_token runs in transaction.atomic and first reads, then writes. A plain BEGIN is
deferred: two concurrent refreshes both take a read lock and then both need the write lock, so
one of them fails at once with "database is locked" (the busy timeout does not apply to a lock
upgrade). BEGIN IMMEDIATE takes the write lock up front, so the second waits for the first (up to
the connection's timeout) and then sees what the first wrote, as with PostgreSQL's row lock
(DOT re-reads the token with select_for_update, which sqlite ignores). Measured with Django's
default BEGIN: of four bursts of 8 concurrent refreshes, one got a 500 ("database is locked"),
and no burst showed DOT's same-successor answer.
Django 3.2 has no setting for this (OPTIONS["transaction_mode"] arrived in Django 5.1).

The journal is WAL, so reads outside a transaction (DOT validates the presented refresh token
before its atomic block) never wait for a writer, and a writer never waits for readers.
"""
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
