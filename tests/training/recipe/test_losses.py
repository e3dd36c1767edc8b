"""Packing must not let attention cross examples: a packed row gives the loss of its parts."""

import pytest
import torch

from training.recipe.base_models import load_model
from training.recipe.batching import collate
from training.recipe.data import encode
from training.recipe.losses import batch_loss, evaluate_rows


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return load_model(str(tiny_model_dir)).eval()


@pytest.fixture(scope="module")
def three(records, tokenizer):
    return [encode(r, tokenizer, index=i) for i, r in enumerate(records[:3])]


@torch.no_grad()
def test_it_gives_a_packed_row_the_loss_of_its_examples_unpacked(model, three, tokenizer):
    pad = tokenizer.pad_token_id
    packed_loss, packed_n, _ = batch_loss(model, collate([three], pad))
    parts = [batch_loss(model, collate([[e]], pad)) for e in three]
    assert packed_n == sum(n for _, n, _ in parts)
    assert float(packed_loss) == pytest.approx(sum(float(loss) for loss, _, _ in parts), rel=1e-5)
    padded_loss, padded_n, _ = batch_loss(model, collate([[e] for e in three], pad))
    assert padded_n == packed_n
    assert float(padded_loss) == pytest.approx(float(packed_loss), rel=1e-5)


@torch.no_grad()
def test_it_would_see_a_different_loss_if_attention_crossed_examples(model, three, tokenizer):
    batch = collate([three], tokenizer.pad_token_id)
    leaky = dict(batch, position_ids=torch.arange(batch["input_ids"].shape[1]).unsqueeze(0))
    assert float(batch_loss(model, leaky)[0]) != pytest.approx(
        float(batch_loss(model, batch)[0]), rel=1e-4
    )


def test_it_evaluates_mean_loss_and_accuracy_over_trained_tokens(model, three, tokenizer):
    result = evaluate_rows(model, [[e] for e in three], pad_id=tokenizer.pad_token_id, batch_size=2)
    assert result["tokens"] == sum(e.trained_tokens for e in three)
    assert 0 <= result["token_accuracy"] <= 1
    assert result["loss"] > 0


def test_it_projects_only_trained_tokens_with_the_same_loss_and_gradients(
    tiny_model_dir, three, tokenizer, monkeypatch
):
    """The chunked head path (each row's own trained positions, recomputed in backward) and the
    model's own head give the same loss, count, accuracy and gradients, across chunk edges."""
    from training.recipe import losses

    batch = collate([[three[0], three[1]], [three[2]]], tokenizer.pad_token_id)
    monkeypatch.setattr(losses, "CHUNK_TOKENS", 7)  # several chunks, one of them ragged
    results = {}
    for path in ("chunked", "logits"):
        model = load_model(str(tiny_model_dir)).train()
        assert losses._plain_head(model) is not None
        if path == "logits":
            monkeypatch.setattr(losses, "_plain_head", lambda m: None)
        loss, n, correct = batch_loss(model, batch)
        loss.backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
        results[path] = (float(loss), n, correct, grads)
    (loss_c, n_c, ok_c, g_c), (loss_l, n_l, ok_l, g_l) = results["chunked"], results["logits"]
    assert n_c == n_l == sum(e.trained_tokens for e in three)
    assert ok_c == ok_l and loss_c == pytest.approx(loss_l, rel=1e-5)
    assert g_c.keys() == g_l.keys() and g_c
    for name, grad in g_c.items():
        torch.testing.assert_close(grad, g_l[name], atol=1e-5, rtol=1e-3)  # summation order
