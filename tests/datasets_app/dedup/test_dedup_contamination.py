from datasets_app.dedup.contamination import Overlap, contamination
from datasets_app.dedup.text import example_text


def test_it_finds_exact_and_near_overlaps_across_formats(alpaca_rows, chat_rows):
    train = {f"a{i}": example_text(m) for i, m in enumerate(alpaca_rows)}
    evals = {f"c{i}": example_text(m) for i, m in enumerate(chat_rows)}
    found = contamination(train, evals)
    by_pair = {(o.a_key, o.b_key): o for o in found}
    assert by_pair[("a0", "c0")] == Overlap("a0", "c0", "exact", 1.0)
    assert by_pair[("a3", "c0")].kind == "exact"
    assert by_pair[("a2", "c1")].kind == "near"
    assert not any(o.b_key == "c3" for o in found)


def test_it_never_compares_a_data_set_with_itself(alpaca_rows):
    train = {f"a{i}": example_text(m) for i, m in enumerate(alpaca_rows)}
    evals = {"e0": "nothing in common with the training rows at all"}
    assert contamination(train, evals) == []
    # a0 and a3 are duplicates of each other, but both on side A
    assert {o.a_key for o in contamination(train, {"e": train["a0"]})} == {"a0", "a3"}
