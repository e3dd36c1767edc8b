"""The ``finetunedb`` commands: each parses nothing (cli.py did), calls the client, prints the
human line or, with ``--json``, one JSON document on stdout, and returns its exit code."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from pathlib import Path

from . import config
from .client import Client
from .errors import AuthenticationError

OK, JOB_FAILED = 0, 3
NOT_LOGGED_IN = "Not logged in: run `finetunedb login`, or set FINETUNEDB_TOKEN."


class UsageError(Exception):
    pass


def _out(args, data, text: str) -> None:
    if args.json:
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(text)


def _progress(args) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def _client(args, *, need_token: bool = True) -> Client:
    client = Client(args.url, args.token, timeout=args.request_timeout)
    if need_token and not client.transport.token:
        raise AuthenticationError(NOT_LOGGED_IN)
    return client


def _team(client: Client, team: int | None) -> int:
    if team is not None:
        return team
    teams = list(client.list_teams())
    if len(teams) == 1:
        return teams[0].id
    names = ", ".join(f"{t.id} ({t.name})" for t in teams) or "none"
    raise UsageError(f"name the team with --team (your teams: {names})")


def cmd_login(args) -> int:
    url, _ = config.resolve(args.url, None)
    client = Client(url, None, timeout=args.request_timeout)
    if args.with_token:
        token = sys.stdin.readline().strip()
        client.transport.token = token
        username = client.me().username
    else:
        username = args.username or input("Username: ")
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
        token = client.login(username, password, name=args.name)
    path = config.config_save(url=client.url, token=token, username=username)
    _out(
        args,
        {"url": client.url, "username": username, "config": str(path)},
        f"Logged in to {client.url} as {username}; token stored in {path} (mode 0600).",
    )
    return OK


def cmd_logout(args) -> int:
    removed = config.config_remove()
    _out(args, {"removed": removed}, "Token removed." if removed else "No stored token.")
    return OK


def cmd_whoami(args) -> int:
    client = _client(args)
    me = client.me()
    _out(args, {"url": client.url, **me.to_dict()}, f"{me.username} on {client.url}")
    return OK


def cmd_datasets_list(args) -> int:
    client = _client(args)
    rows = [d.to_dict() for d in client.list_datasets(team=args.team)]
    lines = [
        f"{d['id']:>6}  team {d['team']:<4} {d['name']}  ({d.get('example_count', '?')} examples)"
        for d in rows
    ]
    _out(args, rows, "\n".join(lines) or "No datasets.")
    return OK


def cmd_datasets_create(args) -> int:
    client = _client(args)
    dataset = client.create_dataset(
        team=_team(client, args.team), name=args.name, description=args.description
    )
    _out(args, dataset.to_dict(), f"Created dataset {dataset.id} ({dataset.name}).")
    return OK


def cmd_import(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    client = _client(args)
    job = client.import_file(
        args.dataset,
        path,
        format=args.format,
        mode=args.mode,
        status=args.status,
        skip_duplicates=args.skip_duplicates,
        progress=_progress(args),
    )
    if args.wait:
        job.wait(progress=_progress(args), timeout=args.timeout, raise_on_failure=False)
    _out(
        args,
        job.to_dict(),
        f"Import {job.id}: {job.status}"
        + (f", {job.examples_created} examples created" if job.status == "succeeded" else "")
        + (f" — {job.failure_reason}" if job.failure_reason else ""),
    )
    if job.status == "failed":
        for error in job.first_errors[:10]:
            print(
                f"  line {error.get('line')}: {error.get('path', '')}: {error.get('message')}",
                file=sys.stderr,
            )
        return JOB_FAILED
    return OK


def cmd_export(args) -> int:
    if (args.version is None) == (args.dataset is None):
        raise UsageError("give --version ID (a frozen version) or --dataset ID (the working copy)")
    client = _client(args)
    to_stdout = args.output in (None, "-")
    export = client.export(
        args.version,
        dataset=args.dataset,
        format=args.format,
        split=args.split,
        gzip=args.gzip,
        metadata=args.metadata,
        path=None if to_stdout else args.output,
        progress=_progress(args) and not to_stdout,
    )
    if to_stdout:
        with export:
            sys.stdout.buffer.write(export.read_bytes())
            sys.stdout.flush()
        return OK
    info = {"path": str(export.path), "bytes": export.size, "format": export.format}
    _out(args, info, f"Wrote {export.size} bytes to {export.path}.")
    return OK


def cmd_freeze(args) -> int:
    client = _client(args)
    version = client.freeze(
        args.dataset,
        name=args.name,
        notes=args.notes,
        force=args.force,
        reason=args.reason,
        progress=_progress(args),
    )
    _out(
        args,
        version.to_dict(),
        f"Froze version {version.id} (#{version.number} {version.name}): {version.total} "
        f"examples, hash {version.content_hash[:12]}.",
    )
    return OK


def _hyperparameters(args) -> dict:
    values: dict = {}
    if args.hyperparameters:
        try:
            values.update(json.loads(args.hyperparameters))
        except ValueError as exc:
            raise UsageError(f"--hyperparameters is not JSON: {exc}") from exc
    for item in args.set or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--set {item!r}: write key=value")
        try:
            values[key] = json.loads(raw)
        except ValueError:
            values[key] = raw
    return values


def cmd_train(args) -> int:
    client = _client(args)
    run = client.train(
        args.version,
        base_model=args.base_model,
        method=args.method,
        hyperparameters=_hyperparameters(args),
    )
    if args.wait:
        run.wait(progress=_progress(args), timeout=args.timeout, raise_on_failure=False)
    _out(
        args,
        run.to_dict(),
        f"Training run {run.id}: {run.status}"
        + (f", model {run.model}" if run.model else "")
        + (f" — {run.failure_reason}" if run.failure_reason else ""),
    )
    return JOB_FAILED if run.status in ("failed", "cancelled") else OK


def _read_logs(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            rows = json.loads(text)
        elif stripped.startswith("{") and "\n{" not in stripped.strip():
            body = json.loads(text)
            rows = body["logs"] if isinstance(body, dict) and "logs" in body else [body]
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON lines or a JSON array: {exc}") from exc
    return rows


def cmd_logs_send(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    rows = _read_logs(path)
    token = args.ingest_key or os.environ.get("FINETUNEDB_INGEST_KEY") or args.token
    client = Client(args.url, token, timeout=args.request_timeout)
    if not client.transport.token:
        raise AuthenticationError(NOT_LOGGED_IN)
    ingest = client.transport.token.startswith("ftdbi_")
    team = None if ingest else _team(client, args.team)
    accepted, replayed, rejected, ids = 0, 0, [], []
    bar = None
    if _progress(args):
        from .jobs import progress_bar

        bar = progress_bar(total=len(rows), desc=f"logs {path.name}", enabled=True, unit="log")
    try:
        for start in range(0, len(rows), args.batch_size):
            batch = rows[start : start + args.batch_size]
            # The same file sent again stores nothing twice: each batch's key is its content.
            digest = hashlib.sha256(json.dumps(batch, sort_keys=True).encode()).hexdigest()
            result = client.send_logs(
                batch,
                team=team,
                skip_invalid=args.skip_invalid,
                idempotency_key=f"cli-{digest[:48]}",
            )
            accepted += result.accepted
            replayed += result.accepted if result.replayed else 0
            ids += result.ids
            rejected += [{**r, "index": start + r.get("index", 0)} for r in result.rejected]
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    summary = {
        "sent": len(rows),
        "accepted": accepted,
        "already_stored": replayed,
        "rejected": rejected,
        "ids": ids,
    }
    _out(
        args,
        summary,
        f"{accepted} of {len(rows)} logs accepted"
        + (f" ({replayed} were already stored)" if replayed else "")
        + (f"; {len(rejected)} problems" if rejected else "")
        + ".",
    )
    return OK
