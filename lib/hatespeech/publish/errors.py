"""The build's two errors; :func:`hatespeech.publish.cli.main` prints either as one ``FAILED:`` message."""

from __future__ import annotations

from pathlib import Path


class BuildError(RuntimeError):
    """The build stopped; the message says where and that the previous report was left as it was."""


class NotebookFailed(BuildError):
    def __init__(
        self,
        notebook: Path,
        message: str,
        executed: Path | None,
        cell_index: int | None = None,
        cell_first_line: str | None = None,
        error: str | None = None,
    ):
        super().__init__(message)
        self.notebook = notebook
        self.executed = executed
        self.cell_index = cell_index  # 0-based index in the committed notebook (markdown cells counted)
        self.cell_first_line = cell_first_line
        self.error = error
