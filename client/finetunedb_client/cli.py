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
import json
import os
import sys

from . import __version__
from .cli_commands import (
    UsageError,
    cmd_datasets_create,
    cmd_datasets_list,
    cmd_export,
    cmd_freeze,
    cmd_import,
    cmd_login,
    cmd_logout,
    cmd_logs_send,
    cmd_train,
    cmd_whoami,
)
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
  4  not logged in, a wrong password, a bad or revoked token, or a role too low
  5  the server could not be reached
  6  --timeout passed while waiting (the job goes on)
"""
LOG_BATCH = 1000


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
        if exc.code == "authentication_failed":  # a wrong username or password: 400, not 401
            return AUTH
        if args.json and exc.body is not None:
            json.dump({"status": exc.status, "error": exc.body}, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        return API_ERROR
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # `finetunedb … --json | head`: the reader left; say nothing more (no traceback).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
