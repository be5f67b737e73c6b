"""The CLI's output: lines of plain text written as they are, anything else through rich."""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Console:
    """``rich.console.Console(highlight=False, soft_wrap=True, emoji=False)``, made only when
    needed (no ``:name:`` emoji codes: messages quote paths and texts as they are).

    A line of plain, printable text (``print("...", markup=False)``, what most commands write)
    goes to the stream as it is, as rich would write it: importing rich costs ~25 ms of every
    command's start. Anything else (tabs and other control or format characters, markup,
    ``print_json``, rich renderables) goes through rich itself.
    """

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr
        self._rich: Any = None

    @property
    def rich(self) -> Any:
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(stderr=self.stderr, highlight=False, soft_wrap=True, emoji=False)
        return self._rich

    @property
    def file(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        return self.file.isatty()

    def print(self, *objects: Any, markup: bool | None = None, **options: Any) -> None:
        if markup is False and not options and all(isinstance(o, str) and o.isprintable() for o in objects):
            self.file.write(" ".join(objects) + "\n")
            self.file.flush()
        else:
            self.rich.print(*objects, markup=markup, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)
