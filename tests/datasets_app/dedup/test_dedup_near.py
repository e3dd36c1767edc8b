import random
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.dedup.near import DuplicatePair, near_duplicate_pairs
from datasets_app.dedup.text import example_text, jaccard, normalize_text, shingles


def _brute_force(texts, threshold):
    sets = {k: shingles(normalize_text(t)) for k, t in texts.items()}
    return {
        (a, b) for a, b in combinations(sorted(texts), 2) if jaccard(sets[a], sets[b]) >= threshold
    }


def _family_corpus(seed=2, families=30, variants=4):
    # distinct random documents, each with variants at a few edit rates around the threshold
    rng = random.Random(seed)
    texts = {}
    for f in range(families):
        words = [f"w{rng.randrange(2000)}" for _ in range(rng.randrange(20, 120))]
        texts[f"f{f:02d}"] = " ".join(words)
        for v in range(variants):
            edited = list(words)
            for _ in range(rng.choice([1, 2, 3, 5])):
                edited.insert(rng.randrange(len(edited)), f"x{rng.randrange(10**6)}")
            texts[f"f{f:02d}v{v}"] = " ".join(edited)
    return texts


def test_it_finds_every_pair_a_brute_force_finds():
    texts = _family_corpus()
    found = near_duplicate_pairs(texts, threshold=0.8)
    truth = _brute_force(texts, 0.8)
    assert len(truth) > 30
    assert {(p.a, p.b) for p in found} == truth


def test_it_reports_exact_jaccard_sorted_with_a_before_b():
    texts = _family_corpus(seed=4, families=10)
    found = near_duplicate_pairs(texts, threshold=0.7)
    assert found == sorted(found)
    for pair in found:
        assert pair.a < pair.b
        expected = jaccard(shingles(texts[pair.a]), shingles(texts[pair.b]))
        assert pair.similarity == expected >= 0.7


def test_it_pairs_identical_texts_and_short_texts(alpaca_rows, chat_rows):
    texts = {f"a{i}": example_text(m) for i, m in enumerate(alpaca_rows)}
    texts |= {f"c{i}": example_text(m) for i, m in enumerate(chat_rows)}
    texts |= {"s1": "Hi there", "s2": "hi   THERE", "s3": "hi there you"}
    pairs = {(p.a, p.b): p.similarity for p in near_duplicate_pairs(texts)}
    assert pairs[("a0", "a3")] == pairs[("a0", "c0")] == pairs[("s1", "s2")] == 1.0
    assert ("s1", "s3") not in pairs
    # a system message in front of the same exchange keeps it a near duplicate
    assert 0.8 <= pairs[("a2", "c1")] < 1.0


@given(
    st.lists(st.text(alphabet="ab c\n", min_size=0, max_size=60), min_size=0, max_size=25),
    st.floats(0.5, 1.0),
)
@settings(max_examples=60, deadline=None)
def test_it_never_reports_a_pair_below_the_threshold(texts, threshold):
    keyed = dict(enumerate(texts))
    for pair in near_duplicate_pairs(keyed, threshold=threshold):
        a, b = normalize_text(keyed[pair.a]), normalize_text(keyed[pair.b])
        assert jaccard(shingles(a), shingles(b)) >= threshold
        assert isinstance(pair, DuplicatePair)


def test_it_is_deterministic_whatever_the_order_of_the_input():
    texts = _family_corpus(seed=9, families=8)
    reversed_texts = dict(reversed(list(texts.items())))
    assert near_duplicate_pairs(texts) == near_duplicate_pairs(reversed_texts)
