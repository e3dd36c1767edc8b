"""Content rules over message texts: emptiness, whitespace, characters, placeholders, case,
URLs and personal data, secrets.

Speed: the texts of one example are joined once and screened with substring tests and byte
translations (C speed); a detector's regex runs on a single message only when the screen says
it may fire. Real data rarely trips a screen, so most examples never reach a regex.
"""

from __future__ import annotations

import re
import unicodedata

from datasets_app.checks import patterns as p
from datasets_app.checks.catalog import finding
from datasets_app.checks.screens import byte_classes, has_c0_control, may_contain_phone_classes
from datasets_app.checks.secrets import SecretMatch, find_secrets, mask_secret, may_contain_secret
from datasets_app.checks.truncation import truncation_message, truncation_reason

_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")


def check_texts(texts: list[tuple[str, str, str]], settings, out: list) -> None:
    """Append findings for ``(path, role, text)`` triples of one example."""
    for path, role, text in texts:
        if not text or text.isspace():
            if role == "system":
                out.append(finding("empty_system_message", "The system message is empty.", path))
            else:
                out.append(
                    finding(
                        "empty_content", f"The {role} message is empty or whitespace only.", path
                    )
                )
            continue
        if text[0].isspace() or text[-1].isspace():
            out.append(
                finding("surrounding_whitespace", "The text starts or ends with whitespace.", path)
            )
        if len(text) >= settings.uppercase_min_letters:
            check_case(text, path, settings, out)
    blob = "\n".join(t for _, _, t in texts)
    detectors = screen_detectors(blob)
    if detectors:
        for path, _, text in texts:
            if text and not text.isspace():
                for detector in detectors:
                    detector(text, path, out)


def screen_detectors(blob: str, classes: bytes | None = None) -> list:
    """The detectors worth running on the texts joined as ``blob`` (its byte classes optional).

    Most screens scan the UTF-8 bytes: single-byte tests run at memchr speed there, and every
    needle is ASCII, so a needle is in the bytes exactly when it is in the text.
    """
    data = blob.encode("utf-8", "surrogatepass")
    if classes is None:
        classes = byte_classes(data)
    detectors = []
    if blob.isascii():
        if has_c0_control(classes):  # C1 controls are not ASCII
            detectors.append(_check_control)
    else:
        # C1 controls are U+0080..U+009F: C2 80..C2 9F in UTF-8
        if has_c0_control(classes) or (b"\xc2" in data and _C1_UTF8.search(data)):
            detectors.append(_check_control)
        # every INVALID_UNICODE character starts with E1, E2, EF, or ED (surrogates) in UTF-8
        if (
            (b"\xe2" in data or b"\xef" in data or b"\xe1" in data or b"\xed" in data)
            and p.INVALID_UNICODE.search(blob)
        ) or not unicodedata.is_normalized("NFC", blob):
            detectors.append(_check_unicode)
    if (
        b"{" in data
        or (b"<" in data and p.ANGLE_PLACEHOLDER.search(blob) is not None)
        or (b"[" in data and p.BRACKET_WORDS.search(blob))
    ):
        detectors.append(_check_placeholders)
    if b"://" in data or b"www." in data:
        detectors.append(_check_url)
    if b"@" in data:
        detectors.append(_check_email)
    if may_contain_phone_classes(classes):
        detectors.append(_check_phone)
    if may_contain_secret(blob, classes, data):
        detectors.append(_check_secrets)
    return detectors


def _check_control(text: str, path: str, out: list) -> None:
    if p.CONTROL.search(text):
        out.append(finding("control_characters", "The text contains control characters.", path))


def _check_unicode(text: str, path: str, out: list) -> None:
    if text.isascii():
        return
    bad = p.INVALID_UNICODE.search(text)
    if bad:
        out.append(
            finding(
                "invalid_unicode",
                f"The text contains U+{ord(bad.group()):04X} (invalid or invisible).",
                path,
            )
        )
    if not unicodedata.is_normalized("NFC", text):
        out.append(finding("unicode_not_normalized", "The text is not in Unicode NFC form.", path))


def _check_placeholders(text: str, path: str, out: list) -> None:
    match = None
    if "{" in text:
        match = p.MUSTACHE.search(text) if "{{" in text else None
        if match is None:
            # code hints rule single braces out; most texts with "{" have no single brace to rule
            single = p.SINGLE_BRACE.search(text)
            if single is not None and not p.CODE_HINT.search(text):
                match = single
    if match is None and "<" in text:
        match = p.ANGLE_PLACEHOLDER.search(text)
    if match is None and "[" in text:
        match = p.BRACKET_PLACEHOLDER.search(text)
    if match is not None:
        out.append(
            finding(
                "unfilled_placeholder",
                f"Unfilled placeholder {match.group()!r}.",
                path,
                details={"placeholder": match.group()},
            )
        )


