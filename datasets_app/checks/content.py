"""Content rules over message texts: emptiness, whitespace, characters, placeholders, case,
URLs and personal data, secrets.

Speed: the texts of one example are joined once and screened with substring tests and byte
translations (C speed); a detector's regex runs on a single message only when the screen says
it may fire. Real data rarely trips a screen, so most examples never reach a regex.
"""

from __future__ import annotations

import unicodedata

from datasets_app.checks import patterns as p
from datasets_app.checks.catalog import finding


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
            _check_case(text, path, settings, out)
    blob = "\n".join(t for _, _, t in texts)
    detectors = _screen(blob)
    if detectors:
        for path, _, text in texts:
            if text and not text.isspace():
                for detector in detectors:
                    detector(text, path, out)


def _screen(blob: str) -> list:
    detectors = []
    if p.CONTROL.search(blob):
        detectors.append(_check_control)
    if not blob.isascii() and (
        p.INVALID_UNICODE.search(blob) or not unicodedata.is_normalized("NFC", blob)
    ):
        detectors.append(_check_unicode)
    if (
        "{" in blob
        or ("<" in blob and "put" in blob)
        or ("[" in blob and p.BRACKET_WORDS.search(blob))
    ):
        detectors.append(_check_placeholders)
    if "://" in blob or "www." in blob:
        detectors.append(_check_url)
    if "@" in blob:
        detectors.append(_check_email)
    if p.may_contain_phone(blob):
        detectors.append(_check_phone)
    if p.may_contain_secret(blob):
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
        if match is None and not p.CODE_HINT.search(text):
            match = p.SINGLE_BRACE.search(text)
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


def _check_case(text: str, path: str, settings, out: list) -> None:
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
    found = p.find_secret(text)
    if found:
        kind, value = found
        out.append(
            finding(
                "contains_secret",
                f"Contains what looks like a secret ({kind}).",
                path,
                details={"kind": kind, "masked": p.mask(value)},
            )
        )


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
