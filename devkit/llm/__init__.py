"""LLM-native signals: token usage read from model responses and the billable cost of a call."""

from devkit.errors import UsageShapeError
from devkit.llm.cost import cost_of
from devkit.llm.usage import Usage, find_usage, parse_usage

__all__ = ["Usage", "UsageShapeError", "parse_usage", "find_usage", "cost_of"]
