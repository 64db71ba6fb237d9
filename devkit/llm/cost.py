"""The billable cost of one call from a configured model's prices and a Usage."""

PER_TOKENS = 1e6


def cost_of(model_cfg, usage):
    """Cost in USD: uncached prompt, cached prompt and completion tokens, each at its price per 1M.

    ``model_cfg`` is one configured model (``Config.models`` item). Cached prompt tokens use
    ``price_cached_input_per_1m`` when it is set, else the input price.
    """
    input_price = float(model_cfg.get("price_input_per_1m") or 0.0)
    cached_price = model_cfg.get("price_cached_input_per_1m")
    cached_price = input_price if cached_price is None else float(cached_price)
    output_price = float(model_cfg.get("price_output_per_1m") or 0.0)
    billable = (
        usage.uncached_prompt_tokens * input_price
        + min(usage.cached_prompt_tokens, usage.prompt_tokens) * cached_price
        + usage.completion_tokens * output_price
    )
    return billable / PER_TOKENS
