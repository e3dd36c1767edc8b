from datasets_app.checks import CheckSettings, check_dataset, summarize_example
from datasets_app.checks.consistency import similarity


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
