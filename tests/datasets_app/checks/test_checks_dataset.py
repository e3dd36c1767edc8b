from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings, check_dataset, summarize_example
from datasets_app.checks.consistency import check_prefix, check_style_drift, similarity
from datasets_app.checks.dataset import _check_conflicts


def ex(prompt, answer, system=None):
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def summaries(contents, formats=None):
    return [
        summarize_example(i, c, source_format=(formats or {}).get(i))
        for i, c in enumerate(contents)
    ]


def by_rule(contents, settings=None, formats=None):
    return {
        f.rule_id: f
        for f in check_dataset(summaries(contents, formats), settings or CheckSettings())
    }


def varied(n, system="You are helpful."):
    return [
        ex(
            f"Question number {i} about topic {i * 7}?",
            f"Answer {i} explains topic {i * 7} clearly.",
            system,
        )
        for i in range(n)
    ]


def test_it_grades_dataset_size():
    assert "too_few_examples" in by_rule(varied(9))
    assert "few_examples" in by_rule(varied(50))
    found = by_rule(varied(100))
    assert "too_few_examples" not in found and "few_examples" not in found


def test_it_counts_exact_duplicates_and_names_them():
    contents = varied(20) + [varied(20)[3], varied(20)[3], varied(20)[5]]
    found = by_rule(contents)["exact_duplicates"]
    assert found.details["groups"] == 2 and found.details["extra_copies"] == 3
    assert set(found.example_keys) == {3, 20, 21, 5, 22}


def test_it_finds_identical_prompts_with_different_answers():
    contents = varied(20) + [
        ex("Question number 1 about topic 7?", "A different answer.", "You are helpful.")
    ]
    found = by_rule(contents)["conflicting_answers"]
    assert set(found.example_keys) == {1, 20}


def test_it_flags_all_identical_prompts_or_answers():
    assert "all_prompts_identical" in by_rule([ex("Same?", f"Answer {i}.") for i in range(12)])
    assert "all_answers_identical" in by_rule([ex(f"Q {i}?", "Same.") for i in range(12)])


def test_it_calls_out_near_identical_system_prompts_with_counts():
    contents = (
        varied(30, "You are a helpful assistant.")
        + varied(3, "You are a helpfull assistant.")
        + varied(2, "Reply only in JSON with keys a and b.")
    )
    found = by_rule(contents)
    assert found["system_prompt_variants"].details["variants"] == 3
    near = found["near_identical_system_prompts"]
    assert near.details["variant_count"] == 3 and near.details["common_count"] == 30
    assert set(near.example_keys) == {30, 31, 32}


def test_it_measures_word_similarity():
    assert similarity("You are a helpful assistant.", "you are a helpful assistant") == 1.0
    assert similarity("Be brief.", "Translate to German and never use emoji.") < 0.5


def test_it_finds_a_long_prefix_repeated_in_almost_every_example():
    instruction = "Below is an instruction that describes a task. Write a response that completes the request.\n\n"
    contents = [ex(instruction + f"Task {i}: do thing {i}.", f"Done {i}.") for i in range(19)] + [
        ex("Something else entirely?", "Yes.")
    ]
    found = by_rule(contents)["repeated_prompt_prefix"]
    assert found.details["prefix"].startswith("Below is an instruction")
    assert found.details["prefix"].rstrip().endswith(("request.", "Task"))
    assert len(found.example_keys) == 19


def test_it_ignores_short_shared_openings():
    contents = [ex(f"What is {i} plus {i}?", f"It is {2 * i}.") for i in range(20)]
    assert "repeated_prompt_prefix" not in by_rule(contents)


def test_it_flags_the_minority_style_with_counts():
    contents = [ex(f"Q{i}?", f"This is answer number {i}.") for i in range(18)]
    contents += [
        ex("Q18?", "This answer has no full stop"),
        ex("Q19?", "## Heading\n- a markdown list"),
    ]
    contents += [ex("Q20?", '{"this": "is json"}')]
    found = by_rule(contents)
    ending = found["answer_ending_drift"]
    assert set(ending.example_keys) == {18, 19}
    assert ending.details["minority"] == 2 and ending.details["majority"] == 18
    assert set(found["answer_markdown_drift"].example_keys) == {19}
    assert set(found["answer_json_drift"].example_keys) == {20}


def test_it_does_not_call_an_even_split_drift():
    contents = [ex(f"Q{i}?", f"Answer number {i} here" + ("." if i % 2 else "")) for i in range(20)]
    assert "answer_ending_drift" not in by_rule(contents)


