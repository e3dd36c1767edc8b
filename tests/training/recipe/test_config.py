import pytest
from hypothesis import given
from hypothesis import strategies as st

from training.recipe.config import BUNDLED_BASE_MODEL, ConfigError, TrainConfig


def test_it_round_trips_the_defaults():
    config = TrainConfig.from_dict(TrainConfig.defaults())
    assert config == TrainConfig()
    assert config.base_model == BUNDLED_BASE_MODEL
    assert config.overlength == "drop"


def test_it_documents_every_field():
    helps = TrainConfig.help_texts()
    assert set(helps) == set(TrainConfig.defaults())
    assert all(len(text) > 10 for text in helps.values())


def test_it_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="unknown config field.*epoch_count"):
        TrainConfig.from_dict({"epoch_count": 3})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 0, "epochs: 0 is out of range, allowed 1–20"),
        ("epochs", 10**9, "epochs: 1000000000 is out of range, allowed 1–20"),
        ("learning_rate", 0, r"learning_rate: 0.0 is out of range, allowed \(0.0, 1.0\]"),
        ("learning_rate", 2.0, "learning_rate"),
        ("lora_r", 512, "lora_r: 512 is out of range, allowed 1–128"),
        ("max_seq_len", 8, "max_seq_len: 8 is out of range, allowed 16–32768"),
        ("batch_size", 2000, "batch_size: 2000 is out of range, allowed 1–256"),
        ("method", "qlora", "method: 'qlora' is not one of lora, full"),
        ("overlength", "ignore", "overlength"),
        ("epochs", True, "epochs: expected an integer"),
        ("epochs", 2.5, "epochs: expected an integer"),
        ("learning_rate", float("nan"), "learning_rate: expected a number"),
        ("packing", "yes", "packing: expected true or false"),
        ("lora_target_modules", [], "lora_target_modules"),
        ("lora_target_modules", ["q_proj; rm -rf"], "lora_target_modules"),
        ("base_model", "", "base_model"),
    ],
)
def test_it_names_the_field_and_range_of_a_bad_value(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({field: value})


@pytest.mark.parametrize(
    ("field", "high"),
    [
        ("max_seq_len", 32768),
        ("batch_size", 256),
        ("gradient_accumulation_steps", 256),
        ("epochs", 20),
        ("max_steps", 100_000),
        ("warmup_steps", 100_000),
        ("lora_r", 128),
        ("eval_interval", 100_000),
        ("checkpoint_interval", 100_000),
        ("eval_max_records", 10_000),
    ],
)
def test_it_holds_each_size_bound_to_what_a_worker_can_hold(field, high):
    """The bound itself is accepted, one past it is refused naming the field and the range (the
    reported launch used max_seq_len 131072, batch 1024, accumulation 1024, 100 epochs)."""
    assert TrainConfig.from_dict({field: high}).to_dict()[field] == high
    with pytest.raises(
        ConfigError, match=f"^{field}: {high + 1} is out of range, allowed .*–{high}$"
    ):
        TrainConfig.from_dict({field: high + 1})


def test_it_refuses_merged_weights_for_full_fine_tuning():
    with pytest.raises(ConfigError, match="merge_weights: full fine-tuning already saves"):
        TrainConfig.from_dict({"method": "full", "merge_weights": True})
    assert TrainConfig.from_dict({"merge_weights": True}).merge_weights is True
    assert TrainConfig().merge_weights is False


def test_it_accepts_target_modules_as_a_comma_list():
    config = TrainConfig.from_dict({"lora_target_modules": "q_proj, v_proj"})
    assert config.lora_target_modules == ("q_proj", "v_proj")
    assert TrainConfig.from_dict(config.to_dict()) == config


@given(st.integers(min_value=-1000, max_value=1000))
def test_it_accepts_epochs_exactly_within_bounds(epochs):
    if 1 <= epochs <= 20:
        assert TrainConfig.from_dict({"epochs": epochs}).epochs == epochs
    else:
        with pytest.raises(ConfigError, match="epochs"):
            TrainConfig.from_dict({"epochs": epochs})


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2))
def test_it_accepts_lora_dropout_exactly_within_bounds(dropout):
    if 0 <= dropout <= 0.5:
        assert TrainConfig.from_dict({"lora_dropout": dropout}).lora_dropout == dropout
    else:
        with pytest.raises(ConfigError, match="lora_dropout"):
            TrainConfig.from_dict({"lora_dropout": dropout})
