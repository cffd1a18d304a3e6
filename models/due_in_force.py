"""The deadline in force (``items.due_in_force``), kept by the database itself.

An item is held to its lead units' (主办) latest deadline, which an approved extension (延期)
moves, or to its own when it has no live lead (`supervision.item_list.due_in_force` is the
rule in Python). Lists order and filter by it, so it is a column with an index instead of a
subquery per item: triggers recompute it whenever an item's own deadline or an assignment's
deadline, state, role or item changes, whoever writes (the ORM, imports, set-based SQL).
Migration 0016 and `Base.metadata.create_all` install the same statements.
"""

from __future__ import annotations

from typing import Final

#: The deadline in force of item ``{item}``, from the assignments table as it stands.
_IN_FORCE: Final = (
    "COALESCE((SELECT max(a.due_on) FROM assignments AS a WHERE a.item_id = {item} "
    "AND a.role = 'lead' AND a.state <> 'cancelled'), {own})"
)
# fixed DDL text, no input in it
# (an item whose value stays is not rewritten: most new assignments keep the item's date)
_REFRESH: Final = (
    "UPDATE items SET due_in_force = " + _IN_FORCE + " WHERE id = {item}"  # noqa: S608
    " AND (due_in_force IS NULL OR due_in_force <> " + _IN_FORCE + ");"
)

#: Every item of the statement's ``WHERE items.id …`` refreshed (fixed DDL text).
_SET_EACH: Final = "UPDATE items SET due_in_force = " + _IN_FORCE.format(  # noqa: S608
    item="items.id", own="items.due_on"
)

_CHANGED: Final = (
    "(items.due_in_force IS NULL OR items.due_in_force <> "
    + _IN_FORCE.format(item="items.id", own="items.due_on")
    + ");"
)

POSTGRESQL: Final[tuple[str, ...]] = (
    # A new item has no assignment yet (they reference it): its own deadline, no lookup.
    """CREATE OR REPLACE FUNCTION items_due_in_force() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.due_in_force := NEW.due_on;
    ELSE
        NEW.due_in_force := """
    + _IN_FORCE.format(item="NEW.id", own="NEW.due_on")
    + """;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER items_due_in_force BEFORE INSERT OR UPDATE OF due_on ON items
FOR EACH ROW EXECUTE FUNCTION items_due_in_force()""",
    # Inserts and deletes once per statement over their transition tables: a set-based
    # insert of 100,000 assignments (an import) refreshes its items in one statement.
    "\n".join(
        (
            "CREATE OR REPLACE FUNCTION assignments_due_in_force() RETURNS trigger AS $$",
            "BEGIN",
            "IF TG_OP = 'INSERT' THEN",
            _SET_EACH,
            "WHERE items.id IN (SELECT item_id FROM new_rows) AND",
            _CHANGED,
            "ELSE",
            _SET_EACH,
            "WHERE items.id IN (SELECT item_id FROM old_rows) AND",
            _CHANGED,
            "END IF;",
            "RETURN NULL;",
            "END $$ LANGUAGE plpgsql",
        )
    ),
    """CREATE TRIGGER assignments_due_in_force_insert AFTER INSERT ON assignments
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION assignments_due_in_force()""",
    """CREATE TRIGGER assignments_due_in_force_delete AFTER DELETE ON assignments
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION assignments_due_in_force()""",
    # Updates row by row, and only those naming one of the four columns (transition tables
    # would need every update, the scan's too): the scan's updates never fire it.
    """CREATE OR REPLACE FUNCTION assignment_due_in_force() RETURNS trigger AS $$
BEGIN
    """
    + _REFRESH.format(item="OLD.item_id", own="due_on")
    + """
    IF NEW.item_id <> OLD.item_id THEN
        """
    + _REFRESH.format(item="NEW.item_id", own="due_on")
    + """
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER assignments_due_in_force_update
AFTER UPDATE OF due_on, state, role, item_id ON assignments FOR EACH ROW
WHEN ((OLD.due_on, OLD.state, OLD.role, OLD.item_id)
    IS DISTINCT FROM (NEW.due_on, NEW.state, NEW.role, NEW.item_id))
EXECUTE FUNCTION assignment_due_in_force()""",
)

SQLITE: Final[tuple[str, ...]] = (
    "CREATE TRIGGER items_due_in_force_insert AFTER INSERT ON items BEGIN "
    + _REFRESH.format(item="NEW.id", own="due_on")
    + " END",
    "CREATE TRIGGER items_due_in_force_update AFTER UPDATE OF due_on ON items BEGIN "
    + _REFRESH.format(item="NEW.id", own="due_on")
    + " END",
    "CREATE TRIGGER assignments_due_in_force_insert AFTER INSERT ON assignments BEGIN "
    + _REFRESH.format(item="NEW.item_id", own="due_on")
    + " END",
    "CREATE TRIGGER assignments_due_in_force_update "
    "AFTER UPDATE OF due_on, state, role, item_id ON assignments BEGIN "
    + _REFRESH.format(item="OLD.item_id", own="due_on")
    + " "
    + _REFRESH.format(item="NEW.item_id", own="due_on")
    + " END",
    "CREATE TRIGGER assignments_due_in_force_delete AFTER DELETE ON assignments BEGIN "
    + _REFRESH.format(item="OLD.item_id", own="due_on")
    + " END",
)

#: Dropped in this order to undo the statements above.
DROP_POSTGRESQL: Final = (
    "DROP TRIGGER IF EXISTS assignments_due_in_force_insert ON assignments",
    "DROP TRIGGER IF EXISTS assignments_due_in_force_update ON assignments",
    "DROP TRIGGER IF EXISTS assignments_due_in_force_delete ON assignments",
    "DROP FUNCTION IF EXISTS assignments_due_in_force()",
    "DROP FUNCTION IF EXISTS assignment_due_in_force()",
    "DROP TRIGGER IF EXISTS items_due_in_force ON items",
    "DROP FUNCTION IF EXISTS items_due_in_force()",
)
DROP_SQLITE: Final = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "items_due_in_force_insert",
        "items_due_in_force_update",
        "assignments_due_in_force_insert",
        "assignments_due_in_force_update",
        "assignments_due_in_force_delete",
    )
)
