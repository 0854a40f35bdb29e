"""Where a Spark run's results live, on a local disk or any Hadoop-compatible file system.

An output location (a local path, or a URI: ``file:``, ``hdfs://``, ``s3a://``,
``abfss://``, ``gs://``) holds::

    runs/<run id>/<table>/   each published table of a run, as Parquet
    det_runs/                every run's settings and counts, one file appended per run
    CURRENT                  the id of the run readers should read, written last

A run writes its tables under its own directory, appends its log rows, then switches
``CURRENT`` to itself and removes the previous run's directory. A reader of ``CURRENT``
sees one complete run or the other, never half of each; a run that fails removes its own
directory and leaves ``CURRENT`` as it was. The switch writes the new pointer under a
temporary name (``CURRENT.next``) and renames it over ``CURRENT`` with Hadoop's
``FileContext`` rename-with-overwrite: one atomic step on a local disk and HDFS. Where it
is not atomic (object stores: S3A, GCS, ABFS delete the target, then rename) or not
available, ``CURRENT`` is deleted then the pointer renamed; in that moment readers read
``CURRENT.next``, which is complete by then (``current_run``).

Publishing goes through Hadoop's ``FileSystem`` in the Spark session's JVM, so every file
system Spark is configured for works, with its credentials. Reading the pointer of a local
location needs no Spark (``sentinelle results load``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sentinelle.errors import WarehouseError

CURRENT = "CURRENT"
NEXT = "CURRENT.next"  # the new pointer, complete, before it is renamed over CURRENT
RUNS = "runs"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_RUN_ID = re.compile(r"^[0-9A-Za-z_-]+$")


def location_uri(location: str | Path) -> str:
    """A URI for a location: a URI as given (without a trailing slash), a local path as
    an absolute ``file:`` URI. Not percent-encoded: Hadoop's ``Path`` encodes it."""
    text = str(location)
    if isinstance(location, Path) or not _SCHEME.match(text):
        return "file://" + Path(text).expanduser().resolve().as_posix()
    return text.rstrip("/") or text


def local_path(location: str | Path) -> Path | None:
    """The local directory a location names, or None for a URI of another file system."""
    uri = location_uri(location)
    if not uri.startswith("file:"):
        return None
    path = uri[len("file:"):]
    if path.startswith("//"):  # file://HOST/path: only the empty host is this machine
        host, _, rest = path[2:].partition("/")
        if host not in ("", "localhost"):
            return None
        path = "/" + rest
    return Path(path)


def child(uri: str, *names: str) -> str:
    return "/".join([uri.rstrip("/"), *names])


def run_location(output: str | Path, run_id: str) -> str:
    """Where the run ``run_id`` keeps its tables, as a URI."""
    return child(location_uri(output), RUNS, run_id)


