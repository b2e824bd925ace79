"""The model layer of the investigation engine: providers, read-only tools, prompts, validation.

Entry points: `stage.model_stage()` (budget, call, fallback, usage: what the pipeline calls),
`reasoning.analyze_with_model()` and `reasoning.apply_to_result()`.
"""
