"""Issue 20's correctness check against a reference implementation: the recipe's DPO (sigmoid,
IPO, label smoothing) and ORPO losses and reward metrics equal TRL's on fixed log-probabilities.

TRL's own code runs here, not a copy of it:

- DPO: ``trl.trainer.dpo_trainer.DPOTrainer._compute_loss`` (TRL 1.16), called unbound on a
  stand-in ``self`` that holds what ``DPOTrainer.__init__`` would set, and a stand-in model that
  returns the fixed per-token log-probabilities (reference log-probabilities precomputed, as
  with ``precompute_ref_log_probs``). Its losses and its logged ``rewards/*`` metrics are read.
- ORPO: ``trl.experimental.orpo.ORPOTrainer.odds_ratio_loss``, which needs only ``beta`` and a
  device; TRL's full loss is ``nll - odds_ratio_loss(...).mean()`` (``get_batch_loss_metrics``).

TRL 1.16's ``sigmoid`` loss ignores ``label_smoothing`` (its ``label_smoothing`` now belongs to
``robust`` and ``exo_pair``); conservative DPO's smoothed form survives in its ``aot`` branch,
which sorts the batch's log-ratios first, so for one pair it is exactly cDPO. The smoothing
comparison therefore runs TRL's ``aot`` one pair at a time.
"""

from __future__ import annotations

import types
from collections import defaultdict

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from training.recipe.preference import dpo_loss, orpo_loss, reward_metrics

trl_dpo = pytest.importorskip("trl.trainer.dpo_trainer", reason="TRL (dev dependency)")
trl_orpo = pytest.importorskip("trl.experimental.orpo.orpo_trainer", reason="TRL (dev dependency)")

# Fixed summed log-probabilities of four pairs (policy chosen/rejected, reference chosen/rejected)
# and each side's trained-token count; the 2nd and 4th are ranked wrong, so accuracy is 1/2.
PC, PR = [-4.0, -7.5, -2.0, -12.0], [-6.0, -7.0, -9.0, -10.0]
RC, RR = [-5.0, -7.0, -3.0, -11.0], [-5.5, -7.2, -8.0, -12.5]
NC, NR = [3, 5, 2, 8], [4, 5, 6, 3]


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


class _StandInModel:
    """Answers DPOTrainer's ``model(..., labels=..., fused_lm_head=True)`` with fixed
    log-probabilities: each row's whole sum on its first trained position, zero elsewhere."""

    def __init__(self, sums: torch.Tensor):
        self.sums = sums

    def __call__(self, *, input_ids, labels, fused_lm_head, **kwargs):
        assert fused_lm_head
        trained = labels[:, 1:] != -100
        first = trained.int().argmax(dim=1)
        log_probs = torch.zeros(trained.shape, dtype=torch.float64)
        log_probs[torch.arange(len(first)), first] = self.sums
        zeros = torch.zeros_like(log_probs)
        return types.SimpleNamespace(
            log_probs=log_probs, entropy=zeros, mean_logits=zeros, is_top1=zeros.bool()
        )


def _trl_dpo(pc, pr, rc, rr, nc, nr, *, beta, loss_type, label_smoothing=0.0):
    """TRL's DPO loss (mean over the pairs) and its logged reward metrics."""
    n, width = len(pc), max(nc + nr) + 2
    counts = list(nc) + list(nr)
    completion_mask = torch.zeros((2 * n, width), dtype=torch.long)
    for row, count in enumerate(counts):  # a prompt token, then the trained tokens
        completion_mask[row, 1 : 1 + count] = 1
    inputs = {
        "input_ids": torch.zeros((2 * n, width), dtype=torch.long),
        "attention_mask": torch.ones((2 * n, width), dtype=torch.long),
        "completion_mask": completion_mask,
        "ref_chosen_logps": _t(rc),
        "ref_rejected_logps": _t(rr),
    }
    identity = lambda tensor: tensor  # noqa: E731 (one process: gathering changes nothing)
    trainer = types.SimpleNamespace(
        model=types.SimpleNamespace(training=True),
        accelerator=types.SimpleNamespace(
            device=torch.device("cpu"), gather=identity, gather_for_metrics=identity
        ),
        aux_loss_enabled=False,
        ld_alpha=None,
        precompute_ref_logps=True,
        f_divergence_type="reverse_kl",
        loss_types=[loss_type],
        loss_weights=[1.0],
        beta=beta,
        label_smoothing=label_smoothing,
        use_weighting=False,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _total_train_tokens=0,
        _tp_size=1,
    )
    model = _StandInModel(_t(list(pc) + list(pr)))
    loss = trl_dpo.DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    logged = {k: v[-1] for k, v in trainer._metrics["train"].items()}
    assert logged["logps/chosen"] == pytest.approx(sum(pc) / n)  # the stand-in was read right
    return float(loss), logged


