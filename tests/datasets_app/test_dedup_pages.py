"""The duplicates, splits and contamination pages."""

import pytest

from datasets_app.models import Dataset, DuplicateCluster, Example
from datasets_app.services.dedup import dedup_job_create, dedup_job_run


def chat(user, assistant="Sure."):
    return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]


LONG = (
    "Please summarize, in plain words and for readers of the monthly newsletter who could not "
    "attend, the minutes of the meeting where the council discussed cycling lanes "
    "along the river and the renovation of the library and the winter road budget in detail"
)


@pytest.fixture
def pair(dataset, owner, make_example):
    a = make_example(dataset, owner, chat(LONG))
    b = make_example(dataset, owner, chat(LONG.replace("winter", "<b>summer</b>")))
    make_example(dataset, owner, chat("Something else entirely, unrelated to the rest."))
    job = dedup_job_create(user=owner, dataset=dataset, method="near", threshold=0.7)
    dedup_job_run(job_id=job.pk)
    return a, b


def test_it_shows_cluster_members_side_by_side_with_escaped_differences(
    client, owner, dataset, pair
):
    client.force_login(owner)
    response = client.get(f"/datasets/{dataset.pk}/duplicates/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="cluster-member"') == 2
    assert "<del>winter</del>" in html
    assert "<ins>&lt;b&gt;summer&lt;/b&gt;</ins>" in html
    assert "<b>summer</b>" not in html
    assert "Keep the best of each cluster" in html
    assert "style=" not in html and "<script>" not in html


def test_it_keeps_one_member_from_the_page(client, owner, dataset, pair):
    a, b = pair
    cluster = DuplicateCluster.objects.get(dataset=dataset)
    client.force_login(owner)
    response = client.post(
        f"/datasets/{dataset.pk}/duplicates/resolve/",
        {"action": "keep", "cluster": cluster.pk, "keep": b.pk},
        follow=True,
    )
    assert "archived 1" in response.content.decode()
    assert Example.objects.get(pk=a.pk).status == "archived"
    assert Example.objects.get(pk=b.pk).status == "draft"


def test_it_starts_a_search_from_the_page(
    client, owner, dataset, pair, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/datasets/{dataset.pk}/duplicates/run/",
            {"method": "exact", "threshold": "0.8", "fields": "conversation"},
            follow=True,
        )
    assert "Duplicate search started." in response.content.decode()
    assert dataset.dedup_jobs.first().status == "succeeded"


def test_it_hides_the_actions_from_an_annotator(client, teammate, dataset, pair):
    client.force_login(teammate)
    html = client.get(f"/datasets/{dataset.pk}/duplicates/").content.decode()
    assert "Keep this one" not in html
    cluster = DuplicateCluster.objects.get(dataset=dataset)
    response = client.post(
        f"/datasets/{dataset.pk}/duplicates/resolve/",
        {"action": "keep_best", "clusters": "all"},
    )
    assert response.status_code == 403
    assert DuplicateCluster.objects.filter(pk=cluster.pk).exists()


def test_it_splits_from_the_form_and_shows_no_leakage(
    client, owner, dataset, pair, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/datasets/{dataset.pk}/split/",
            {"preset": "80/20", "seed": "5", "group_near_duplicates": "on", "keep_existing": "on"},
        )
    # At once the job's page; once the worker split, it leads to the split page with the result.
    assert response.status_code == 302 and response["Location"].startswith("/actions/")
    done = client.get(response["Location"])
    assert done.status_code == 302 and "?job=" in done["Location"]
    response = client.get(done["Location"])
    assert response.status_code == 200, response.content
    html = response.content.decode()
    assert 'value="5"' in html  # the form as it was sent
    assert "Split done" in html
    assert '<strong id="leak-count">0</strong>' in html
    a, b = pair
    assert Example.objects.get(pk=a.pk).split == Example.objects.get(pk=b.pk).split != "unassigned"
    assert set(Example.objects.values_list("split", flat=True)) <= {"train", "validation"}


def test_it_shows_leakage_when_duplicates_straddle_splits(client, owner, dataset, pair):
    a, b = pair
    Example.objects.filter(pk=a.pk).update(split="train")
    Example.objects.filter(pk=b.pk).update(split="test")
    client.force_login(owner)
    html = client.get(f"/datasets/{dataset.pk}/split/").content.decode()
    assert '<strong id="leak-count">1</strong>' in html


def test_it_rejects_custom_ratios_that_do_not_add_up(client, owner, dataset, pair):
    client.force_login(owner)
    response = client.post(
        f"/datasets/{dataset.pk}/split/",
        {"preset": "custom", "ratio_train": "70", "ratio_test": "20", "seed": "0"},
    )
    assert response.status_code == 400
    assert "sum to 1" in response.content.decode()
    assert set(Example.objects.values_list("split", flat=True)) == {"unassigned"}


def test_it_lists_contamination_with_a_dataset_of_the_team(
    client, owner, team, dataset, pair, make_example
):
    evals = Dataset.objects.create(team=team, name="evals", created_by=owner)
    hit = make_example(evals, owner, chat(LONG))
    client.force_login(owner)
    html = client.get(
        f"/datasets/{dataset.pk}/contamination/", {"against": evals.pk}
    ).content.decode()
    assert "overlap" in html and f"#{hit.pk}" in html
    assert "exact" in html and "near" in html


def test_it_answers_404_for_another_teams_dataset_on_the_page(
    client, owner, dataset, other_dataset
):
    client.force_login(owner)
    response = client.get(f"/datasets/{dataset.pk}/contamination/", {"against": other_dataset.pk})
    assert response.status_code == 404


def test_it_links_the_new_pages_from_the_dataset_page(client, owner, dataset):
    client.force_login(owner)
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    for page in ("duplicates", "split", "contamination"):
        assert f"/datasets/{dataset.pk}/{page}/" in html
