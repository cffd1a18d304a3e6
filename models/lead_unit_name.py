"""The lead unit's name (``items.lead_unit_name``), kept by the database itself.

The items list ordered by unit (主办单位) reads each item's lead unit first by name (an item
may have several lead units; cancelled ones count too, as the list shows them), or ``''``
when it has none. As a grouped pass over every lead assignment that order cost the whole
history for each page (docs/BENCHMARKS.md: 1 s at 100,000 items); as a column with an index
(``ix_items_lead_unit_name``) a page reads its rows from the index and stops. Triggers
recompute it whenever an assignment is added or removed, changes its unit, role or item, or
a unit is renamed, whoever writes (the ORM, imports, set-based SQL). A new item has no
assignment yet: the column's default ``''`` is its value. Migration 0023 and
`Base.metadata.create_all` install the same statements.
"""

from __future__ import annotations

from typing import Final

#: The lead unit name of item ``{item}``, from the assignments and units as they stand.
_NAME: Final = (
    "COALESCE((SELECT min(u.name) FROM assignments AS a JOIN units AS u ON u.id = a.unit_id"
    " WHERE a.item_id = {item} AND a.role = 'lead'), '')"
)
# fixed DDL text, no input in it; an item whose name stays is not rewritten
_REFRESH: Final = (
    "UPDATE items SET lead_unit_name = " + _NAME + " WHERE id = {item}"  # noqa: S608
    " AND lead_unit_name <> " + _NAME + ";"
)
#: Every item of ``{items}`` (a subquery of ids) refreshed, once per statement: one grouped
#: join of their lead assignments to the units (a lookup per item read the units each time).
_REFRESH_EACH: Final = (
    "UPDATE items SET lead_unit_name = kept.name FROM ("
    "SELECT touched.item_id, COALESCE(min(u.name), '') AS name"
    " FROM (SELECT DISTINCT item_id FROM ({items}) AS ids) AS touched"
    " LEFT JOIN assignments AS a ON a.item_id = touched.item_id AND a.role = 'lead'"
    " LEFT JOIN units AS u ON u.id = a.unit_id GROUP BY touched.item_id) AS kept"
    " WHERE items.id = kept.item_id AND items.lead_unit_name <> kept.name;"
)
#: The items led by unit ``{unit}`` (a renamed unit's).
_LED_BY: Final = "SELECT item_id FROM assignments WHERE unit_id = {unit} AND role = 'lead'"

POSTGRESQL: Final[tuple[str, ...]] = (
    # Inserts and deletes once per statement over their transition tables: a set-based
    # insert of 100,000 assignments (an import) refreshes its items in one statement.
    "\n".join(
        (
            "CREATE OR REPLACE FUNCTION assignments_lead_unit_name() RETURNS trigger AS $$",
            "BEGIN",
            "IF TG_OP = 'INSERT' THEN",
            _REFRESH_EACH.format(items="SELECT item_id FROM new_rows WHERE role = 'lead'"),
            "ELSE",
            _REFRESH_EACH.format(items="SELECT item_id FROM old_rows WHERE role = 'lead'"),
            "END IF;",
            "RETURN NULL;",
            "END $$ LANGUAGE plpgsql",
        )
    ),
    """CREATE TRIGGER assignments_lead_unit_name_insert AFTER INSERT ON assignments
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION assignments_lead_unit_name()""",
    """CREATE TRIGGER assignments_lead_unit_name_delete AFTER DELETE ON assignments
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION assignments_lead_unit_name()""",
    # Updates row by row, and only those naming one of the three columns: the scan's and
    # the lifecycle's updates never fire it.
    """CREATE OR REPLACE FUNCTION assignment_lead_unit_name() RETURNS trigger AS $$
BEGIN
    """
    + _REFRESH.format(item="OLD.item_id")
    + """
    IF NEW.item_id <> OLD.item_id THEN
        """
    + _REFRESH.format(item="NEW.item_id")
    + """
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER assignments_lead_unit_name_update
AFTER UPDATE OF unit_id, role, item_id ON assignments FOR EACH ROW
WHEN ((OLD.unit_id, OLD.role, OLD.item_id) IS DISTINCT FROM (NEW.unit_id, NEW.role, NEW.item_id))
EXECUTE FUNCTION assignment_lead_unit_name()""",
    """CREATE OR REPLACE FUNCTION unit_lead_unit_name() RETURNS trigger AS $$
BEGIN
    """
    + _REFRESH_EACH.format(items=_LED_BY.format(unit="NEW.id"))
    + """
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER units_lead_unit_name_update AFTER UPDATE OF name ON units FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION unit_lead_unit_name()""",
)

SQLITE: Final[tuple[str, ...]] = (
    "CREATE TRIGGER assignments_lead_unit_name_insert AFTER INSERT ON assignments "
    "WHEN NEW.role = 'lead' BEGIN " + _REFRESH.format(item="NEW.item_id") + " END",
    "CREATE TRIGGER assignments_lead_unit_name_update "
    "AFTER UPDATE OF unit_id, role, item_id ON assignments "
    "WHEN OLD.unit_id IS NOT NEW.unit_id OR OLD.role IS NOT NEW.role "
    "OR OLD.item_id IS NOT NEW.item_id BEGIN "
    + _REFRESH.format(item="OLD.item_id")
    + " "
    + _REFRESH.format(item="NEW.item_id")
    + " END",
    "CREATE TRIGGER assignments_lead_unit_name_delete AFTER DELETE ON assignments "
    "WHEN OLD.role = 'lead' BEGIN " + _REFRESH.format(item="OLD.item_id") + " END",
    "CREATE TRIGGER units_lead_unit_name_update AFTER UPDATE OF name ON units "
    "WHEN OLD.name IS NOT NEW.name BEGIN "
    + _REFRESH_EACH.format(items=_LED_BY.format(unit="NEW.id"))
    + " END",
)

#: Dropped in this order to undo the statements above.
DROP_POSTGRESQL: Final = (
    "DROP TRIGGER IF EXISTS units_lead_unit_name_update ON units",
    "DROP TRIGGER IF EXISTS assignments_lead_unit_name_insert ON assignments",
    "DROP TRIGGER IF EXISTS assignments_lead_unit_name_update ON assignments",
    "DROP TRIGGER IF EXISTS assignments_lead_unit_name_delete ON assignments",
    "DROP FUNCTION IF EXISTS unit_lead_unit_name()",
    "DROP FUNCTION IF EXISTS assignments_lead_unit_name()",
    "DROP FUNCTION IF EXISTS assignment_lead_unit_name()",
)
DROP_SQLITE: Final = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "units_lead_unit_name_update",
        "assignments_lead_unit_name_insert",
        "assignments_lead_unit_name_update",
        "assignments_lead_unit_name_delete",
    )
)
