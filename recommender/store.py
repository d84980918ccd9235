"""The record store: SQLAlchemy Core tables derived from the data contract.

SQLite (WAL) is the embedded default; any SQLAlchemy URL works, so the same
code runs on PostgreSQL. Rows go in and out as pandas frames: bulk writes use
the driver's ``executemany`` with plain tuples (no ORM objects), reads build a
frame straight from the cursor.

PostgreSQL (``postgresql+psycopg://``, psycopg 3) is the shared store of a
deployment with several API processes, hosts and batch workers. There new rows
go in with ``COPY ... FROM STDIN``, changed rows are copied into a temporary
table and applied with one ``UPDATE ... FROM``, large reads stream through a
server-side cursor, and concurrent writers of the same table are serialised by
a transaction-scoped advisory lock (so two imports cannot both decide a key is
new). Nothing that must agree between processes lives in a process: import
runs and the served log are tables.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from recommender.contract import FILES, BY_NAME, FileSpec, Kind
from recommender.errors import ConfigError

ROW_HASH = "row_hash"
UPDATED_AT = "updated_at"

_SQL_TYPES: dict[Kind, Any] = {
    Kind.ID: sa.String(64),
    Kind.TEXT: sa.Text(),
    Kind.INT: sa.BigInteger(),
    Kind.NUMBER: sa.Float(),
    Kind.DATE: sa.Date(),
    Kind.BOOL: sa.Boolean(),
    Kind.ENUM: sa.String(32),
    Kind.LIST: sa.Text(),
    Kind.REGION: sa.String(6),
}

metadata = sa.MetaData()


def _contract_table(spec: FileSpec) -> sa.Table:
    cols = [
        sa.Column(c.name, _SQL_TYPES[c.kind], primary_key=c.name in spec.key, nullable=not (c.required or c.name in spec.key))
        for c in spec.columns
    ]
    cols.append(sa.Column(ROW_HASH, sa.BigInteger(), nullable=False))
    cols.append(sa.Column(UPDATED_AT, sa.DateTime(), nullable=False))
    table = sa.Table(spec.name, metadata, *cols)
    for col in spec.references:
        sa.Index(f"ix_{spec.name}_{col}", table.c[col])
    return table


TABLES: dict[str, sa.Table] = {spec.name: _contract_table(spec) for spec in FILES}

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("taken", sa.Integer(), nullable=False),
    sa.Column("rejected", sa.Integer(), nullable=False),
    sa.Column("report", sa.Text(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout."""
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        kwargs["pool_pre_ping"] = True  # a server restart or failover must not break long-lived API processes
    try:
        engine = sa.create_engine(url, future=True, **kwargs)
    except Exception as exc:  # bad URL or missing driver
        raise ConfigError(f"cannot use the store URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if db and db != ":memory:":
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # connecting fails with an OperationalError instead, which callers treat as "store down"
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def row_hashes(frame: pd.DataFrame, spec: FileSpec) -> np.ndarray:
    """A content hash per row, so a re-import can tell 'unchanged' from 'updated'."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    h = pd.util.hash_pandas_object(frame[list(spec.column_names)], index=False).to_numpy()
    return h.view(np.int64)


def _column_values(s: pd.Series, kind: Kind, dialect: str) -> list[Any]:
    """One column as plain Python values, vectorised; NA becomes None."""
    if kind == Kind.DATE:
        if dialect == "sqlite":  # SQLAlchemy's SQLite Date type stores ISO text
            out = s.dt.strftime("%Y-%m-%d")
        else:
            out = pd.Series(s.dt.date, dtype=object)
    elif kind == Kind.BOOL:
        out = s.astype(object)
        if dialect == "sqlite":
            out = s.astype("Int64").astype(object)
    else:
        out = s.astype(object)
    return out.where(s.notna(), None).tolist()


def _to_db_values(frame: pd.DataFrame, spec: FileSpec, dialect: str = "sqlite") -> list[tuple[Any, ...]]:
    """Plain Python tuples in column order, ready for the driver's executemany."""
    cols = [_column_values(frame[c.name], c.kind, dialect) for c in spec.columns]
    return list(zip(*cols, strict=True))


class Store:
    """Contract records in a relational database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if create:
            if self.dialect == "postgresql":
                # Several processes (API replicas, Dask workers) may open a new database at
                # once: create the tables under one lock, or CREATE TABLE races.
                with self.engine.begin() as conn:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('recommender.create_all'))")
                    metadata.create_all(conn)
            else:
                metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Any | None = None) -> Store:
        from recommender.settings import get_settings

        return cls((settings or get_settings()).db)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything written inside it lands together or not at all.

        Writers are serialised from the start (SQLite ``BEGIN IMMEDIATE``, a
        PostgreSQL transaction-level advisory lock): two imports at once would
        otherwise both read "no such key" and the second would fail on insert.
        """
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            yield conn

    # ---- reading -------------------------------------------------------------

    def count(self, name: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(TABLES[name])).scalar_one())

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in TABLES}

    def keys(self, name: str, column: str | None = None, conn: Connection | None = None) -> pd.Series:
        """All values of a key column (the first key column by default)."""
        table = TABLES[name]
        col = column or BY_NAME[name].key[0]
        stmt = sa.select(table.c[col])
        if self.dialect == "postgresql":
            if conn is None:
                with self.engine.connect() as c:
                    rows = [r[0] for r in self._fetch_raw(c, stmt)]
            else:
                rows = [r[0] for r in self._fetch_raw(conn, stmt)]
            return pd.Series(rows, dtype=object)
        if conn is None:
            with self.engine.connect() as c:
                rows = c.execute(stmt).scalars().all()
        else:
            rows = conn.execute(stmt).scalars().all()
        return pd.Series(rows, dtype=object)

    def read_table(
        self,
        name: str,
        *,
        columns: Iterable[str] | None = None,
        where: sa.ColumnElement[bool] | None = None,
        conn: Connection | None = None,
    ) -> pd.DataFrame:
        """A contract table as a typed frame (the dtypes the importer produces)."""
        spec = BY_NAME[name]
        table = TABLES[name]
        names = list(columns) if columns is not None else list(spec.column_names)
        stmt = sa.select(*[table.c[c] for c in names])
        if where is not None:
            stmt = stmt.where(where)
        if conn is None:
            with self.engine.connect() as c:
                rows = self._fetch_raw(c, stmt)
        else:
            rows = self._fetch_raw(conn, stmt)
        if rows:
            columns = list(zip(*rows, strict=True))
            frame = pd.DataFrame({n: np.array(c, dtype=object) for n, c in zip(names, columns, strict=True)}, dtype=object)
        else:
            frame = pd.DataFrame({n: pd.Series(dtype=object) for n in names})
        return _coerce(frame, spec)

    def raw_rows(
        self,
        name: str,
        value: object,
        *,
        columns: Iterable[str] | None = None,
        by: str | None = None,
        conn: Connection | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows of table ``name`` whose ``by`` column (its first key column by default) equals
        ``value``, with ``columns`` (all contract columns by default) as the driver returns them.

        For readers of one record that convert the few values themselves: ``read_table``'s
        per-column coercion costs milliseconds for a row (dates stay ISO text on SQLite here).
        """
        names = tuple(columns) if columns is not None else BY_NAME[name].column_names
        key = by or BY_NAME[name].key[0]
        sql, positional = self._one_key_sql(name, names, key)
        params: Any = (value,) if positional else {"value": value}
        if conn is None:
            with self.engine.connect() as c:
                return _fetch_bound(c, sql, params)
        return _fetch_bound(conn, sql, params)

    def _one_key_sql(self, name: str, names: tuple[str, ...], key: str) -> tuple[str, bool]:
        """``raw_rows``'s statement, compiled once per shape: compiling it per call (literal
        values, so no SQLAlchemy cache) cost a third of a stored-worker lookup."""
        shape = (name, names, key)
        cache: dict[tuple[str, tuple[str, ...], str], tuple[str, bool]] = self.__dict__.setdefault("_sql_cache", {})
        hit = cache.get(shape)
        if hit is None:
            table = TABLES[name]
            stmt = sa.select(*[table.c[c] for c in names]).where(table.c[key] == sa.bindparam("value"))
            compiled = stmt.compile(dialect=self.engine.dialect)
            hit = cache[shape] = (str(compiled), bool(compiled.positional))
        return hit

    def raw_rows_in(
        self,
        name: str,
        values: Sequence[object],
        *,
        columns: Iterable[str],
        by: str | None = None,
        conn: Connection | None = None,
    ) -> list[tuple[Any, ...]]:
        """:meth:`raw_rows` for many values of ``by`` in one statement (``by``'s value first in each row)."""
        table = TABLES[name]
        key = by or BY_NAME[name].key[0]
        stmt = sa.select(table.c[key], *[table.c[c] for c in columns]).where(table.c[key].in_(list(values)))
        if conn is None:
            with self.engine.connect() as c:
                return self._fetch_raw(c, stmt)
        return self._fetch_raw(conn, stmt)

    def _fetch_raw(self, conn: Connection, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
        """Rows as the driver returns them: SQLAlchemy's per-value type processing
        (ISO text to dates on SQLite) is skipped and done once per column in ``_coerce``."""
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        if "\x00" in str(compiled):  # a NUL sent by a client: SQLite refuses it inside statement text, so bind it
            bound = conn.execute(stmt)
            try:
                return [tuple(row) for row in bound.fetchall()]
            finally:
                bound.close()
        if conn.dialect.name == "postgresql":
            return _pg_fetch(conn, str(compiled))
        result = conn.exec_driver_sql(str(compiled))
        try:
            return result.cursor.fetchall() if result.cursor is not None else []  # plain tuples, not Row objects
        finally:
            result.close()

    def get(self, name: str, key: str) -> dict[str, Any] | None:
        """One record by its (single-column) key, or None."""
        spec = BY_NAME[name]
        frame = self.read_table(name, where=TABLES[name].c[spec.key[0]] == key)
        if frame.empty:
            return None
        return frame.iloc[0].to_dict()

    # ---- writing -------------------------------------------------------------

    def existing_hashes(self, conn: Connection, name: str, keys: pd.DataFrame) -> pd.DataFrame:
        """Key columns and row hash of the stored rows among ``keys``."""
        spec = BY_NAME[name]
        table = TABLES[name]
        cols = [table.c[k] for k in spec.key] + [table.c[ROW_HASH]]
        key_names = list(spec.key)
        first = spec.key[0]
        if len(keys) > 20_000:  # a bulk import: one scan beats many look-ups
            rows = self._fetch_raw(conn, sa.select(*cols)) if self.dialect == "postgresql" else conn.execute(sa.select(*cols)).fetchall()
            return pd.DataFrame.from_records(rows, columns=key_names + [ROW_HASH])
        # a few rows (an API write, a small file): look up by the first key column only;
        # for composite keys the merge in ``upsert`` matches the rest
        values = list(dict.fromkeys(keys[first].astype(object).tolist()))
        if self.dialect == "postgresql":
            raw = _pg_connection(conn)
            with raw.cursor() as cur:
                names = ", ".join(key_names + [ROW_HASH])
                cur.execute(f"SELECT {names} FROM {spec.name} WHERE {first} = ANY(%s)", (values,))
                rows = cur.fetchall()
        else:
            rows = []
            for i in range(0, len(values), 500):
                chunk = values[i : i + 500]
                rows.extend(conn.execute(sa.select(*cols).where(table.c[first].in_(chunk))).fetchall())
        return pd.DataFrame.from_records(rows, columns=key_names + [ROW_HASH])

    def upsert(self, conn: Connection, name: str, frame: pd.DataFrame) -> UpsertResult:
        """Insert new keys, update changed rows, leave identical rows alone."""
        spec = BY_NAME[name]
        if frame.empty:
            return UpsertResult(0, 0, 0)
        frame = frame.reset_index(drop=True)
        if self.dialect == "postgresql":
            # One writer per table at a time across every process and host: the hash
            # comparison below and the writes after it must see the same stored rows.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('recommender.upsert.{name}'))")
        hashes = row_hashes(frame, spec)
        key_names = list(spec.key)
        existing = self.existing_hashes(conn, name, frame[key_names])
        probe = frame[key_names].astype(object).copy()
        probe["_pos"] = np.arange(len(frame))
        merged = probe.merge(existing.astype({k: object for k in key_names}), on=key_names, how="left")
        merged = merged.sort_values("_pos")
        stored = merged[ROW_HASH].to_numpy(dtype="float64", na_value=np.nan)
        is_new = np.isnan(stored)
        old_hash = merged[ROW_HASH].fillna(0).astype(np.int64).to_numpy()
        is_changed = ~is_new & (old_hash != hashes)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if is_new.any():
            self._insert(conn, spec, frame[is_new], hashes[is_new], now)
        if is_changed.any():
            self._update(conn, spec, frame[is_changed], hashes[is_changed], now)
        return UpsertResult(int(is_new.sum()), int(is_changed.sum()), int((~is_new & ~is_changed).sum()))

    def _insert(self, conn: Connection, spec: FileSpec, frame: pd.DataFrame, hashes: np.ndarray, now: dt.datetime) -> None:
        table = TABLES[spec.name]
        names = list(spec.column_names) + [ROW_HASH, UPDATED_AT]
        chunk = 50_000
        if self.dialect == "sqlite":
            # The driver's executemany on plain tuples: no per-row SQLAlchemy work.
            stamp = now.isoformat(sep=" ")
            sql = f"INSERT INTO {spec.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            for i in range(0, len(frame), chunk):
                part = frame.iloc[i : i + chunk]
                rows = [(*v, int(h), stamp) for v, h in zip(_to_db_values(part, spec), hashes[i : i + chunk], strict=True)]
                conn.exec_driver_sql(sql, rows)
            return
        if self.dialect == "postgresql":
            _pg_copy_in(conn, spec.name, names, _rows_with_hash(frame, spec, hashes, now, chunk))
            return
        for i in range(0, len(frame), chunk):
            part = frame.iloc[i : i + chunk]
            values = _to_db_values(part, spec, self.dialect)
            params = [dict(zip(names, (*v, int(h), now), strict=True)) for v, h in zip(values, hashes[i : i + chunk], strict=True)]
            conn.execute(sa.insert(table), params)

    def _update(self, conn: Connection, spec: FileSpec, frame: pd.DataFrame, hashes: np.ndarray, now: dt.datetime) -> None:
        table = TABLES[spec.name]
        non_key = [c for c in spec.column_names if c not in spec.key]
        if self.dialect == "postgresql":
            # COPY the changed rows into a temporary table, then one set-based UPDATE.
            names = list(spec.column_names) + [ROW_HASH, UPDATED_AT]
            stage = f"_stage_{spec.name}"
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {', '.join(names)} FROM {spec.name} WITH NO DATA"
            )
            _pg_copy_in(conn, stage, names, _rows_with_hash(frame, spec, hashes, now, 50_000))
            sets = ", ".join(f"{c} = s.{c}" for c in non_key + [ROW_HASH, UPDATED_AT])
            match = " AND ".join(f"t.{k} = s.{k}" for k in spec.key)
            conn.exec_driver_sql(f"UPDATE {spec.name} AS t SET {sets} FROM {stage} AS s WHERE {match}")
            conn.exec_driver_sql(f"DROP TABLE {stage}")
            return
        stmt = (
            sa.update(table)
            .where(sa.and_(*[table.c[k] == sa.bindparam(f"k_{k}") for k in spec.key]))
            .values({c: sa.bindparam(f"v_{c}") for c in non_key + [ROW_HASH, UPDATED_AT]})
        )
        names = list(spec.column_names)
        params = []
        for row, h in zip(_to_db_values(frame, spec, "generic"), hashes, strict=True):
            rec = dict(zip(names, row, strict=True))
            p = {f"k_{k}": rec[k] for k in spec.key}
            p.update({f"v_{c}": rec[c] for c in non_key})
            p[f"v_{ROW_HASH}"] = int(h)
            p[f"v_{UPDATED_AT}"] = now
            params.append(p)
        conn.execute(stmt, params)

    def log_import(self, conn: Connection, *, source: str, started: dt.datetime, report: dict[str, Any]) -> None:
        conn.execute(
            sa.insert(import_runs),
            {
                "started_at": started,
                "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "source": source,
                "taken": int(report.get("taken", 0)),
                "rejected": int(report.get("rejected", 0)),
                "report": json.dumps(report, ensure_ascii=False, default=str),
            },
        )


def _rows_with_hash(
    frame: pd.DataFrame, spec: FileSpec, hashes: np.ndarray, now: dt.datetime, chunk: int
) -> Iterator[tuple[Any, ...]]:
    """Rows for COPY: the contract columns, the row hash and the write time."""
    for i in range(0, len(frame), chunk):
        part = frame.iloc[i : i + chunk]
        for v, h in zip(_to_db_values(part, spec, "postgresql"), hashes[i : i + chunk].tolist(), strict=True):
            yield (*v, h, now)


def _pg_connection(conn: Connection) -> Any:
    """The psycopg 3 connection under a SQLAlchemy connection (same transaction)."""
    raw = conn.connection.driver_connection
    if not type(raw).__module__.startswith("psycopg"):
        raise ConfigError("PostgreSQL stores need the psycopg 3 driver: use a postgresql+psycopg:// URL")
    return raw


def _pg_copy_in(conn: Connection, table: str, names: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk load with ``COPY ... FROM STDIN`` inside the caller's transaction."""
    raw = _pg_connection(conn)
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


_PG_FETCH_ROWS = 100_000
_CURSOR_IDS = itertools.count()


def _fetch_bound(conn: Connection, sql: str, params: Any) -> list[tuple[Any, ...]]:
    """A few rows of a driver-level statement with bound values, as plain tuples."""
    result = conn.exec_driver_sql(sql, params)
    try:
        return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


def _pg_fetch(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Rows through a server-side cursor, fetched in large batches (bounded client memory
    per round trip, no per-row SQLAlchemy processing)."""
    raw = _pg_connection(conn)
    name = f"rec_fetch_{next(_CURSOR_IDS)}"
    out: list[tuple[Any, ...]] = []
    with raw.cursor(name=name) as cur:
        cur.itersize = _PG_FETCH_ROWS
        cur.execute(sql)
        while True:
            batch = cur.fetchmany(_PG_FETCH_ROWS)
            if not batch:
                break
            out.extend(batch)
    return out


def _coerce(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """Give a frame read from the store the importer's dtypes."""
    for c in spec.columns:
        if c.name not in frame.columns:
            continue
        s = frame[c.name]
        if c.kind == Kind.DATE:
            frame[c.name] = pd.to_datetime(s.astype(object).where(s.notna(), None).map(str, na_action="ignore"), format="ISO8601", errors="coerce").astype("datetime64[ns]")
        elif c.kind == Kind.INT:
            frame[c.name] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif c.kind == Kind.NUMBER:
            frame[c.name] = pd.to_numeric(s, errors="coerce").astype("Float64")
        elif c.kind == Kind.BOOL:
            frame[c.name] = pd.to_numeric(s.astype(object).where(s.notna(), None).map(int, na_action="ignore"), errors="coerce").astype("boolean")
        else:
            frame[c.name] = s.astype(object).where(s.notna(), None)
    return frame