class HadoopFiles:
    """Hadoop's ``FileSystem`` for one location, through the Spark session's JVM: what
    the session is configured to reach (``spark.hadoop.*`` settings, credentials)."""

    def __init__(self, session: Any, location: str | Path) -> None:
        self._jvm = session._jvm
        self._gateway = session.sparkContext._gateway
        self.uri = location_uri(location)
        self._conf = session._jsc.hadoopConfiguration()
        self._fs = self._path(self.uri).getFileSystem(self._conf)

    def _path(self, uri: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def exists(self, uri: str) -> bool:
        return bool(self._fs.exists(self._path(uri)))

    def names(self, uri: str) -> list[str]:
        """The names in a directory (none when it does not exist)."""
        if not self.exists(uri):
            return []
        return sorted(str(s.getPath().getName()) for s in self._fs.listStatus(self._path(uri)))

    def read_text(self, uri: str) -> str | None:
        """The first line of a small text file, or None when there is no such file."""
        if not self.exists(uri):
            return None
        io = self._jvm.java.io
        reader = io.BufferedReader(io.InputStreamReader(self._fs.open(self._path(uri)),
                                                        "UTF-8"))
        try:
            line = reader.readLine()
        finally:
            reader.close()
        return None if line is None else str(line)

    def write_text(self, uri: str, text: str) -> None:
        _write(self._fs.create(self._path(uri), True), text)

    def rename(self, source: str, target: str) -> bool:
        return bool(self._fs.rename(self._path(source), self._path(target)))

    def replace(self, source: str, target: str) -> bool:
        """Rename over ``target`` through ``FileContext`` (atomic on a local disk and
        HDFS); False where the file system has no ``FileContext`` or refuses."""
        hadoop = self._jvm.org.apache.hadoop.fs
        overwrite = self._gateway.new_array(hadoop.Options.Rename, 1)
        overwrite[0] = hadoop.Options.Rename.OVERWRITE
        try:
            context = hadoop.FileContext.getFileContext(self._jvm.java.net.URI(self.uri),
                                                        self._conf)
            context.rename(self._path(source), self._path(target), overwrite)
        except Exception:  # py4j reports the JVM's IOException as a bare Py4JJavaError
            return False
        return True

    def delete(self, uri: str) -> None:
        self._fs.delete(self._path(uri), True)

    def mkdirs(self, uri: str) -> None:
        self._fs.mkdirs(self._path(uri))

    def create_new(self, uri: str, text: str) -> bool:
        """Write a small text file that must not exist yet; False when it does (a
        create without overwrite: on HDFS the name node refuses the second of two)."""
        if self.exists(uri):
            return False
        try:
            stream = self._fs.create(self._path(uri), False)
        except Exception:  # py4j: FileAlreadyExistsException, created meanwhile
            return False
        _write(stream, text)
        return True

    def files(self, uri: str) -> list[str]:
        """The URIs of the files at or under ``uri``, in name order (none when it does
        not exist)."""
        path = self._path(uri)
        if not self._fs.exists(path):
            return []
        if self._fs.getFileStatus(path).isFile():
            return [uri]
        found, listing = [], self._fs.listFiles(path, True)
        while listing.hasNext():
            found.append(str(listing.next().getPath().toString()))
        return sorted(found)

    def download(self, uri: str, local: Path) -> None:
        """Copy the file at ``uri`` to ``local`` on the driver's disk (no checksum file)."""
        self._fs.copyToLocalFile(False, self._path(uri), self._path(location_uri(local)), True)

    def upload(self, local: Path, uri: str) -> None:
        """Copy a file or directory of the driver's disk to ``uri``."""
        self._fs.copyFromLocalFile(False, True, self._path(location_uri(local)), self._path(uri))


def _write(stream: Any, text: str) -> None:
    """Write ``text`` to a Hadoop output stream, and close it."""
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def current_run(output: str | Path, session: Any | None = None) -> str | None:
    """The id of the run readers of ``output`` should read, or None before the first.

    With a Spark session, on any file system it reaches; without one, local locations
    only (a ``file:`` URI or a path)."""
    if session is not None:
        read = HadoopFiles(session, output).read_text
    else:
        root = local_path(output)
        if root is None:
            raise WarehouseError(f"{output} is not on this machine; without Spark, "
                                 "published results are read from a local directory",
                                 fix="copy the results directory here first (for example "
                                     "hadoop fs -get URI DIR), then give DIR")

        def read(uri: str) -> str | None:
            path = local_path(uri)
            if path is None or not path.is_file():
                return None
            lines = path.read_text("utf-8").splitlines()
            return lines[0] if lines else None

    uri = location_uri(output)
    # CURRENT, else the complete pointer about to replace it, else CURRENT again: it may
    # have been renamed into place between the first two reads.
    for name in (CURRENT, NEXT, CURRENT):
        found = read(child(uri, name))
        if found:
            if not _RUN_ID.match(found.strip()):
                raise WarehouseError(f"{child(uri, name)} does not hold a run id",
                                     value=found[:80], fix="publish a run again: sentinelle "
                                     "detect --engine spark --output " + str(output))
            return found.strip()
    return None


def publish_run(session: Any, output: str | Path, run_id: str, tables: dict[str, Any],
                logs: dict[str, Any]) -> None:
    """Write ``tables`` (name: Spark frame) under the run's directory and append ``logs``
    (name: frame) to ``output/<name>/``; then make the run current and remove the previous
    run's directory. On failure before the switch the run's directory is removed and
    ``CURRENT`` is as it was."""
    files = HadoopFiles(session, output)
    staging = run_location(output, run_id)
    previous = current_run(output, session)
    try:
        for name, frame in tables.items():
            frame.write.parquet(child(staging, name))
        for name, frame in logs.items():
            frame.coalesce(1).write.mode("append").parquet(child(files.uri, name))
        files.write_text(child(files.uri, NEXT), run_id + "\n")
    except Exception:
        files.delete(staging)
        files.delete(child(files.uri, NEXT))
        raise
    _switch(files)
    if previous is not None and previous != run_id:
        files.delete(run_location(output, previous))


def _switch(files: HadoopFiles) -> None:
    """Rename ``CURRENT.next`` over ``CURRENT``."""
    pending, current = child(files.uri, NEXT), child(files.uri, CURRENT)
    if files.replace(pending, current) or files.rename(pending, current):
        return
    # Renaming over a file refused: readers read CURRENT.next meanwhile.
    files.delete(current)
    if not files.rename(pending, current):
        raise WarehouseError(f"could not rename {pending} to {current}",
                             fix="check the permissions on the output location; readers "
                                 "read CURRENT.next until it is renamed")


__all__ = ["CURRENT", "NEXT", "RUNS", "HadoopFiles", "current_run", "local_path",
           "location_uri", "publish_run", "run_location"]
