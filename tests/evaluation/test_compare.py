import pytest

from evaluation.models import EvalResult, EvalRun
from evaluation.services.items import suite_items

pytestmark = pytest.mark.django_db


def scored(final: bool, fmt: bool = True) -> dict:
    return {
        "format": {"value": float(fmt), "passed": fmt, "detail": {}},
        "final_number": {"value": float(final), "passed": final, "detail": {}},
    }


def run_with(suite, passes: list[bool], label: str):
    run = EvalRun.objects.create(
        suite=suite, base_model=label, status="succeeded", total=5, processed=5
    )
    for position, (item, ok) in enumerate(zip(suite_items(suite), passes, strict=True)):
        EvalResult.objects.create(
            run=run,
            entry_id=item.entry_id,
            position=position,
            reference=item.reference,
            output=f"{label} answer {position}",
            scores=scored(ok),
        )
    return run


def test_it_compares_two_runs_item_by_item(api_for, owner, suite):
    old = run_with(suite, [True, True, False, False, True], "base")
    new = run_with(suite, [True, False, True, True, True], "tuned")
    report = api_for(owner).get(f"/api/v1/eval-runs/{new.pk}/compare/?against={old.pk}").json()
    assert report["items"] == 5
    assert {k: report["evaluators"]["final_number"][k] for k in ("wins", "losses", "ties")} == {
        "wins": 2,
        "losses": 1,
        "ties": 2,
    }
    assert report["evaluators"]["format"]["ties"] == 5
    diff = report["evaluators"]["final_number"]["difference"]
    assert diff["mean"] == pytest.approx(0.2) and diff["ci_low"] <= 0.2 <= diff["ci_high"]
    assert report["regression_count"] == 1
    (regression,) = report["regressions"]
    assert regression["position"] == 1 and regression["evaluators"] == ["final_number"]
    assert (regression["output"], regression["against_output"]) == (
        "tuned answer 1",
        "base answer 1",
    )
    assert regression["reference"].endswith("#### 29")


def test_it_compares_only_runs_of_one_suite(api_for, owner, suite, make_suite):
    other = make_suite(name="other")
    a = run_with(suite, [True] * 5, "a")
    b = run_with(other, [True] * 5, "b")
    client = api_for(owner)
    response = client.get(f"/api/v1/eval-runs/{a.pk}/compare/?against={b.pk}")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "against"
    assert client.get(f"/api/v1/eval-runs/{a.pk}/compare/?against={a.pk}").status_code == 400
    assert client.get(f"/api/v1/eval-runs/{a.pk}/compare/").status_code == 400
    assert client.get(f"/api/v1/eval-runs/{a.pk}/compare/?against=x").status_code == 400
    assert client.get(f"/api/v1/eval-runs/{a.pk}/compare/?against=999999").status_code == 404
