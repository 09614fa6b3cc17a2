"""随机抽查通知书 files on two cores: a helper process writes some units' month files while this one writes the others.

A file's letters are laid out by polars and Python on one core (docx_letters), and the files of a run
(an inspecting unit's month each) are independent, so a helper process takes the largest file not yet
begun whenever it is free, and this process takes the next. Threads do not do it: most of the layout
holds Python's lock. The helper is `python -m spotcheck.notices.letter_helper`, fed through its standard
input and output, as the plan's is (spotcheck.plan.flows: multiprocessing would run the caller's main
script again). Its first message says where the letters come from (policy, draw folder, template), and
it loads them once; then each job is a target file and its batch's planned visits (as Arrow IPC), and each
answer is None or the error the helper met, which is raised here.

Each file is the same bytes whichever process writes it: both lay letters out with a LetterLayout of the
same template, and a shape's layout does not depend on which file first met it. A helper that ends
without answering (killed, out of memory) loses nothing: its file is written here, again from the start.
A small run is written here alone: starting the helper (a fresh interpreter importing polars, docxtpl and
python-docx, loading the policy and learning the shapes again) costs more than it saves.
"""

from __future__ import annotations

import io
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

import polars as pl
from spotcheck import pipes

if TYPE_CHECKING:
    from spotcheck.draw.reader import DrawFolder
    from spotcheck.notices.docx_letters import LetterFiles
    from spotcheck.notices.letters import LetterBatch

# Entities drawn (about as many letters) before a helper is started. Measured on two cores: a 100,000-entity
# city's 26,393 letters took 0.1-0.6 s less wall time with a helper and about 1 s (a quarter) more CPU, a
# million-entity city's 263,586 about 1-4 s less and 1.5-3 s more CPU.
HELPER_LETTERS = 40_000
_LENGTH = struct.Struct("<Q")


class Job(NamedTuple):
    """A file to write: its path and its letters, one Word file or a zip of one per letter."""

    target: Path
    batch: LetterBatch
    per_entity: bool


class Source(NamedTuple):
    """Where a run's letters come from, as the helper loads them."""

    policy: str
    draw: str
    template: str


class helper_for:
    """A Helper for the letters of `draw`, or None when they are too few to gain from one (or no Word files
    are written). Started before the plan's files are read, it has its imports done by the first job."""

    def __init__(self, draw: DrawFolder, source: Source | None) -> None:
        big = draw.summary.distinct_entities_drawn >= HELPER_LETTERS
        self.helper = Helper(source) if source is not None and big else None

    def __enter__(self) -> Helper | None:
        return self.helper

    def __exit__(self, *_: object) -> None:
        # Ended before the caller removes the folder it may be writing into.
        if self.helper is not None:
            self.helper.stop()


def write_files(files: LetterFiles, jobs: deque[Job], helper: Helper | None) -> None:
    """Each job's file, taken out of `jobs` (its letters let go once written): written by `files` here, in
    order, or with a helper by both, the largest first. Every file is whole, or an error raised, when
    this returns, but for those `files` is still compressing."""
    if helper is None:
        while jobs:
            _write_here(files, jobs.popleft())
        return
    waiting = deque(sorted(jobs, key=lambda j: -j.batch.size))
    jobs.clear()
    _Shared(files, waiting, helper).run()


def _write_here(files: LetterFiles, job: Job) -> None:
    files.write(job.batch.head, job.batch.rows, job.target, per_entity=job.per_entity)


