"""The one taxonomy module: the model field, the analyzers, the prompt and the pages read it."""

from __future__ import annotations

import pytest

from investigations.engine.analysis import ANALYZERS, analyzer, load_analyzers
from investigations.llm.prompts import SYSTEM_PROMPT
from investigations.models import Investigation
from investigations.taxonomy import CATEGORIES, TAXONOMY, UNKNOWN, category_label


def test_taxonomy_every_category_has_wording_and_unknown_comes_last():
    assert all(category.wording.strip() for category in CATEGORIES)
    assert len(set(TAXONOMY)) == len(TAXONOMY)
    assert TAXONOMY[-1] == UNKNOWN


def test_taxonomy_is_the_root_cause_fields_choices():
    field = Investigation._meta.get_field("root_cause_category")
    assert [value for value, _ in field.choices] == list(TAXONOMY)
    assert Investigation(root_cause_category="oom-killed").get_root_cause_category_display() == (
        category_label("oom-killed")
    )


def test_taxonomy_analyzers_register_only_its_categories():
    load_analyzers()
    assert ANALYZERS and set(ANALYZERS) <= set(TAXONOMY)
    with pytest.raises(ValueError, match="not in the taxonomy"):
        analyzer("disk-gremlins")


def test_taxonomy_is_listed_in_the_models_prompt():
    assert ", ".join(TAXONOMY) in SYSTEM_PROMPT


def test_taxonomy_every_category_says_what_it_means_in_the_prompt():
    for category in CATEGORIES:
        assert category.cause.strip(), category.value
        assert f"- {category.value}: {category.cause}" in SYSTEM_PROMPT


def test_taxonomy_newer_categories_are_told_apart_from_the_symptoms_they_cause():
    # the prompt names which category wins when the symptom looks like another one
    for phrase in (
        "network-policy-blocked or dns-resolution-failed, not dependency-unavailable",
        "admission-denied or quota-exceeded, not job-failed",
        '"No space left on device" is volume-full',
    ):
        assert phrase in " ".join(SYSTEM_PROMPT.split()), phrase
