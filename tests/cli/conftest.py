"""Running ``raven`` commands in-process with click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from raven import cli


class Raven:
    def __call__(self, *args: str, input: str | None = None):
        return CliRunner().invoke(cli.main, list(args), input=input)

    @staticmethod
    def one_line_error(result, *words: str) -> str:
        """The command failed with one ``Error:`` line holding ``words``, no traceback."""
        assert result.exit_code not in (0, None), result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("Error: ")
        for word in words:
            assert word in lines[0]
        assert "Traceback" not in result.output
        return lines[0]


@pytest.fixture
def raven() -> Raven:
    return Raven()
