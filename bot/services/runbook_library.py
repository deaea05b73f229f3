"""Runbook files on disk: loaded, checked, re-read when they change, found by forgiving names.

A broken file never stops the bot: it is kept as unavailable, with the reason, so `runbook` can say
what is wrong and IT can fix it without a restart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml
from pydantic import ValidationError

from bot.domain.errors import UserError
from bot.domain.parsing import close_match
from bot.domain.runbook import Runbook, describe_errors

SUFFIXES = (".yaml", ".yml")
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "runbooks"
CHECK_HINT = "python -m bot runbooks check"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_WORD = re.compile(r"[a-z0-9]+")
_KEYS = ", ".join(Runbook.model_fields)

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class RunbookFile:
    """One file: its runbook, or the problems that keep it unavailable (`field: problem`)."""

    id: str
    path: Path
    runbook: Runbook | None
    problems: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        more = len(self.problems) - 1
        return self.problems[0] + (f" (and {more} more)" if more > 0 else "")


def default_directory() -> Path:
    """`./runbooks` when the bot runs from a checkout or deployment that has one, else the
    runbooks shipped next to the package."""
    local = Path("runbooks")
    return local if local.is_dir() else SHIPPED_DIR


def load_file(path: Path) -> RunbookFile:
    runbook_id = path.stem
    if not _ID.match(runbook_id):
        return RunbookFile(
            runbook_id,
            path,
            None,
            (
                f"(file name): “{runbook_id}” is not a runbook id; name the file with lower-case "
                "letters, digits and dashes, like ehr-downtime.yaml",
            ),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return RunbookFile(runbook_id, path, None, ("(file): not UTF-8 text",))
    except OSError as error:
        return RunbookFile(runbook_id, path, None, (f"(file): cannot read ({error.strerror})",))
    problems = _problems(text)
    if isinstance(problems, Runbook):
        return RunbookFile(runbook_id, path, problems)
    return RunbookFile(runbook_id, path, None, tuple(problems))


def _problems(text: str) -> Runbook | list[str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        what = getattr(error, "problem", None) or str(error)
        return [f"{where}: not valid YAML ({what})"]
    if data is None:
        return [f"(top level): the file is empty; a runbook needs {_KEYS}"]
    if not isinstance(data, dict):
        return [f"(top level): expected a mapping with the keys {_KEYS}"]
    try:
        return Runbook.model_validate(data)
    except ValidationError as error:
        return describe_errors(error)


def runbook_paths(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return [path]


class RunbookLibrary:
    """The runbooks of one directory. Every lookup first checks the files' mtimes and sizes and
    re-reads only what changed, so an edited file is live on the next command."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._signature: Signature | None = None
        self._by_name: dict[str, RunbookFile] = {}
        self._by_id: dict[str, RunbookFile] = {}

    @classmethod
    def default(cls) -> RunbookLibrary:
        return cls(default_directory())

    @property
    def exists(self) -> bool:
        return self.directory.is_dir()

    def refresh(self) -> bool:
        """Re-read changed files; True if anything changed since the last look."""
        signature = self._scan()
        if signature == self._signature:
            return False
        previous = {name: stamp for name, *stamp in self._signature or ()}
        by_name: dict[str, RunbookFile] = {}
        by_id: dict[str, RunbookFile] = {}
        for name, mtime, size in signature:
            unchanged = previous.get(name) == [mtime, size] and name in self._by_name
            loaded = self._by_name[name] if unchanged else load_file(self.directory / name)
            if loaded.id in by_id and loaded.runbook is not None:
                other = by_id[loaded.id].path.name
                problem = f"(file name): {other} already defines the runbook “{loaded.id}”"
                loaded = RunbookFile(loaded.id, loaded.path, None, (problem,))
            by_name[name] = loaded
            by_id.setdefault(loaded.id, loaded)
        self._by_name, self._by_id, self._signature = by_name, by_id, signature
        return True

    def reload(self) -> None:
        """Forget everything and read every file again (`runbook reload`)."""
        self._signature = None
        self._by_name = {}
        self._by_id = {}
        self.refresh()

    def _scan(self) -> Signature:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return ()
        found = []
        for entry in entries:
            if entry.name.endswith(SUFFIXES) and entry.is_file():
                stat = entry.stat()
                found.append((entry.name, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(found))

    def files(self) -> list[RunbookFile]:
        self.refresh()
        return list(self._by_name.values())

    def available(self) -> list[RunbookFile]:
        return [f for f in self.files() if f.runbook is not None]

    def unavailable(self) -> list[RunbookFile]:
        return [f for f in self.files() if f.runbook is None]

    def find(self, name: str) -> tuple[str, Runbook]:
        """The runbook `name` means: its id, a unique prefix (`ehr`), or a unique word of its id
        or title (`crowdstrike`). Raises UserError with a "did you mean" when there is none."""
        self.refresh()
        files = self._by_id
        key = name.lower().strip().replace(" ", "-").replace("_", "-").removesuffix(".yaml")
        found = files.get(key)
        if found is None:
            found = self._unique(name, key, files.values())
        if found.runbook is None:
            raise UserError(
                f"The runbook “{found.id}” cannot be used: {found.path.name} has a problem: "
                f"{found.reason}. IT can fix the file (check it with: {CHECK_HINT}); "
                "it is re-read on the next command."
            )
        return found.id, found.runbook

    def _unique(self, name: str, key: str, files: Iterable[RunbookFile]) -> RunbookFile:
        pool = list(files)
        for match in (_prefix, _word, _substring):
            candidates = [f for f in pool if match(key, f)]
            if len(candidates) == 1:
                return candidates[0]
            if candidates:
                names = ", ".join(f.id for f in candidates)
                raise UserError(f"“{name}” matches several runbooks: {names}. Say which one.")
        ids = [f.id for f in pool]
        guess = close_match(key, {runbook_id: runbook_id for runbook_id in ids})
        if guess is not None:
            raise UserError(f"There is no runbook “{name}”. Did you mean {guess}?")
        if not ids:
            raise UserError(f"There is no runbook “{name}”; no runbooks are loaded.")
        raise UserError(f"There is no runbook “{name}”. Runbooks: {', '.join(ids)}.")


def _prefix(key: str, file: RunbookFile) -> bool:
    return file.id.startswith(key)


def _word(key: str, file: RunbookFile) -> bool:
    title = file.runbook.title.lower() if file.runbook else ""
    return key in file.id.split("-") or key in _WORD.findall(title)


def _substring(key: str, file: RunbookFile) -> bool:
    return len(key) >= 3 and key in file.id


def run_check(path: Path, out: TextIO) -> int:
    """`runbooks check [path]`: every problem as `file: field: problem`; non-zero if any."""
    if not path.exists():
        print(f"{path}: no such file or directory", file=out)
        return 2
    paths = runbook_paths(path)
    if not paths:
        print(f"{path}: no runbook files (*.yaml) here", file=out)
        return 1
    problems = 0
    for file_path in paths:
        loaded = load_file(file_path)
        for problem in loaded.problems:
            print(f"{file_path}: {problem}", file=out)
        problems += len(loaded.problems)
        if loaded.runbook is not None:
            count = len(loaded.runbook.steps)
            print(f"{file_path}: ok ({count} step{'s' if count != 1 else ''})", file=out)
    files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
    if problems:
        print(f"{files} checked: {problems} problem{'s' if problems != 1 else ''}.", file=out)
        return 1
    print(f"{files} checked: no problems.", file=out)
    return 0
