"""The rows of data-asset versions: streaming imports into immutable tables, keyset-paged reads.

SQLite (one file, the default) and PostgreSQL (a schema) behave the same; see ``Datastore``.
"""

from marketplace.datastore.errors import ImportRejected, QueryRejected
from marketplace.datastore.postgres_store import PostgresDatastore
from marketplace.datastore.protocol import Datastore
from marketplace.datastore.query import Filter, Page
from marketplace.datastore.schema import Column, ColumnType, ImportResult, ImportSpec, Semantic
from marketplace.datastore.sqlite_store import SQLiteDatastore

__all__ = [
    "Column", "ColumnType", "Datastore", "Filter", "ImportRejected", "ImportResult", "ImportSpec", "Page",
    "PostgresDatastore", "QueryRejected", "SQLiteDatastore", "Semantic",
]