class _Shared:
    """A run's files shared between this process and a helper fed by a thread of its own."""

    def __init__(self, files: LetterFiles, waiting: deque[Job], helper: Helper) -> None:
        self.files, self.waiting, self.helper = files, waiting, helper
        self.lock = threading.Lock()
        self.failed: list[BaseException] = []

    def take(self) -> Job | None:
        with self.lock:
            return self.waiting.popleft() if self.waiting and not self.failed else None

    def run(self) -> None:
        feeder = threading.Thread(target=self._feed, daemon=True)
        feeder.start()
        try:
            while (job := self.take()) is not None:
                _write_here(self.files, job)
            feeder.join()
            # What a lost helper left.
            while (job := self.take()) is not None:
                _write_here(self.files, job)
            if self.failed:
                raise self.failed[0]
            self.helper.close()
        finally:
            self.helper.stop()
            feeder.join()

    def _feed(self) -> None:
        try:
            while (job := self.take()) is not None:
                answered, error = self.helper.write(job)
                if not answered:
                    with self.lock:
                        self.waiting.appendleft(job)
                    return
                if error is not None:
                    self.failed.append(error)
                    return
        except BaseException as exc:  # noqa: BLE001 - raised by the main thread
            self.failed.append(exc)


class Helper:
    """A process that writes the letter files it is sent, one at a time."""

    def __init__(self, source: Source) -> None:
        self._process = pipes.start("spotcheck.notices.letter_helper")
        # Sent now: the helper loads the policy while this process reads the plan's files.
        self._sent = self._send(source)

    @property
    def pid(self) -> int:
        return self._process.pid

    def _send(self, message: Any) -> bool:
        try:
            _write(self._process.stdin, message)
            self._process.stdin.flush()
            return True
        except OSError:  # it has ended
            return False

    def write(self, job: Job) -> tuple[bool, BaseException | None]:
        """(answered, the error it met or None); not answered: it ended without writing the file whole."""
        batch = job.batch
        message = (str(job.target), batch.unit, batch.month, _ipc(batch.planned), job.per_entity)
        if not (self._sent and self._send(message)):
            return False, None
        answer = _read(self._process.stdout)
        return (False, None) if answer is None else (True, answer[0])

    def close(self) -> None:
        """Its end of input: it stops once its file is written."""
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.stop()

    def stop(self) -> None:
        """Ended now, whatever it is doing."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _ipc(frame: pl.DataFrame) -> bytes:
    """A frame as Arrow IPC, which holds its own values only. A batch's visits are a part of the plan's, and polars
    keeps a part's texts as views into the whole file's buffers (a list's lines in the whole column's), which a
    pickle of the frame wrote out whole: a 1M city's 39 batches were 860 MiB of pickles, 91 MiB of IPC."""
    out = io.BytesIO()
    frame.write_ipc(out, compat_level=pl.CompatLevel.oldest())
    return out.getvalue()


def _write(stream: BinaryIO, message: Any) -> None:
    """A pickled message, its length first."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipes.write_all(stream, memoryview(_LENGTH.pack(len(data)) + data))


def _read(stream: BinaryIO) -> Any:
    """The next message, or None if the stream ends first (None is never sent)."""
    head = pipes.read_exactly(stream, _LENGTH.size)
    data = None if head is None else pipes.read_exactly(stream, _LENGTH.unpack(head)[0])
    return None if data is None else pickle.loads(data)


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    from spotcheck.draw.reader import DRAWS, read_folder
    from spotcheck.notices.docx_letters import LetterFiles
    from spotcheck.notices.letters import Letters
    from spotcheck.policy.loader import load_policy

    where: Source | None = _read(source)
    if where is None:
        return
    build: Letters | None = None
    files = LetterFiles(Path(where.template))
    while (job := _read(source)) is not None:
        target, unit, month, planned, per_entity = job
        try:
            if build is None:
                build = Letters(load_policy(where.policy), read_folder(where.draw, needs=(DRAWS,)))
            batch = build.batch(unit, month, pl.read_ipc(planned))
            del planned
            files.write(batch.head, batch.rows, Path(target), per_entity=per_entity)
            files.wait()
            answer: Any = (None,)
        except Exception as exc:  # noqa: BLE001 - handed back to the process that sent the job
            answer = (exc,)
        try:
            _write(sink, answer)
        except (pickle.PicklingError, TypeError, AttributeError):
            _write(sink, (RuntimeError(f"{type(answer[0]).__name__}: {answer[0]}"),))
        sink.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
