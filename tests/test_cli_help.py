"""Every command says how to use it, and asking for help stays light.

- Each command of ``mlplab`` (the group included, recursively) has help text with an ``Example`` block
  holding a line that starts with ``mlplab <that command>``.
- Every ``mlplab ...`` line in any help text parses: its options exist and its values are of the right
  type and choice (parsed with ``make_context``, never run).
- ``mlplab --help`` and ``mlplab COMMAND --help`` import none of the heavy libraries (:data:`HEAVY`:
  matplotlib, plotly, tqdm, the web server, dask, TensorBoard): they are imported inside the command
  functions, so that asking for help is quick.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import click
import pytest

from mlplab.cli import main

SHELL_OPERATORS = ("&&", "||", ";", "|")
#: Libraries that `--help` must not load (each costs 25–500 ms to import); PIL comes with matplotlib.
HEAVY = ("matplotlib", "PIL", "plotly", "tqdm", "fastapi", "starlette", "uvicorn", "dask", "distributed",
         "tensorboard", "tensorboardX", "torch")


def all_commands() -> list[tuple[tuple[str, ...], click.Command, click.Context]]:
    """``(path, command, context)`` for the group and every command below it, depth first."""
    found = []

    def walk(command: click.Command, path: tuple[str, ...], parent: click.Context | None) -> None:
        ctx = click.Context(command, info_name=path[-1], parent=parent)
        found.append((path, command, ctx))
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                walk(sub, (*path, name), ctx)

    walk(main, ("mlplab",), None)
    return found


COMMANDS = all_commands()
IDS = [" ".join(path) for path, _, _ in COMMANDS]


def example_lines(help_text: str) -> list[list[str]]:
    """The ``mlplab ...`` lines of a help text as argument lists: comments and chained shell commands cut."""
    lines = []
    for line in help_text.splitlines():
        if not re.match(r"\s*mlplab\s+\S", line) or re.match(r"\s*mlplab\s*:", line):  # not the "mlplab: ..." title
            continue
        tokens = shlex.split(line.strip(), comments=True)
        for k, token in enumerate(tokens):
            if token in SHELL_OPERATORS:
                tokens = tokens[:k]
                break
        lines.append(tokens)
    return lines


def test_the_tree_has_the_commands_the_issues_name():
    names = {" ".join(path) for path, _, _ in COMMANDS}
    assert {"mlplab", "mlplab train", "mlplab plot", "mlplab report", "mlplab descent", "mlplab sgd",
            "mlplab compare", "mlplab serve"} <= names


@pytest.mark.parametrize(("path", "command", "ctx"), COMMANDS, ids=IDS)
def test_help_has_an_example_of_this_command(path, command, ctx):
    text = command.get_help(ctx)
    assert "Example" in text, f"`{' '.join(path)} --help` has no Example block"
    after = text[text.index("Example"):]
    own = [tokens for tokens in example_lines(after) if tuple(tokens[: len(path)]) == path]
    assert own, f"the Example block of `{' '.join(path)}` has no line starting with `{' '.join(path)}`:\n{after}"


def parse_example(tokens: list[str]) -> None:
    """Walk ``mlplab SUB ...`` down the groups and let the command parse the rest, without running it."""
    assert tokens[0] == "mlplab"
    command: click.Command = main
    parent = None
    i = 1
    while isinstance(command, click.Group) and i < len(tokens) and tokens[i] in command.commands:
        parent = click.Context(command, info_name=tokens[i - 1], parent=parent)
        command, i = command.commands[tokens[i]], i + 1
    command.make_context(tokens[i - 1], tokens[i:], parent=parent)  # raises UsageError on a bad example


@pytest.mark.parametrize(("path", "command", "ctx"), COMMANDS, ids=IDS)
def test_every_example_line_parses(path, command, ctx):
    for tokens in example_lines(command.get_help(ctx)):
        try:
            parse_example(tokens)
        except click.exceptions.Exit:  # an eager option such as --help or --version
            pass
        except click.UsageError as exc:
            pytest.fail(f"the example `{shlex.join(tokens)}` in `{' '.join(path)} --help` does not parse: "
                        f"{exc.format_message()}")


# Runs in a fresh interpreter: records which mlplab modules were being imported when the first heavy
# library was, and which heavy libraries each help text loaded.
HELP_SCRIPT = r"""
import importlib.abc, json, sys

chain = []
heavy = json.loads(sys.argv[2])

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in heavy and not chain:
            frame = sys._getframe(1)
            while frame is not None:
                module = frame.f_globals.get("__name__", "")
                if module.startswith("mlplab") and module not in chain:
                    chain.insert(0, module)
                frame = frame.f_back
            chain.append(name)
        return None

sys.meta_path.insert(0, Watch())
from mlplab.cli import main

report = {}
for path in json.loads(sys.argv[1]):
    main([*path, "--help"], standalone_mode=False)
    report[" ".join(["mlplab", *path])] = [name for name in heavy if name in sys.modules]
print(json.dumps({"imported": report, "chain": chain}))
"""


def test_help_does_not_import_heavy_libraries():
    paths = [list(path[1:]) for path, _, _ in COMMANDS]  # [] is `mlplab --help`
    done = subprocess.run([sys.executable, "-c", HELP_SCRIPT, json.dumps(paths), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["chain"] == [], "`mlplab --help` imports a heavy library, via " + " → ".join(result["chain"])
    assert not any(result["imported"].values()), result["imported"]
