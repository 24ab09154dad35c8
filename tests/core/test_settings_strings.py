"""Settings as an environment gives them: every value a string. Numbers
and booleans are read from their usual spellings, and anything else is
refused when the application starts, naming the setting."""

from __future__ import annotations

import os

import pytest

from raven.settings import ConfigurationError, Settings

ORIGIN = {"RAVEN_ORIGIN": "https://www.example.cam.ac.uk"}


def from_env(monkeypatch, **names):
    """Settings from the process environment itself, as the docs suggest."""
    for name in list(os.environ):
        if name.startswith("RAVEN_"):
            monkeypatch.delenv(name)
    for name, value in {**ORIGIN, **names}.items():
        monkeypatch.setenv(name, value)
    return Settings.from_config(os.environ)


def test_numbers_and_booleans_from_the_environment(monkeypatch):
    settings = from_env(
        monkeypatch, RAVEN_MAX_LIFE="3600", RAVEN_IACT="true", RAVEN_FAIL="yes",
        RAVEN_USE_WLS_LIFE="On", RAVEN_INACTIVE_TIMEOUT=" 600 ",
        RAVEN_ISSUE_BOUNDS="30,2.5", RAVEN_CAN_TRUST_REQUEST_HOST="1",
    )
    assert (settings.max_life, settings.iact, settings.fail, settings.use_wls_life) == (
        3600, True, True, True)
    assert (settings.inactive_timeout, settings.issue_bounds) == (600, (30.0, 2.5))
    assert settings.trust_any_host is True


@pytest.mark.parametrize("word, value", [
    ("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True),
    ("false", False), ("False", False), ("no", False), ("off", False), ("0", False),
])
def test_every_spelling_of_a_boolean(monkeypatch, word, value):
    settings = from_env(monkeypatch, RAVEN_IACT=word, RAVEN_FAIL=word)
    assert (settings.iact, settings.fail) == (value, value)


def test_none_is_spelled_none(monkeypatch):
    settings = from_env(monkeypatch, RAVEN_IACT="none", RAVEN_MAX_LIFE="None",
                        RAVEN_INACTIVE_TIMEOUT="none")
    assert (settings.iact, settings.max_life, settings.inactive_timeout) == (None, None, None)


def test_issue_bounds_separated_by_spaces(monkeypatch):
    assert from_env(monkeypatch, RAVEN_ISSUE_BOUNDS="20 0").issue_bounds == (20.0, 0.0)


def test_values_given_in_code_are_read_as_before():
    settings = Settings.from_config(
        {**ORIGIN, "RAVEN_MAX_LIFE": 60, "RAVEN_ISSUE_BOUNDS": (1, 2)}, {"iact": False})
    assert (settings.max_life, settings.issue_bounds, settings.iact) == (60, (1.0, 2.0), False)


@pytest.mark.parametrize("name, value", [
    pytest.param("RAVEN_MAX_LIFE", "", id="empty-number"),
    pytest.param("RAVEN_MAX_LIFE", "0", id="zero"),
    pytest.param("RAVEN_MAX_LIFE", "-5", id="negative"),
    pytest.param("RAVEN_MAX_LIFE", "3600.5", id="fraction"),
    pytest.param("RAVEN_MAX_LIFE", "1h", id="unit"),
    pytest.param("RAVEN_MAX_LIFE", "٣٦٠٠", id="non-ascii-digits"),
    pytest.param("RAVEN_INACTIVE_TIMEOUT", "ten", id="word"),
    pytest.param("RAVEN_IACT", "", id="empty-flag"),
    pytest.param("RAVEN_IACT", "maybe", id="unknown-word"),
    pytest.param("RAVEN_FAIL", "none", id="none-where-none-is-no-value"),
    pytest.param("RAVEN_FAIL", "2", id="two"),
    pytest.param("RAVEN_USE_WLS_LIFE", "y", id="abbreviation"),
    pytest.param("RAVEN_ISSUE_BOUNDS", "15", id="one-bound"),
    pytest.param("RAVEN_ISSUE_BOUNDS", "15,5,1", id="three-bounds"),
    pytest.param("RAVEN_ISSUE_BOUNDS", "15,-1", id="negative-bound"),
    pytest.param("RAVEN_ISSUE_BOUNDS", "nan,5", id="nan"),
    pytest.param("RAVEN_ISSUE_BOUNDS", "inf,5", id="infinity"),
])
def test_other_strings_are_refused_naming_the_setting(monkeypatch, name, value):
    with pytest.raises(ConfigurationError) as caught:
        from_env(monkeypatch, **{name: value})
    assert name in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("config", [
    pytest.param({"RAVEN_ISSUE_BOUNDS": ("15", "5")}, id="pair-of-strings"),
    pytest.param({"RAVEN_ISSUE_BOUNDS": (True, 5)}, id="bool-bound"),
    pytest.param({"RAVEN_MAX_LIFE": 7200.0}, id="float-seconds"),
    pytest.param({"RAVEN_FAIL": 1}, id="int-flag"),
])
def test_values_in_code_keep_their_types(config):
    with pytest.raises(ConfigurationError):
        Settings.from_config({**ORIGIN, **config})