def check_case(text: str, path: str, settings, out: list) -> None:
    data = text.encode("utf-8", "surrogatepass")
    upper = len(data) - len(data.translate(None, p.UPPER_ASCII))
    if (
        upper * 3 < settings.uppercase_min_letters
    ):  # cannot pass the share test: skip the second count
        return
    letters = upper + len(data) - len(data.translate(None, p.LOWER_ASCII))
    if (
        letters >= settings.uppercase_min_letters
        and upper > settings.uppercase_max_share * letters
        and not p.CODE_HINT.search(text)
    ):
        out.append(
            finding("mostly_uppercase", f"{upper} of {letters} letters are upper-case.", path)
        )


def _check_url(text: str, path: str, out: list) -> None:
    url = p.find_url(text)
    if url:
        out.append(finding("contains_url", f"Contains a URL ({url[:80]}).", path))


def _check_email(text: str, path: str, out: list) -> None:
    match = p.EMAIL.search(text) if "@" in text else None
    if match:
        out.append(
            finding(
                "contains_email",
                "Contains an email address.",
                path,
                details={"masked": p.mask(match.group())},
            )
        )


def _check_phone(text: str, path: str, out: list) -> None:
    match = p.PHONE.search(text) if p.may_contain_phone(text) else None
    if match:
        out.append(
            finding(
                "contains_phone",
                "Contains a phone number.",
                path,
                details={"masked": p.mask(match.group())},
            )
        )


def _check_secrets(text: str, path: str, out: list) -> None:
    """One finding per rule and message: the first known format (an error), the first
    high-entropy literal assignment (a warning); each says how many more the message holds."""
    matches = find_secrets(text)
    for rule_id in ("contains_secret", "possible_secret"):
        of_rule = [m for m in matches if m.rule_id == rule_id]
        if of_rule:
            out.append(_secret_finding(of_rule[0], len(of_rule), path))


def _secret_finding(match: SecretMatch, count: int, path: str):
    masked = mask_secret(match.value)
    if match.rule_id == "contains_secret":
        message = f"Contains a {match.kind} ({masked})."
        reason = f"matches the {match.kind} format"
    elif match.name == "Bearer":
        message = f"A high-entropy bearer token ({masked}, {match.entropy:.1f} bits per character)."
        reason = "high-entropy bearer token"
    else:
        message = (
            f"A high-entropy literal is assigned to `{match.name}` "
            f"({masked}, {match.entropy:.1f} bits per character)."
        )
        reason = f"high-entropy literal assigned to `{match.name}`"
    if count > 1:
        message += f" {count - 1} more in this message."
    details = {"kind": match.kind, "masked": masked, "length": len(match.value), "reason": reason}
    if match.name is not None:
        details["name"] = match.name
    if match.entropy is not None:
        details["entropy"] = round(match.entropy, 2)
    if count > 1:
        details["count"] = count
    return finding(match.rule_id, message, path, details=details)


# The detector of each rule a detector reports, for callers that screen texts themselves.
DETECTORS = {
    "control_characters": _check_control,
    "unfilled_placeholder": _check_placeholders,
    "contains_url": _check_url,
    "contains_email": _check_email,
    "contains_phone": _check_phone,
    "contains_secret": _check_secrets,
    "possible_secret": _check_secrets,
}


def check_answer(text: str, path: str, settings, out: list) -> None:
    """Rules on an assistant answer beyond the text rules: placeholder answers, length."""
    stripped = text.strip()
    if not stripped:
        return
    if stripped.casefold() in p.PLACEHOLDER_ANSWERS:
        out.append(finding("placeholder_answer", f"The answer is just {stripped!r}.", path))
    elif len(stripped) < settings.min_answer_chars:
        out.append(
            finding("short_answer", f"The answer has only {len(stripped)} characters.", path)
        )


def check_final_answer(text: str, path: str, out: list) -> None:
    """Rules on the last assistant answer only: does it look cut off?"""
    found = truncation_reason(text)
    if found:
        reason, tail = found
        out.append(
            finding(
                "looks_truncated",
                truncation_message(reason, tail),
                path,
                details={"reason": reason, "tail": tail},
            )
        )
