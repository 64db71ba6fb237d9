"""Exporters: JSON, CSV, Markdown, Prometheus and OpenMetrics from one snapshot."""
