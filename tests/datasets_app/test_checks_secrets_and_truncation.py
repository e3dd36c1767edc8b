"""What a curator sees of the secret and cut-off rules: the checks page lists them with the
catalog's title, why and fix; the finding shows the masked value, never the value; a real key
blocks a freeze, a random-looking password literal or a cut-off answer only warns."""

import random
import string

import pytest

from datasets_app.models import CheckResult
from datasets_app.services.versions import dataset_version_freeze
from finetunedb.exceptions import ConflictError

rnd = random.Random(7)
TOKEN = "ghp_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))
PASSWORD = "Tq7#mZ2vLp9x"
CUT = (
    "Serial killers have fascinated criminologists for more than a century. Researchers "
    "study their childhoods and methods. Serial kil"
)


def fill(dataset, owner, make_example, capture, special):
    with capture(execute=True):
        for i in range(10):
            make_example(
                dataset,
                owner,
                messages=[
                    {"role": "user", "content": f"What is {i} plus {i}?"},
                    {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
                ],
            )
        for answer in special:
            make_example(
                dataset,
                owner,
                messages=[
                    {"role": "user", "content": "Show me the deployment config."},
                    {"role": "assistant", "content": answer},
                ],
            )


@pytest.fixture
def warned(dataset, owner, make_example, django_capture_on_commit_callbacks):
    fill(
        dataset,
        owner,
        make_example,
        django_capture_on_commit_callbacks,
        [f'Set it in settings.py:\n\nDB_PASSWORD = "{PASSWORD}"\n\nThen restart.', CUT],
    )
    return dataset


def test_it_lists_the_new_rules_on_the_checks_page_with_masked_values(warned, owner, client):
    client.force_login(owner)
    page = client.get(f"/datasets/{warned.pk}/checks/").content.decode()
    assert "Possible secret: a random-looking value assigned to a secret name" in page
    assert "Answer looks cut off" in page
    assert f"/datasets/{warned.pk}/?rule=possible_secret" in page
    assert f"/datasets/{warned.pk}/?rule=looks_truncated" in page
    assert PASSWORD not in page


def test_it_shows_what_matched_and_why_on_the_example(warned, owner, client):
    secret = CheckResult.objects.get(dataset=warned, rule_id="possible_secret")
    cut = CheckResult.objects.get(dataset=warned, rule_id="looks_truncated")
    assert (secret.severity, cut.severity) == ("warning", "warning")
    client.force_login(owner)
    page = client.get(f"/examples/{secret.example_id}/").content.decode()
    assert "A high-entropy literal is assigned to `DB_PASSWORD` (Tq7… (12 chars)" in page
    assert "bits per character" in page  # (the page shows the text itself: it is the editor)
    assert PASSWORD not in secret.message and PASSWORD not in str(secret.details)
    page = client.get(f"/examples/{cut.example_id}/").content.decode()
    assert "The answer looks cut off: it stops mid-word" in page and "Serial kil" in page


def test_it_freezes_past_warnings_but_not_past_a_real_key(
    warned, other_dataset, outsider, make_example, django_capture_on_commit_callbacks, owner
):
    version = dataset_version_freeze(user=owner, dataset=warned)
    assert version.number == 1
    fill(
        other_dataset,
        outsider,
        make_example,
        django_capture_on_commit_callbacks,
        [f"Use this token: {TOKEN}"],
    )
    with pytest.raises(ConflictError) as info:
        dataset_version_freeze(user=outsider, dataset=other_dataset)
    assert [b["rule_id"] for b in info.value.extra["blockers"]] == ["contains_secret"]
