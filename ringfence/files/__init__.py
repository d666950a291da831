"""Snapshot and delta files in a drop folder, downloadable over HTTP (``/v1/files``) and the built-in SFTP server.

* :mod:`~ringfence.files.snapshots` writes full snapshots and deltas (CSV.gz, JSONL.gz and a manifest);
* :mod:`~ringfence.files.render` renders their rows; :mod:`~ringfence.files.sink` compresses, hashes and publishes
  a file; :mod:`~ringfence.files.manifest` names and describes a set;
* :mod:`~ringfence.files.drop` lists the folder and resolves names safely; :mod:`~ringfence.files.scheduler` writes
  on a schedule;
* :mod:`~ringfence.files.credentials` and :mod:`~ringfence.files.sftp` serve the folder over SFTP.

The writers know nothing of HTTP or SSH; the front doors only read what :class:`~ringfence.files.drop.DropFolder`
hands out.
"""
