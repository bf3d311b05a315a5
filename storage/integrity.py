"""`metricvalue`'s references on PostgreSQL, checked once per statement, not once per row.

A declared foreign key runs one look-up and one lock of the referenced row for every row
written, per key: three per KPI value. A 2-million-row import spent half its time there
(docs/performance.md, "KPI import"). The same rules are kept here with triggers:

- after each INSERT or UPDATE statement on `metricvalue`, the distinct references of the
  statement's new rows (a transition table) are looked up in `person`, `team` and
  `metric` in one set-based query each, locking the rows found FOR KEY SHARE as a
  foreign key would (once per distinct row, not per value), so a concurrent delete waits
  for this transaction and then sees its rows; a reference not found is refused;
- deleting a person, team or metric, or changing its key, while a value refers to it is
  refused, as a foreign key's NO ACTION would.

Both raise SQLSTATE 23503 (foreign_key_violation), what a foreign key raises, so callers
see the same IntegrityError. SQLite keeps declared foreign keys (storage/models.py): its
check is cheap and an import there is bound by other work.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

CHILD_CHECK = """
CREATE OR REPLACE FUNCTION metricvalue_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    -- Per key: the distinct references of the statement's rows, and how many of them
    -- exist, locked as a foreign key would lock them. Fewer found: one is missing.
    WITH wanted AS MATERIALIZED (
        SELECT DISTINCT person_id FROM metricvalue_new WHERE person_id IS NOT NULL
    ), locked AS (
        SELECT 1 FROM person p JOIN wanted w ON p.id = w.person_id FOR KEY SHARE OF p
    )
    SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM locked) INTO wanted, found;
    IF wanted = found THEN
        WITH wanted AS MATERIALIZED (
            SELECT DISTINCT team_id FROM metricvalue_new WHERE team_id IS NOT NULL
        ), locked AS (
            SELECT 1 FROM team t JOIN wanted w ON t.id = w.team_id FOR KEY SHARE OF t
        )
        SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM locked)
        INTO wanted, found;
    END IF;
    IF wanted = found THEN
        WITH wanted AS MATERIALIZED (
            SELECT DISTINCT metric_key FROM metricvalue_new
        ), locked AS (
            SELECT 1 FROM metric m JOIN wanted w ON m.key = w.metric_key FOR KEY SHARE OF m
        )
        SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM locked)
        INTO wanted, found;
    END IF;
    IF wanted <> found THEN
        RAISE EXCEPTION 'a metric value refers to a person, team or metric that does not exist'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'metricvalue';
    END IF;
    RETURN NULL;
END $$
"""

PARENT_CHECK = """
CREATE OR REPLACE FUNCTION metricvalue_parent_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    referenced boolean;
BEGIN
    IF TG_TABLE_NAME = 'person' THEN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN RETURN NULL; END IF;
        referenced := EXISTS (SELECT 1 FROM metricvalue WHERE person_id = OLD.id);
    ELSIF TG_TABLE_NAME = 'team' THEN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN RETURN NULL; END IF;
        referenced := EXISTS (SELECT 1 FROM metricvalue WHERE team_id = OLD.id);
    ELSE
        IF TG_OP = 'UPDATE' AND NEW.key = OLD.key THEN RETURN NULL; END IF;
        referenced := EXISTS (SELECT 1 FROM metricvalue WHERE metric_key = OLD.key);
    END IF;
    IF referenced THEN
        RAISE EXCEPTION 'a metric value still refers to this %', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END $$
"""

# Declared by the models for SQLite; a migration creates them on every database (it does
# not know the condition), so they are dropped here on PostgreSQL.
DECLARED = ("fk_metricvalue_metric_key", "fk_metricvalue_person_id", "fk_metricvalue_team_id")

STATEMENTS: tuple[str, ...] = (
    *(f"ALTER TABLE metricvalue DROP CONSTRAINT IF EXISTS {name}" for name in DECLARED),
    CHILD_CHECK,
    PARENT_CHECK,
    "DROP TRIGGER IF EXISTS metricvalue_refs_insert ON metricvalue",
    "CREATE TRIGGER metricvalue_refs_insert AFTER INSERT ON metricvalue "
    "REFERENCING NEW TABLE AS metricvalue_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION metricvalue_refs_check()",
    "DROP TRIGGER IF EXISTS metricvalue_refs_update ON metricvalue",
    "CREATE TRIGGER metricvalue_refs_update AFTER UPDATE ON metricvalue "
    "REFERENCING NEW TABLE AS metricvalue_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION metricvalue_refs_check()",
    *(
        stmt
        for parent, key in (("person", "id"), ("team", "id"), ("metric", "key"))
        for stmt in (
            f"DROP TRIGGER IF EXISTS metricvalue_parent ON {parent}",
            f"CREATE TRIGGER metricvalue_parent AFTER DELETE OR UPDATE OF {key} ON {parent} "
            "FOR EACH ROW EXECUTE FUNCTION metricvalue_parent_check()",
        )
    ),
)


def install(conn: Any) -> None:
    """Put the checks in place on a PostgreSQL connection (a no-op elsewhere); run by the
    migration and after `create_all` creates `metricvalue`. Safe to run again."""
    if conn.dialect.name != "postgresql":
        return
    for stmt in STATEMENTS:
        conn.execute(sa.text(stmt))


def after_create(target: Any, connection: Any, **_: Any) -> None:
    """The `after_create` event of `metricvalue` (create_all, tests and the demo)."""
    install(connection)


def include_object(dialect: str) -> Any:
    """Alembic's `include_object` for a database of `dialect`: leaves out the schema items
    the models declare for other databases only (info["dialects"]), so comparing the
    models with a migrated PostgreSQL database does not ask for SQLite's foreign keys."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        dialects = getattr(obj, "info", {}).get("dialects")
        return reflected or dialects is None or dialect in dialects

    return include
