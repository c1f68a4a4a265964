"""Mutation testing of the benefits engine and the clocks: ``./dev.sh mutate`` (not part of CI).

Runs mutmut (configured in ``[tool.mutmut]`` of pyproject.toml) over the files it lists, with
string-literal mutants left out, then prints the kill ratio and every surviving mutant:

    python tests/mutation.py [--fresh | --survivors] [--show] [--report] [mutant names] [-- pytest args]

Run it as a script (not ``-m tests.mutation``): the ``tests`` package must be imported from the
copy under ``mutants/``, not from the working tree. Arguments after ``--`` are added to the
pytest command line (e.g. ``-- --deselect tests/clocks/test_calendar.py::test_x`` while a test
of the working tree is being rewritten). ``--report`` only prints the last run's results.

String-literal mutants (``"x"`` → ``"XXxXX"``, upper/lower case) are dropped at generation: the
wording of messages and labels is checked by page tests, and most of these mutants touch no rule.
The ratio is therefore killed / (all mutants − string mutants); a timeout counts as killed (the
tests noticed), "no tests" and "suspicious" count as survivors. ``--fresh`` starts from an empty
``mutants/`` (mutmut otherwise keeps the results of functions whose code did not change);
``--survivors`` checks again only the mutants that survived the last run (after new tests were
written: mutmut finds the new tests and keeps every other result); ``--show`` prints the diff of
each survivor. A summary with the date and time is written to
``mutants/summary.txt``. Before each run the working tree's ``tests/`` is copied over
``mutants/tests`` (mutmut runs pytest there and would otherwise keep the first copy).
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: mutmut's outcomes that mean a test noticed the mutant
DETECTED = {"killed", "timeout", "caught by type check"}


def _string_mutations(path: Path) -> int:
    """How many string-literal mutants mutmut would make in ``path`` (for the report)."""
    import libcst as cst
    from mutmut.mutation.file_mutation import create_mutations

    _module, mutations, _classes, _functions = create_mutations(str(path), path.read_text("utf-8"))
    return sum(1 for m in mutations if isinstance(m.original_node, cst.BaseString))


def drop_string_mutants() -> None:
    """Remove mutmut's string-literal operator from its table (in place: the generator holds the
    same list). Fails loudly if a mutmut release renames it, rather than counting strings."""
    from mutmut.mutation import mutators

    before = len(mutators.mutation_operators)
    mutators.mutation_operators[:] = [(kind, op) for kind, op in mutators.mutation_operators
                                      if op is not mutators.operator_string]
    if len(mutators.mutation_operators) != before - 1:
        raise SystemExit("mutmut's string operator was not found: check tests/mutation.py against "
                         "the installed mutmut")


def sync_tests() -> None:
    """Copy the working tree's ``tests/`` over ``mutants/tests``: mutmut runs pytest inside
    ``mutants/`` and copies a file there only once, so new or changed tests would not be seen."""
    target = ROOT / "mutants" / "tests"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "tests", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def outcomes() -> dict[str, dict[str, str]]:
    """{file: {mutant name: status}} from mutmut's result files under mutants/."""
    from mutmut.configuration import config
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    found: dict[str, dict[str, str]] = {}
    for pattern in config().only_mutate:
        for path in sorted(ROOT.glob(pattern)):
            relative = path.relative_to(ROOT)
            data = SourceFileMutationData(path=relative)
            data.load()
            found[str(relative)] = {name: status_by_exit_code[code]
                                    for name, code in data.exit_code_by_key.items()}
    return found


def report(strings: dict[str, int], show: bool, started: datetime) -> tuple[int, int]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    lines = [f"mutation run of {started:%Y-%m-%d %H:%M} (local time), finished "
             f"{datetime.now():%H:%M}; string-literal mutants not generated", ""]
    total_detected = total = 0
    survivors: list[tuple[str, str, str]] = []
    for path, statuses in outcomes().items():
        counts = Counter(statuses.values())
        detected = sum(counts[s] for s in DETECTED)
        total_detected += detected
        total += len(statuses)
        ratio = f"{detected / len(statuses):.1%}" if statuses else "-"
        detail = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        lines.append(f"{path}: {detected}/{len(statuses)} detected ({ratio}); {detail}; "
                     f"string mutants skipped: {strings.get(path, 0)}")
        survivors += [(path, name, status) for name, status in sorted(statuses.items())
                      if status not in DETECTED]
    ratio = total_detected / total if total else 0.0
    lines += ["", f"kill ratio: {total_detected}/{total} = {ratio:.1%} "
                  f"(killed / (all − {sum(strings.values())} string mutants))", ""]
    lines.append(f"survivors ({len(survivors)}):")
    for path, name, status in survivors:
        lines.append(f"  {name}  [{status}]")
        if show:
            lines += ["    " + line for line in get_diff_for_mutant(name, path=path).splitlines()]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "mutants").mkdir(exist_ok=True)
    (ROOT / "mutants" / "summary.txt").write_text(text, "utf-8")
    return total_detected, total


def main(argv: list[str]) -> int:
    import os

    os.chdir(ROOT)
    # a script's folder comes first on sys.path: drop it, so that nothing under tests/ shadows
    # a module and the tests are imported from mutants/ (mutmut puts that folder first)
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    own, pytest_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    fresh = "--fresh" in own
    show = "--show" in own
    report_only = "--report" in own
    passed = [a for a in own if a not in ("--fresh", "--show", "--report", "--survivors")]
    if "--survivors" in own:
        passed += [name for statuses in outcomes().values() for name, status in statuses.items()
                   if status not in DETECTED]
        if not passed:
            print("no survivors to check again")
    if fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if not report_only:
        sync_tests()
    started = datetime.now()

    from mutmut.configuration import config

    config().pytest_add_cli_args.extend(pytest_args)
    strings = {str(p.relative_to(ROOT)): _string_mutations(p.relative_to(ROOT))
               for pattern in config().only_mutate for p in sorted(ROOT.glob(pattern))}
    if not report_only:
        drop_string_mutants()
        from mutmut.__main__ import cli

        try:
            cli.main(["run", *passed], prog_name="mutmut", standalone_mode=False)
        except SystemExit as stop:
            if stop.code not in (0, None):
                return int(stop.code) if isinstance(stop.code, int) else 1
    report(strings, show, started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
