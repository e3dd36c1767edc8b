"""``finetunedb``: the command line over the client (docs/client.md).

Exit codes (also in ``finetunedb --help``): 0 done; 1 the API refused or failed (4xx/5xx other
than below); 2 usage (bad arguments, missing file); 3 a job this command waited for failed or
was cancelled; 4 authentication or permission (no token, a revoked one, a role too low);
5 the server could not be reached; 6 ``--timeout`` passed while waiting; 130 interrupted.

``--json`` prints one JSON document on stdout (the object, or a list) and nothing else there;
messages and progress bars go to stderr, bars only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import sys
from pathlib import Path

from . import __version__, config
from .client import Client
from .errors import (
    AuthenticationError,
    ConnectionFailed,
    FinetuneDBError,
    JobFailed,
    JobTimeout,
    PermissionDenied,
)

OK, API_ERROR, USAGE, JOB_FAILED, AUTH, UNREACHABLE, TIMED_OUT, INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    130,
)
EXIT_CODES = """exit codes:
  0  done
  1  the API refused or failed the request
  2  usage: bad arguments or a missing file
  3  a job waited for (--wait) failed or was cancelled
  4  not logged in, a bad or revoked token, or a role too low
  5  the server could not be reached
  6  --timeout passed while waiting (the job goes on)
"""
NOT_LOGGED_IN = "Not logged in: run `finetunedb login`, or set FINETUNEDB_TOKEN."
LOG_BATCH = 1000


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


# --- commands ---------------------------------------------------------------------------------


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


# --- the parser -------------------------------------------------------------------------------


def _common(*, defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Only the top level has
    defaults: a subcommand's would overwrite what was given before the command's name."""

    def default(value):
        return value if defaults else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=default(None), help="server root (default: FINETUNEDB_URL, the login's)"
    )
    common.add_argument(
        "--token", default=default(None), help="API token (default: FINETUNEDB_TOKEN, the login's)"
    )
    common.add_argument(
        "--json", action="store_true", default=default(False), help="JSON on stdout, for scripts"
    )
    common.add_argument(
        "--no-progress", action="store_true", default=default(False), help="no progress bars"
    )
    common.add_argument(
        "--request-timeout",
        type=float,
        default=default(300.0),
        metavar="S",
        help="seconds per HTTP request (default 300)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common(defaults=False)
    parser = argparse.ArgumentParser(
        prog="finetunedb",
        description="FinetuneDB from the command line.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"finetunedb-client {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("login", parents=[common], help="get a token and store it (0600)")
    p.add_argument("--username", "-u")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--with-token", action="store_true", help="read an existing token from stdin")
    p.add_argument("--name", help="the new token's name (default: API token <date time>)")
    p.set_defaults(func=cmd_login)
    sub.add_parser("logout", parents=[common], help="forget the stored token").set_defaults(
        func=cmd_logout
    )
    sub.add_parser("whoami", parents=[common], help="who the token belongs to").set_defaults(
        func=cmd_whoami
    )

    datasets = sub.add_parser("datasets", help="list or create datasets").add_subparsers(
        dest="datasets_command", required=True, metavar="ACTION"
    )
    p = datasets.add_parser("list", parents=[common], help="your datasets")
    p.add_argument("--team", type=int)
    p.set_defaults(func=cmd_datasets_list)
    p = datasets.add_parser("create", parents=[common], help="a new dataset")
    p.add_argument("name")
    p.add_argument("--team", type=int, help="needed when you are in several teams")
    p.add_argument("--description", default="")
    p.set_defaults(func=cmd_datasets_create)

    p = sub.add_parser("import", parents=[common], help="upload a file into a dataset")
    p.add_argument("file")
    p.add_argument("--dataset", type=int, required=True)
    p.add_argument("--format", default="auto", help="auto (default), openai, sharegpt, alpaca, …")
    p.add_argument("--mode", default="strict", choices=["strict", "skip_invalid"])
    p.add_argument("--status", help="the new examples' status (default draft)")
    p.add_argument("--skip-duplicates", action="store_true")
    p.add_argument("--wait", action="store_true", help="wait for the import to finish")
    p.add_argument("--timeout", type=float, help="seconds to wait at most")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export", parents=[common], help="download a version's (or working copy's) export"
    )
    p.add_argument("--version", type=int, dest="version", help="a frozen version's id")
    p.add_argument("--dataset", type=int, help="the working copy of this dataset instead")
    p.add_argument(
        "--format",
        default="openai",
        help="openai (default), prompt_completion, alpaca, sharegpt, preference, parquet",
    )
    p.add_argument("--split")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--metadata", action="store_true", help="include each example's metadata")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "freeze", parents=[common], help="freeze a dataset's working copy as a version"
    )
    p.add_argument("--dataset", type=int, required=True)
    p.add_argument("--name", default="")
    p.add_argument("--notes", default="")
    p.add_argument("--force", action="store_true", help="freeze despite error-level findings")
    p.add_argument("--reason", default="", help="why, when forcing")
    p.set_defaults(func=cmd_freeze)

    p = sub.add_parser("train", parents=[common], help="start a training run on a frozen version")
    p.add_argument("--version", type=int, dest="version", required=True)
    p.add_argument("--base-model", help="default: the bundled base model")
    p.add_argument("--method", default="lora", help="lora (default), full, dpo, orpo")
    p.add_argument("--hyperparameters", help="JSON object, e.g. '{\"epochs\": 2}'")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="one hyperparameter (repeatable)"
    )
    p.add_argument("--wait", action="store_true", help="wait for the run to finish")
    p.add_argument("--timeout", type=float, help="seconds to wait at most")
    p.set_defaults(func=cmd_train)

    logs = sub.add_parser("logs", help="send captured LLM calls").add_subparsers(
        dest="logs_command", required=True, metavar="ACTION"
    )
    p = logs.add_parser("send", parents=[common], help="send a JSONL (or JSON array) file of logs")
    p.add_argument("file")
    p.add_argument(
        "--ingest-key", help="a team ingest key (default: FINETUNEDB_INGEST_KEY, else your token)"
    )
    p.add_argument("--team", type=int, help="with a personal token: the team")
    p.add_argument(
        "--batch-size", type=int, default=LOG_BATCH, choices=range(1, LOG_BATCH + 1), metavar="N"
    )
    p.add_argument(
        "--skip-invalid", action="store_true", help="store the valid logs, report the rest"
    )
    p.set_defaults(func=cmd_logs_send)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"finetunedb: {exc}", file=sys.stderr)
        return USAGE
    except JobFailed as exc:
        print(f"finetunedb: {exc}", file=sys.stderr)
        return JOB_FAILED
    except JobTimeout as exc:
        print(f"finetunedb: still running: {exc}", file=sys.stderr)
        return TIMED_OUT
    except (AuthenticationError, PermissionDenied) as exc:
        print(f"finetunedb: {exc}", file=sys.stderr)
        return AUTH
    except ConnectionFailed as exc:
        print(f"finetunedb: {exc}", file=sys.stderr)
        return UNREACHABLE
    except FinetuneDBError as exc:
        print(f"finetunedb: {exc}", file=sys.stderr)
        if args.json and exc.body is not None:
            json.dump({"status": exc.status, "error": exc.body}, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        return API_ERROR
    except KeyboardInterrupt:
        return INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
