"""Messages out: ladder scan, outbox, channels, delivery. Imports supervision and models only."""
