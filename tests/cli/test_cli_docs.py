"""The ``raven`` commands the docs print are ones the command line takes:
each parses as printed, and those that need no server or key files run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from raven import cli

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Where a shell command ends: `raven wls &` is `raven wls`, in the background.
CONTROL = {"&", "&&", "||", ";", "|"}


def printed_commands() -> list[tuple[str, list[str]]]:
    """Every ``raven ...`` line of the docs' shell blocks, as words."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for block in re.findall(r"^```sh\n(.*?)^```$", page.read_text(), re.S | re.M):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if "raven" in words:  # also after a pipe: `... | raven decode -`
                    words = words[words.index("raven") + 1:]
                    ends = [i for i, word in enumerate(words) if word in CONTROL]
                    found.append((page.name, words[:ends[0]] if ends else words))
    return found


def test_the_docs_print_raven_commands():
    pages = {page for page, _ in printed_commands()}
    assert {"cli.md", "wls.md", "demo.md"} <= pages


@pytest.mark.parametrize("page, words", printed_commands(), ids=lambda v: " ".join(v)
                         if isinstance(v, list) else v)
def test_each_printed_command_parses(page, words):
    with click.Context(cli.main, info_name="raven", **cli.main.context_settings) as ctx:
        command = cli.main.get_command(ctx, words[0])
        assert command is not None, (page, words)
        command.make_context(words[0], list(words[1:]), parent=ctx)  # raises on a wrong option


def test_a_wrong_option_would_be_caught():
    with pytest.raises(click.UsageError):
        test_each_printed_command_parses("cli.md", ["wls", "--prot", "5002"])
    with pytest.raises(AssertionError):
        test_each_printed_command_parses("cli.md", ["serve", "--port", "5002"])


def commands_of(page: str, verb: str) -> list[list[str]]:
    return [words for name, words in printed_commands() if name == page and words[0] == verb]


def test_cli_md_request_lines_print_the_url(raven):
    first, local = commands_of("cli.md", "request")
    result = raven(*first)
    assert result.exit_code == 0, result.output
    assert "https://raven.cam.ac.uk/auth/authenticate.html?ver=3&url=" in result.output
    assert result.output.strip().endswith("&desc=Members%27+area")
    result = raven(*local)
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5001/auth/authenticate.html?" in result.output
    assert "iact=yes" in result.output


def test_cli_md_keys_live_and_a_named_file(raven, tmp_path, monkeypatch):
    from raven import PUBKEY2

    [live] = [w for w in commands_of("cli.md", "keys") if "--live" in w]
    result = raven(*live)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[:3] == ["2", "1024", "65537"]
    [named] = [w for w in commands_of("cli.md", "keys") if "next-key.pem" in w]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "next-key.pem").write_text(PUBKEY2)
    result = raven(*named)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[0] == "3"
    assert result.output.splitlines()[1].endswith("next-key.pem")
