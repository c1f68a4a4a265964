"""README.md, as a newcomer reads it: every file or directory it names exists in the repository
(runtime directories the demo creates excepted), every `portal` command (`portal --help`,
recursively) and every option of `portal demo` and `portal sandbox` is documented, and the tour
at the top names the demo accounts it uses."""

from __future__ import annotations

import re
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: made when the portal runs (gitignored), not files of the repository: named as places to look
RUNTIME = ("instance/", ".venv/", "mutants/", "test-artifacts/")
#: a file name with an extension the repository uses
_FILE = re.compile(r"(?<![\w/.:-])((?:\.{1,2}/)?[\w.<>*-]+(?:/[\w.<>*-]+)*\.(?:py|toml|md|html|sh|json|jsonl|cfg|txt|js))\b")
_CODE = re.compile(r"`([^`\n]+)`")


def _top_level() -> set[str]:
    return {p.name for p in ROOT.iterdir()} | {r.rstrip("/") for r in RUNTIME} | {"..", "shared"}


def path_tokens(text: str) -> set[str]:
    """Path-looking tokens: words ending in a file extension, anywhere; in code spans also words
    with a "/" under a top-level directory (or ending in "/"), not URLs, URL paths or settings."""
    top = _top_level()
    tokens = {m.group(1) for m in _FILE.finditer(text)}
    for span in _CODE.findall(text):
        for word in span.split():
            word = word.strip("\"'(),;:。，、（）")
            if word.startswith("file:"):
                word = word[len("file:"):]
            if ("/" not in word or "://" in word or word.startswith(("/", "-", "$", "…", "%", "PORTAL_"))
                    or not re.match(r"^[\w.<>*/-]+$", word)):
                continue
            if word.endswith("/") or word.lstrip("./").split("/")[0] in top or word.startswith("../"):
                tokens.add(word)
    return {t for t in tokens if not t.startswith("/")}


def exists(token: str) -> bool:
    """In the repository: the path from its root, or, for a bare file name the text gives in its
    context (e.g. ``money.py`` in the list of portal/), a file of that name anywhere in it."""
    if token.lstrip("./").startswith(RUNTIME):
        return True
    pattern = re.sub(r"<[^>]*>", "*", token).rstrip("/")
    if pattern.startswith("../"):
        return False  # outside the repository
    pattern = pattern.removeprefix("./")
    if "/" not in pattern:
        return any(p for p in ROOT.rglob(pattern) if ".venv" not in p.parts and "mutants" not in p.parts)
    return any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()


def test_path_tokens_are_found():
    found = path_tokens("see `portal/demo_data.py`, `config/<x>.toml`, `http://a/b`, `/recognition/`, "
                        "ARCHITECTURE.md, `db upgrade/downgrade`, `PORTAL_A/B` and `sqlite:///instance/portal.db`")
    assert found == {"portal/demo_data.py", "config/<x>.toml", "ARCHITECTURE.md"}
    assert exists("money.py") and not exists("staff.toml")
    assert exists("portal/<area>/models.py") and exists("instance/files/") and not exists("../shared/domain.md")
    assert not exists("portal/no_such_module.py")


def test_every_file_the_readme_names_exists():
    missing = sorted(t for t in path_tokens(README) if not exists(t))
    assert not missing, f"README.md names files that are not in the repository: {missing}"


def _commands(group: click.Group, ctx: click.Context, prefix: str = "portal"):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_portal_command_and_demo_option_is_documented():
    from portal.cli import cli

    with cli.make_context("portal", ["--help"], resilient_parsing=True) as ctx:
        commands = dict(_commands(cli, ctx))
    assert {"portal demo", "portal sandbox", "portal db upgrade", "portal benefits estimate"} <= set(commands)
    undocumented = [name for name in commands if f"`{name}" not in README]
    assert not undocumented, f"README.md does not show: {undocumented}"
    for name in ("portal demo", "portal sandbox"):
        for param in commands[name].params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert f"{opt}" in README, f"README.md does not explain `{name} {opt}`"


def test_the_tour_names_the_accounts_it_uses():
    tour = README.split("\n## ")[1]
    for login in ("worker", "employer", "clerk", "officer", "province"):
        assert f"`{login}`" in tour
