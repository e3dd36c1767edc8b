"""The whitespace fix preview shows the whitespace, so before and after differ visibly
(issue 16.10f)."""

import re

import pytest


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def _preview(logged_in, dataset, django_capture_on_commit_callbacks, fix):
    with django_capture_on_commit_callbacks(execute=True):
        queued = logged_in.get(f"/datasets/{dataset.pk}/checks/fixes/?fix={fix}")
    return logged_in.get(queued["Location"], follow=True).content.decode()


def _cells(html, css):
    return re.findall(rf'<pre class="{css}">(.*?)</pre>', html, re.S)


def test_trimmed_whitespace_is_visible_and_highlighted(
    logged_in, dataset, owner, make_example, django_capture_on_commit_callbacks
):
    make_example(
        dataset,
        owner,
        [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "  Paris\t\n"},
        ],
    )
    html = _preview(logged_in, dataset, django_capture_on_commit_callbacks, "trim_whitespace")
    [before], [after] = _cells(html, "fix-before"), _cells(html, "fix-after")
    assert before != after
    assert re.sub(r"<[^>]+>", "", before) == "··Paris→↵\n"
    assert re.sub(r"<[^>]+>", "", after) == "Paris"
    assert before.count('<mark class="ws-changed">') == 2  # the leading and the trailing run
    assert "ws-changed" not in after
    assert "(space)" in html and "(tab)" in html


def test_user_text_in_the_preview_stays_escaped(
    logged_in, dataset, owner, make_example, django_capture_on_commit_callbacks
):
    make_example(
        dataset,
        owner,
        [
            {"role": "user", "content": "Say hi"},
            {"role": "assistant", "content": "<img src=x onerror=alert(1)> hi "},
        ],
    )
    html = _preview(logged_in, dataset, django_capture_on_commit_callbacks, "trim_whitespace")
    assert "<img src=x" not in html and "&lt;img" in html
