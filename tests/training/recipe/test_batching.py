import torch
from hypothesis import given
from hypothesis import strategies as st

from training.recipe.batching import collate, epoch_batches, pack, shard, steps_per_epoch
from training.recipe.data import IGNORE, Encoded


def ex(ids, labels, index=0):
    return Encoded(index=index, input_ids=list(ids), labels=list(labels))


def test_it_collates_the_docstring_example():
    a = ex([5, 6, 7], [IGNORE, 6, 7])
    b = ex([8, 9], [IGNORE, 9])
    c = ex([3, 4], [IGNORE, 4])
    batch = collate([[a, b], [c]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9], [3, 4, 0, 0, 0]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 1, 0, 1, 2]]
    assert batch["targets"].tolist() == [
        [6, 7, IGNORE, 9, IGNORE],
        [4, IGNORE, IGNORE, IGNORE, IGNORE],
    ]


@given(
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=60),
    st.integers(min_value=64, max_value=200),
)
def test_it_packs_every_example_once_within_the_length(lengths, max_len):
    examples = [ex(range(n), [IGNORE] * n, index=i) for i, n in enumerate(lengths)]
    rows = pack(examples, max_len)
    assert sorted(e.index for row in rows for e in row) == list(range(len(lengths)))
    assert all(sum(len(e.input_ids) for e in row) <= max_len for row in rows)
    # best fit never leaves two rows that could have been one
    sizes = sorted(sum(len(e.input_ids) for e in row) for row in rows)
    assert len(sizes) < 2 or sizes[0] + sizes[1] > max_len


def test_it_orders_batches_by_seed_and_epoch_only():
    rows = [[ex([i, i], [IGNORE, i], index=i)] for i in range(10)]
    first = epoch_batches(rows, batch_size=3, seed=1, epoch=0)
    assert [len(b) for b in first] == [3, 3, 3, 1]
    assert epoch_batches(rows, batch_size=3, seed=1, epoch=0) == first
    assert epoch_batches(rows, batch_size=3, seed=1, epoch=1) != first


def test_it_shards_batches_evenly_across_processes():
    batches = list(range(5))
    assert shard(batches, rank=0, world_size=2) == [0, 2, 4]
    assert shard(batches, rank=1, world_size=2) == [1, 3, 0]
    assert steps_per_epoch(10, batch_size=2, grad_accum=2, world_size=2) == 2


def test_it_never_lets_padding_change_a_real_token_target():
    batch = collate([[ex([1, 2, 3], [IGNORE, 2, 3])], [ex([4], [IGNORE])]], pad_id=0)
    assert torch.equal(batch["targets"][1], torch.full((3,), IGNORE))
