"""The health checks, one module per dependency. Each takes its clients ready-made (see ``wiring``)."""
