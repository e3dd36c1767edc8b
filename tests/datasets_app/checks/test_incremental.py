"""An incremental report equals the full one: random edit sequences (add, change, move to another
source format, remove) applied to a kept :class:`ReportState` give exactly what
:func:`build_report` gives over the same examples, after every step."""

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings, ExampleInput, build_report
from datasets_app.checks.incremental import report_state_build
from tests.datasets_app.checks.strategies import examples

SETTINGS = [
    CheckSettings(),
    # small thresholds, so the dataset rules (size, style drift, shared prefix) fire on a few
    CheckSettings(
        min_examples_error=2,
        min_examples_warning=5,
        style_min_answers=2,
        style_minority_share=0.5,
        prefix_min_chars=5,
        prefix_min_share=0.5,
    ),
    CheckSettings(target_context_tokens=40, disabled_rules=frozenset({"exact_duplicates"})),
]
FORMATS = ["openai", "alpaca", "sharegpt", None]

# One edit: (key, index into the pool of contents or None to remove, source format).
edits = st.tuples(
    st.integers(0, 11), st.one_of(st.none(), st.integers(0, 5)), st.sampled_from(FORMATS)
)


def _full(live: dict, check_settings, encoding):
    items = [ExampleInput(k, content, fmt) for k, (_, content, fmt) in sorted(live.items())]
    return build_report(items, check_settings, encoding=encoding)


def _same(incremental, full) -> None:
    assert incremental == full
    assert list(incremental.example_findings) == list(full.example_findings)
    assert list(incremental.token_counts) == list(full.token_counts)
    assert incremental.as_dict() == full.as_dict()


@settings(max_examples=120, deadline=None)
@given(
    pool=st.lists(examples, min_size=6, max_size=6),
    start=st.lists(edits, max_size=10),
    steps=st.lists(st.lists(edits, min_size=1, max_size=3), min_size=1, max_size=5),
    settings_index=st.integers(0, len(SETTINGS) - 1),
)
def test_it_gives_exactly_the_full_report_after_every_edit(
    cl100k, pool, start, steps, settings_index
):
    check_settings = SETTINGS[settings_index]
    live: dict = {}
    version = 0

    def apply(batch) -> None:
        nonlocal version
        for key, index, fmt in batch:
            if index is None:
                live.pop(key, None)
            else:
                version += 1  # the stamp: a new revision per edit, as the service's
                live[key] = ((version, fmt), pool[index], fmt)

    apply(start)
    state = report_state_build(
        (((stamp), ExampleInput(k, c, f)) for k, (stamp, c, f) in sorted(live.items())),
        check_settings,
        encoding=cl100k,
    )
    _same(state.report(), _full(live, check_settings, cl100k))
    for batch in steps:
        apply(batch)
        changed, gone = state.stale({k: stamp for k, (stamp, _, _) in live.items()})
        assert set(changed) <= {k for k, *_ in batch} and set(gone) <= {k for k, *_ in batch}
        state.update(
            ((live[k][0], ExampleInput(k, live[k][1], live[k][2])) for k in changed),
            gone=gone,
            encoding=cl100k,
        )
        _same(state.report(), _full(live, check_settings, cl100k))


_questions = st.sampled_from(
    [
        "What is the capital of France?",
        "What is the capital of France? Please answer.",
        "Explain how the water cycle carries rain from the clouds to the sea and back again",
        "Explain how the water cycle carries rain from the clouds to the sea and back",
    ]
)
_answers = st.sampled_from(["Paris.", "It is Paris, on the Seine.", "I do not know.", ""])
pairs = st.builds(
    lambda q, chosen, rejected: {
        "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": chosen}],
        "metadata": {"rejected": [{"role": "assistant", "content": rejected}]},
    },
    _questions,
    _answers,
    _answers,
)
pair_edits = st.tuples(
    st.integers(0, 11),
    st.one_of(st.none(), st.integers(0, 5)),
    st.sampled_from(["train", "validation", "test", "unassigned"]),
)


@settings(max_examples=60, deadline=None)
@given(
    pool=st.lists(st.one_of(pairs, pairs, examples), min_size=6, max_size=6),
    steps=st.lists(st.lists(pair_edits, min_size=1, max_size=4), min_size=1, max_size=5),
)
def test_it_gives_the_full_report_on_pairs_whose_splits_move(cl100k, pool, steps):
    # A split move is no new revision (the stamp stays): the pair rules read the splits of now.
    check_settings = CheckSettings(min_examples_error=1, min_examples_warning=2)
    live: dict = {}
    splits: dict = {}
    state = report_state_build((), check_settings, encoding=cl100k)
    for batch in steps:
        for key, index, split in batch:
            if index is None:
                live.pop(key, None)
                splits.pop(key, None)
            elif live.get(key, (None, None))[1] is pool[index]:
                splits[key] = split
            else:
                live[key] = ((key, index), pool[index])
                splits[key] = split
        changed, gone = state.stale({k: stamp for k, (stamp, _) in live.items()})
        state.update(
            ((live[k][0], ExampleInput(k, live[k][1])) for k in changed), gone=gone, encoding=cl100k
        )
        items = [ExampleInput(k, content) for k, (_, content) in sorted(live.items())]
        _same(
            state.report(splits),
            build_report(items, check_settings, encoding=cl100k, splits=splits),
        )


def test_it_rescans_only_what_changed(cl100k):
    chat = {
        "messages": [
            {"role": "user", "content": "What is two plus two?"},
            {"role": "assistant", "content": "Two plus two is four."},
        ]
    }
    stamps = {k: (k, 1) for k in range(50)}
    state = report_state_build(
        ((stamps[k], ExampleInput(k, chat, "openai")) for k in stamps),
        CheckSettings(),
        encoding=cl100k,
    )
    assert "exact_duplicates" in {f.rule_id for f in state.report().dataset_findings}
    stamps[7] = (7, 2)
    del stamps[9]
    changed, gone = state.stale(stamps)
    assert (changed, gone) == ([7], [9])
    edited = {"messages": [chat["messages"][0], {"role": "assistant", "content": "Four."}]}
    assert (
        state.update([(stamps[7], ExampleInput(7, edited, "openai"))], gone=gone, encoding=cl100k)
        == 1
    )
    report = state.report()
    duplicates = next(f for f in report.dataset_findings if f.rule_id == "exact_duplicates")
    assert 7 not in duplicates.example_keys and 9 not in duplicates.example_keys
    assert len(report.token_counts) == 49
