"""How often the secret and cut-off rules fire on real data, against the rule they replaced.

Input 1: every file in ../shared/data read with ``datasets_app.formats.iter_rows`` (Alpaca,
ShareGPT with tool calls, codegen, gsm8k, self-instruct, preference rows; ~16,000 examples), each
checked with ``check_example``. Input 2 (``--code-mb``, default 1000; 0 skips it): Python source
under the running interpreter's site-packages, file by file in sorted order up to that many MB
(this project's environment holds ~240 MB) —
code full of ``password``/``token``/``api_key`` names, test fixtures and docs, and no real keys
that anyone would call a leak (the few hits are printed so a reader can judge them).

Baseline: the keyword matcher ``contains_secret`` used before issue 16.4 (kept below, verbatim
in behaviour: five prefixes, then any ``key|secret|token|password`` followed by ``:``/``=`` and
16+ characters of mixed case or digits at 3.5 bits per character), on the same texts.

Figures: secret errors on the real data (target 0: none of it holds a credential), secret hits
on the code corpus, and looks_truncated per file with the last words of every hit (the rule's
precision is read by eye from them).
"""

from __future__ import annotations

import argparse
import glob
import math
import re
import site
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets_app.checks import CheckSettings, check_example  # noqa: E402
from datasets_app.checks.secrets import find_secrets  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RULES = ("contains_secret", "possible_secret", "looks_truncated")

# --- the matcher issue 16.4 replaced (the baseline) ---------------------------------------------
_OLD_PREFIXES = (
    re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,200}"),
    re.compile(r"-----BEGIN (?:[A-Z]{1,10} )?PRIVATE KEY-----"),
)
_OLD_GENERIC = re.compile(
    r"(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|passw(?:or)?d)"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?([a-z0-9_\-/+=.]{16,200})"
)


def _old_entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def old_secret(text: str) -> bool:
    if any(p.search(text) for p in _OLD_PREFIXES):
        return True
    lower = text.lower()
    for match in _OLD_GENERIC.finditer(lower):
        value = text[match.start(1) : match.end(1)] if len(lower) == len(text) else match.group(1)
        classes = sum(
            (
                any(c.isdigit() for c in value),
                any(c.islower() for c in value),
                any(c.isupper() for c in value),
            )
        )
        if classes >= 2 and _old_entropy(value) >= 3.5:
            return True
    return False


# -------------------------------------------------------------------------------------------------


def real_data() -> None:
    counts: Counter = Counter()
    old_errors = new_errors = examples = 0
    cut: list[tuple[str, int, str, str]] = []
    secrets: list[tuple[str, int, str]] = []
    from datasets_app.formats import ParsedRow, iter_rows

    for name in sorted(glob.glob(str(DATA / "*" / "*.json*"))):
        short = name.split("/data/", 1)[1]
        with open(name, "rb") as handle:
            for line, row in enumerate(iter_rows(handle), 1):
                if type(row) is not ParsedRow:
                    continue
                examples += 1
                texts = [m.get("content") for m in row.content["messages"]]
                old_errors += any(isinstance(t, str) and old_secret(t) for t in texts)
                findings = check_example(row.content, CheckSettings())
                new_errors += any(f.rule_id == "contains_secret" for f in findings)
                for f in findings:
                    if f.rule_id in RULES:
                        counts[f.rule_id, short] += 1
                    if f.rule_id == "looks_truncated":
                        cut.append((short, line, f.details["reason"], f.details["tail"]))
                    elif f.rule_id in RULES:
                        secrets.append((short, line, f.message))
    print(f"real data: {examples} examples from {DATA}")
    for (rule, short), n in sorted(counts.items()):
        print(f"  {rule:16} {n:4}  {short}")
    for short, line, message in secrets:
        print(f"  secret  {short}:{line}  {message}")
    for short, line, reason, tail in cut:
        print(f"  cut     {short}:{line}  {reason:16} {tail!r}")
    # examples with an error-level secret finding (they block a freeze)
    print(
        f"BENCH secret_errors_real_data value={new_errors} baseline={old_errors} target=0 "
        f"pass={'yes' if new_errors == 0 else 'no'}"
    )
    truncated = sum(n for (rule, _), n in counts.items() if rule == "looks_truncated")
    print(f"BENCH looks_truncated_real_data value={truncated} examples={examples}")


def code_corpus(megabytes: float) -> None:
    roots = [p for p in site.getsitepackages() if Path(p).is_dir()]
    files = sorted(f for root in roots for f in glob.glob(f"{root}/**/*.py", recursive=True))
    budget = int(megabytes * 1e6)
    new_files = new_errors = old = read = 0
    hits = []
    for path in files:
        if read >= budget:
            break
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        read += len(text)
        found = find_secrets(text)
        new_files += bool(found)
        new_errors += any(m.rule_id == "contains_secret" for m in found)
        old += old_secret(text)
        hits += [(path, m.kind, m.rule_id) for m in found]
    print(f"code corpus: {read / 1e6:.1f} MB of Python under {', '.join(roots)}")
    for path, kind, rule in hits:
        print(f"  {rule:16} {kind:28} {path}")
    # files flagged at all (the baseline had one rule, an error); then files with an error
    print(f"BENCH secret_files_code_corpus value={new_files} baseline={old} mb={read / 1e6:.1f}")
    print(f"BENCH secret_error_files_code_corpus value={new_errors} baseline={old}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code-mb", type=float, default=1000)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"no data at {DATA}")
    real_data()
    if args.code_mb:
        code_corpus(args.code_mb)


if __name__ == "__main__":
    main()
