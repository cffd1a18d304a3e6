"""Domain rules and use-cases shared by the edges. No I/O but the DB session."""
