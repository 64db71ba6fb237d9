"""The SQLite store shared by app processes, the CLI and the dashboard."""
