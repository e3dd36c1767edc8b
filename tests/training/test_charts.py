"""The run page's charts: nice axis ticks (property-tested), tick labels, and panels that draw
every point — the single evaluation of a short run included."""

import math
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from training.charts import chart_panel, nice_ticks, run_chart_panels, tick_label

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def _is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))


@given(finite, finite, st.integers(min_value=2, max_value=10))
def test_it_covers_the_range_with_few_evenly_spaced_nice_ticks(a, b, count):
    ticks = nice_ticks(a, b, count)
    lo, hi = min(a, b), max(a, b)
    assert ticks[0] <= lo + 1e-9 * max(1.0, abs(lo)) and ticks[-1] >= hi - 1e-9 * max(1.0, abs(hi))
    assert 2 <= len(ticks) <= count + 3
    steps = [y - x for x, y in zip(ticks, ticks[1:], strict=False)]
    assert all(s > 0 for s in steps)
    assert all(
        math.isclose(s, steps[0], rel_tol=1e-6, abs_tol=1e-9 * abs(ticks[-1])) for s in steps
    )
    assert _is_nice(steps[0])


def test_it_picks_the_ticks_people_expect():
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(2.31, 2.87) == [2.2, 2.4, 2.6, 2.8, 3.0]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]  # no 0.6000000000000001
    one = nice_ticks(3.5, 3.5)
    assert one[0] < 3.5 < one[-1]


def test_it_labels_ticks_with_the_decimals_their_step_needs():
    assert tick_label(2.4, 0.2) == "2.4"
    assert tick_label(12000, 2000) == "12,000"
    assert tick_label(0.00015, 5e-5) == "1.5e-04"
    assert tick_label(0, 5e-5) == "0"


def test_it_draws_a_single_evaluation_as_a_marker_with_its_value():
    panel = chart_panel(
        "Loss",
        [
            {"name": "train", "label": "train loss", "points": [(1, 3.2), (2, 2.9), (3, 2.7)]},
            {"name": "eval", "label": "eval loss", "points": [(3, 2.81234)]},
        ],
        x_max=3,
    )
    evals = next(line for line in panel["lines"] if line["name"] == "eval")
    assert len(evals["markers"]) == 1
    assert evals["markers"][0]["label"] == "step 3: eval loss 2.812"
    # Inside the plot frame.
    frame = panel["frame"]
    marker = evals["markers"][0]
    assert frame["x"] <= marker["x"] <= frame["x"] + frame["width"]
    assert frame["y"] <= marker["y"] <= frame["y"] + frame["height"]
    # Steps are whole numbers on the x axis: 0, 1, 2, 3.
    assert [t["label"] for t in panel["x_ticks"]] == ["0", "1", "2", "3"]
    assert panel["y_ticks"][0]["label"] == "2.6" and panel["y_ticks"][-1]["label"] == "3.2"
    assert panel["last"] == {"train loss": "2.7", "eval loss": "2.812"}


def test_it_says_when_a_panel_has_nothing_yet():
    run = SimpleNamespace(metrics=[], evals=[], total_steps=10)
    panels = run_chart_panels(run)
    assert [p["title"] for p in panels] == [
        "Loss",
        "Learning rate",
        "Tokens/s",
        "Peak memory (MB)",
    ]
    assert all(p["empty"] for p in panels)


def test_it_keeps_the_last_point_when_a_long_series_is_sampled():
    points = [(i, 1.0 / i) for i in range(1, 1001)]
    panel = chart_panel("Loss", [{"name": "train", "label": "loss", "points": points}], x_max=1000)
    markers = panel["lines"][0]["markers"]
    assert len(markers) <= 251 and markers[-1]["label"].startswith("step 1000:")
    assert len(panel["lines"][0]["points"].split()) == 1000  # the line keeps every point


def test_it_skips_values_that_are_not_finite_numbers():
    run = SimpleNamespace(
        metrics=[{"step": 1, "loss": None}, {"step": 2, "loss": 2.0}, {"step": 3, "loss": "x"}],
        evals=[],
        total_steps=3,
    )
    loss = run_chart_panels(run)[0]["lines"][0]
    assert len(loss["markers"]) == 1


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=5000), finite), min_size=0, max_size=60),
    st.integers(min_value=0, max_value=5000),
)
def test_it_keeps_every_marker_and_tick_inside_the_plot(points, total):
    x_max = max([total, *(x for x, _ in points), 1])
    panel = chart_panel("Loss", [{"name": "train", "label": "loss", "points": points}], x_max=x_max)
    frame = panel["frame"]
    left, right = frame["x"], frame["x"] + frame["width"]
    top, bottom = frame["y"], frame["y"] + frame["height"]
    for m in panel["lines"][0]["markers"]:
        assert left - 0.1 <= m["x"] <= right + 0.1 and top - 0.1 <= m["y"] <= bottom + 0.1
    assert all(left - 0.1 <= t["pos"] <= right + 0.1 for t in panel["x_ticks"])
    assert all(top - 0.1 <= t["pos"] <= bottom + 0.1 for t in panel["y_ticks"])
    assert panel["x_ticks"][0]["label"] == "0"


def test_it_draws_reward_panels_for_a_preference_run_only():
    metrics = [
        {"step": s, "loss": 0.7 - s / 10, "rewards_chosen": s / 10, "rewards_rejected": -s / 10,
         "reward_margin": s / 5, "reward_accuracy": min(1.0, s / 3)}
        for s in (1, 2, 3)
    ]  # fmt: skip
    evals = [{"step": 3, "eval_loss": 0.5, "eval_rewards_chosen": 0.2,
              "eval_rewards_rejected": -0.1, "eval_reward_margin": 0.3,
              "eval_reward_accuracy": 0.75}]  # fmt: skip
    run = SimpleNamespace(method="dpo", metrics=metrics, evals=evals, total_steps=3)
    panels = {p["title"]: p for p in run_chart_panels(run)}
    assert {"Rewards", "Reward margin", "Reward accuracy"} <= set(panels)
    rewards = {line["name"]: line for line in panels["Rewards"]["lines"]}
    assert [m["label"] for m in rewards["rejected"]["markers"]][-1] == (
        "step 3: rejected reward -0.3"
    )
    assert rewards["eval-chosen"]["markers"][0]["label"] == "step 3: eval chosen reward 0.2"
    assert panels["Reward accuracy"]["last"] == {"accuracy": "1", "eval accuracy": "0.75"}
    sft = SimpleNamespace(method="lora", metrics=metrics, evals=evals, total_steps=3)
    assert "Rewards" not in {p["title"] for p in run_chart_panels(sft)}
