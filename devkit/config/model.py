"""The effective configuration: defaults, then the file, then environment overrides."""

import copy
import os
import re
import urllib.parse

from devkit.config.schema import MODEL_FIELDS, SECTIONS, is_secret_key

REDACTED = "***"


class Config:
    """Effective settings with the source of each value (default, file, env)."""

    def __init__(self, root, path, values, sources, env):
        self.root = root
        self.path = path
        self._values = values
        self.sources = sources
        self._env = env

    @property
    def state_dir(self):
        """Absolute path of devkit's state directory (not created here)."""
        return self.resolve_path(self.get("project", "state_dir"))

    @property
    def models(self):
        """The configured models, each a dict with every model key filled in."""
        return self._values.get("models", [])

    @property
    def project_name(self):
        """The project's name: project.name, else the root folder's name."""
        return self.get("project", "name") or os.path.basename(self.root.rstrip(os.sep)) or "devkit"

    def section(self, name):
        """A copy of one section's effective values."""
        return copy.deepcopy(self._values[name])

    def get(self, section, key):
        """One effective value."""
        return self._values[section][key]

    def resolve_path(self, path):
        """``path`` made absolute against the project root (``~`` expanded)."""
        return os.path.normpath(os.path.join(self.root, os.path.expanduser(path)))

    def secret(self, value):
        """Resolve ``env:VAR`` from the environment (None when unset); other values as given."""
        if isinstance(value, str) and value.startswith("env:"):
            return self._env.get(value[4:]) or None
        return value

    def secret_values(self):
        """Every configured secret, resolved, for scrubbing output."""
        found = []
        for section, body in self._values.items():
            for table in body if section == "models" else [body]:
                for key, value in table.items():
                    resolved = self.secret(value) if is_secret_key(key) else None
                    if isinstance(resolved, str) and len(resolved) >= 3:
                        found.append(resolved)
        return sorted(set(found), key=len, reverse=True)

    def scrub(self, text):
        """``text`` with every configured secret value, plain or URL-encoded, replaced by ***."""
        if not hasattr(self, "_secret_re"):
            self._secret_re = secret_pattern(self.secret_values())
        text = str(text)
        return self._secret_re.sub(REDACTED, text) if self._secret_re is not None else text

    def redacted(self):
        """The whole effective configuration as a dict, secrets shown as ***."""
        return _scrub_strings(redact(self._values), self.scrub)

    def cost(self, model, prompt_tokens, completion_tokens, cached_prompt_tokens=0):
        """Estimated cost in USD of one call from the model's configured prices (0 if unknown).

        ``cached_prompt_tokens`` (part of the prompt) are billed as ``devkit.llm.cost_of`` bills them.
        """
        if cached_prompt_tokens:
            from devkit.llm.cost import cost_of
            from devkit.llm.usage import Usage

            found = [m for m in self.models if m["name"] == model]
            usage = Usage(prompt_tokens or 0, completion_tokens or 0, cached_prompt_tokens)
            return cost_of(found[0], usage) if found else 0.0
        prices = self.prices().get(model)
        if not prices:
            return 0.0
        return (prompt_tokens or 0) * prices[0] / 1e6 + (completion_tokens or 0) * prices[1] / 1e6

    def prices(self):
        """``{model name: (input per 1M, output per 1M)}`` for every configured model."""
        cached = getattr(self, "_prices", None)
        if cached is None:
            cached = {m["name"]: (m["price_input_per_1m"], m["price_output_per_1m"]) for m in self.models}
            self._prices = cached
        return cached


def secret_pattern(secrets):
    """A regex matching any of ``secrets`` as given or URL-encoded in any mix (``%2F``/``%2f``, ``+``)."""
    if not secrets:
        return None
    return re.compile("|".join("".join(_char_forms(c) for c in secret) for secret in secrets))


def _char_forms(char):
    if char.isalnum() and char.isascii():
        return char
    encoded = urllib.parse.quote(char, safe="")
    forms = [re.escape(char)]
    if encoded != char:
        forms.append(
            "".join(f"%[{b[0]}{b[0].lower()}][{b[1]}{b[1].lower()}]" for b in encoded[1:].split("%"))
        )
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def redact(data):
    """A deep copy of ``data`` with the value of every secret-named key replaced by ***."""
    if isinstance(data, dict):
        # Only string values can be credentials: token_budget_24h or prompt_tokens are numbers to show.
        return {k: (REDACTED if _is_secret_value(k, v) else redact(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


def _scrub_strings(data, scrub):
    # A secret can hide inside another value too (a URL with ?key=...).
    if isinstance(data, dict):
        return {k: _scrub_strings(v, scrub) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrub_strings(v, scrub) for v in data]
    return scrub(data) if isinstance(data, str) else data


def _is_secret_value(key, value):
    return is_secret_key(key) and isinstance(value, str) and value != ""


def build_config(root, path, file_values, env_values, env_sources, env, file_label):
    """Layer defaults, file values and env values into a Config with per-key sources."""
    values, sources = {}, {}
    for section, fields in SECTIONS.items():
        values[section] = {}
        for key, field in fields.items():
            values[section][key], sources[f"{section}.{key}"] = _pick(
                section, key, field, file_values, env_values, env_sources, file_label
            )
    values["models"] = [_fill_model(m) for m in file_values.get("models", [])]
    if values["models"]:
        sources["models"] = file_label
    return Config(root, path, values, sources, env)


def _pick(section, key, field, file_values, env_values, env_sources, file_label):
    if key in env_values.get(section, {}):
        return env_values[section][key], env_sources[f"{section}.{key}"]
    if key in file_values.get(section, {}):
        return file_values[section][key], file_label
    return copy.deepcopy(field.default), "default"


def _fill_model(model):
    filled = {key: copy.deepcopy(field.default) for key, field in MODEL_FIELDS.items()}
    filled.update(model)
    filled["model"] = filled["model"] or filled["name"]
    return filled