def test_it_reports_missing_system_and_user_messages():
    contents = varied(18) + [ex("Q?", "An answer here.")]
    contents.append(
        {
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "assistant", "content": "Unprompted."},
            ]
        }
    )
    found = by_rule(contents)
    assert found["missing_system_message"].example_keys == (18,)
    assert found["missing_user_message"].example_keys == (19,)


def test_it_reports_mixed_source_formats_naming_the_minority():
    found = by_rule(varied(20), formats={i: "alpaca" if i < 17 else "sharegpt" for i in range(20)})
    assert found["mixed_source_formats"].details["counts"] == {"alpaca": 17, "sharegpt": 3}
    assert set(found["mixed_source_formats"].example_keys) == {17, 18, 19}


def prefix_length_before(texts, check_settings):
    """The prefix search as first written (no early stop): the shared length it settles on."""
    needed = check_settings.prefix_min_share * len(texts)
    group, length, step = texts, 0, check_settings.prefix_min_chars
    while step >= 1:
        candidate = length + step
        best = Counter(t[:candidate] for t in group if len(t) >= candidate).most_common(1)
        if best and best[0][1] >= needed:
            group = [t for t in group if t.startswith(best[0][0])]
            length, step = candidate, step * 2
        else:
            step //= 2
    return length


openings = st.lists(
    st.sampled_from(
        ["Translate this sentence into French please: ", "Translate ", "Sum: ", "x"]
    ).flatmap(lambda head: st.text(alphabet="ab ", max_size=30).map(lambda tail: head + tail)),
    min_size=10,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(openings, st.sampled_from([0.5, 0.9]))
def test_it_stops_the_prefix_search_early_only_when_no_long_prefix_is_shared(firsts, share):
    check_settings = CheckSettings(prefix_min_share=share, prefix_min_chars=12)
    contents = [ex(first, "An answer that is long enough.") for first in firsts]
    out = []
    check_prefix(summaries(contents), check_settings, out)
    if prefix_length_before(firsts, check_settings) < 12:
        assert out == []
    for f in out:
        assert f.details["count"] <= sum(1 for t in firsts if t.startswith(f.details["prefix"]))
        assert f.details["count"] >= share * len(firsts)


def conflicts_before(records):
    answers = defaultdict(lambda: defaultdict(list))
    for s in records:
        if s.prompt_hash is not None:
            answers[s.prompt_hash][s.answer_hash].append(s.key)
    return [[k for ks in c.values() for k in ks] for c in answers.values() if len(c) > 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xyz")), max_size=20))
def test_it_groups_conflicting_answers_as_the_nested_grouping_did(pairs):
    records = summaries([ex(f"Prompt {p}?", f"Answer {a}.") for p, a in pairs])
    out = []
    _check_conflicts(records, out)
    found = [f for f in out if f.rule_id == "conflicting_answers"]
    expected = conflicts_before(records)
    assert (found[0].details["members"] if found else []) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=20))
def test_it_lists_duplicate_groups_in_order_of_first_appearance(answers):
    contents = [ex("Same prompt?", f"Answer {a}.") for a in answers]
    groups = defaultdict(list)
    for i, a in enumerate(answers):
        groups[a].append(i)
    expected = [keys for keys in groups.values() if len(keys) > 1]
    found = by_rule(contents, CheckSettings(min_examples_error=0)).get("exact_duplicates")
    assert (found.details["members"] if found else []) == expected


def drift_before(records, check_settings):
    """Style drift as first written: (rule, minority keys) per drifting feature."""
    out = []
    for feature, rule in [
        ("terminal_punctuation", "answer_ending_drift"),
        ("markdown", "answer_markdown_drift"),
        ("json", "answer_json_drift"),
        ("trailing_newline", "answer_trailing_newline_drift"),
    ]:
        values = [(s.key, getattr(s.answer_style, feature)) for s in records if s.answer_style]
        values = [(k, v) for k, v in values if v is not None]
        yes = [k for k, v in values if v]
        no = [k for k, v in values if not v]
        minority = yes if len(yes) <= len(no) else no
        if len(values) >= check_settings.style_min_answers and minority:
            if len(minority) <= check_settings.style_minority_share * len(values):
                out.append((rule, tuple(minority)))
    return out


answers = st.sampled_from(
    [
        "Plain answer here.",
        "Plain answer here",
        "**Bold** answer.",
        '{"a": 1}',
        "Ends in newline.\n",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(answers, max_size=30))
def test_it_finds_style_drift_as_the_per_feature_lists_did(texts):
    records = summaries([ex(f"Question {i}?", text) for i, text in enumerate(texts)])
    check_settings = CheckSettings(style_min_answers=3)
    out = []
    check_style_drift(records, check_settings, out)
    assert [(f.rule_id, f.example_keys) for f in out] == drift_before(records, check_settings)