def _ours_dpo(pc, pr, rc, rr, nc, nr, **kwargs):
    losses, chosen, rejected = dpo_loss(
        _t(pc), _t(pr), _t(rc), _t(rr), chosen_tokens=_t(nc), rejected_tokens=_t(nr), **kwargs
    )
    return float(losses.mean()), reward_metrics(chosen, rejected)


def _assert_same_rewards(ours: dict, trl: dict):
    assert ours["rewards_chosen"] == pytest.approx(trl["rewards/chosen"], rel=1e-12)
    assert ours["rewards_rejected"] == pytest.approx(trl["rewards/rejected"], rel=1e-12)
    assert ours["reward_margin"] == pytest.approx(trl["rewards/margins"], rel=1e-12)
    assert ours["reward_accuracy"] == trl["rewards/accuracies"]


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_it_computes_trls_dpo_loss_and_rewards(loss_type, beta):
    ours_loss, ours_rewards = _ours_dpo(PC, PR, RC, RR, NC, NR, beta=beta, loss_type=loss_type)
    trl_loss, trl_logged = _trl_dpo(PC, PR, RC, RR, NC, NR, beta=beta, loss_type=loss_type)
    assert ours_loss == pytest.approx(trl_loss, rel=1e-12)
    _assert_same_rewards(ours_rewards, trl_logged)
    assert ours_rewards["reward_accuracy"] == 0.5


@pytest.mark.parametrize("beta, smoothing", [(0.1, 0.1), (0.5, 0.25), (0.3, 0.45)])
def test_it_computes_conservative_dpo_like_trls_smoothed_form(beta, smoothing):
    for i in range(len(PC)):
        one = [PC[i]], [PR[i]], [RC[i]], [RR[i]], [NC[i]], [NR[i]]
        ours, _ = _ours_dpo(*one, beta=beta, label_smoothing=smoothing)
        trl, _ = _trl_dpo(*one, beta=beta, loss_type="aot", label_smoothing=smoothing)
        assert ours == pytest.approx(trl, rel=1e-12)
        unsmoothed, _ = _ours_dpo(*one, beta=beta)
        assert ours != pytest.approx(unsmoothed)  # the smoothing did something


logps = st.floats(min_value=-60.0, max_value=-0.01, allow_nan=False)
pairs = st.lists(st.tuples(logps, logps, logps, logps), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(pairs, st.sampled_from(["sigmoid", "ipo"]), st.floats(0.01, 5.0))
def test_it_agrees_with_trls_dpo_on_any_log_probabilities(rows, loss_type, beta):
    pc, pr, rc, rr = (list(column) for column in zip(*rows, strict=True))
    nc = [1 + (i * 3) % 7 for i in range(len(rows))]
    nr = [1 + (i * 5) % 4 for i in range(len(rows))]
    ours_loss, ours_rewards = _ours_dpo(pc, pr, rc, rr, nc, nr, beta=beta, loss_type=loss_type)
    trl_loss, trl_logged = _trl_dpo(pc, pr, rc, rr, nc, nr, beta=beta, loss_type=loss_type)
    assert ours_loss == pytest.approx(trl_loss, rel=1e-9, abs=1e-12)
    _assert_same_rewards(ours_rewards, trl_logged)


def _trl_orpo(chosen_mean, rejected_mean, *, beta):
    stand_in = types.SimpleNamespace(beta=beta, accelerator=types.SimpleNamespace(device="cpu"))
    return trl_orpo.ORPOTrainer.odds_ratio_loss(stand_in, chosen_mean, rejected_mean)


# per-token mean log-probabilities, down to a confident model's -1e-6 (where 1 - p cancels)
CHOSEN_MEAN = [-0.4, -1.2, -2.0, -1e-3, -1e-6, -7.0]
REJECTED_MEAN = [-0.9, -0.8, -3.0, -2e-3, -3e-6, -6.5]


@pytest.mark.parametrize("beta", [0.1, 0.25, 1.0])
def test_it_computes_trls_orpo_loss_and_rewards(beta):
    # float32, the dtype TRL computes the odds ratio in
    chosen = torch.tensor(CHOSEN_MEAN, dtype=torch.float32, requires_grad=True)
    rejected = torch.tensor(REJECTED_MEAN, dtype=torch.float32)
    nll = -chosen
    losses, rc, rr = orpo_loss(chosen, rejected, nll, beta=beta)
    trl_terms, trl_rc, trl_rr, _, _ = _trl_orpo(chosen, rejected, beta=beta)
    # per pair: ours = nll - beta * logsigmoid(log_odds); TRL's odds_ratio_loss = beta * logsigmoid
    torch.testing.assert_close(losses - nll, -trl_terms, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(rc, trl_rc)
    torch.testing.assert_close(rr, trl_rr)
    assert reward_metrics(rc, rr) == reward_metrics(trl_rc, trl_rr)
    # TRL's loss for the batch: nll - mean(odds_ratio_loss); ours averages the per-pair losses
    assert float(losses.mean()) == pytest.approx(float(nll.mean() - trl_terms.mean()), rel=1e-5)
    losses.sum().backward()
    assert torch.isfinite(chosen.grad).all()
