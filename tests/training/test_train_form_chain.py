"""SFT → DPO from the train form (issue 20): ``start_from_model`` is a select of the team's
finished SFT models, checked at launch by the same service as the API (services/chain.py)."""

import pytest

from tests.training.test_preference_chain import pairs_version, quiet  # noqa: F401 - fixtures
from training.models import ModelArtifact, TrainingRun
from training.recipe.config import TrainConfig

pytestmark = pytest.mark.django_db


def model_of(version, base, *, method="lora", status="succeeded"):
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model=base,
        method=method,
        config={},
        status=status,
    )
    return ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")


def form_data(base, **extra):
    data = {
        k: v for k, v in {**TrainConfig.defaults(), "base_model": base}.items() if v is not False
    }
    data["lora_target_modules"] = ", ".join(TrainConfig.defaults()["lora_target_modules"])
    data.update(max_seq_len=64, batch_size=2, epochs=1, launch="1", **extra)
    return data


def test_it_offers_the_teams_finished_sft_models_and_launches_dpo_on_one(
    client,
    owner,
    version,
    pairs_version,  # noqa: F811
    training_settings,
    tiny_model_dir,
    quiet,  # noqa: F811
):
    base = str(tiny_model_dir)
    sft = model_of(version, base)
    dpo = model_of(pairs_version, base, method="dpo")
    failed = model_of(version, base, status="failed")

    client.force_login(owner)
    page = client.get(f"/versions/{pairs_version.pk}/train/").content.decode()
    assert f'<option value="{sft.pk}">model {sft.pk} — lora on {base}' in page
    for hidden in (dpo, failed):
        assert f'<option value="{hidden.pk}"' not in page

    launched = client.post(
        f"/versions/{pairs_version.pk}/train/",
        form_data(base, method="dpo", start_from_model=str(sft.pk)),
    )
    run = TrainingRun.objects.get(version=pairs_version, parent_model__isnull=False)
    assert launched.status_code == 302 and launched["Location"] == f"/runs/{run.pk}/"
    assert run.parent_model == sft and run.method == "dpo"


def test_it_refuses_a_start_model_for_sft_or_from_another_team_naming_the_field(
    client,
    owner,
    outsider,
    version,
    pairs_version,  # noqa: F811
    other_dataset,
    make_example,
    training_settings,
    tiny_model_dir,
    quiet,  # noqa: F811
):
    from datasets_app.services.versions import dataset_version_freeze
    from tests.training.conftest import chat

    base = str(tiny_model_dir)
    sft = model_of(version, base)
    make_example(other_dataset, outsider, chat(0), split="train")
    theirs = model_of(dataset_version_freeze(user=outsider, dataset=other_dataset, name="t"), base)
    client.force_login(owner)
    before = TrainingRun.objects.count()
    lora = client.post(
        f"/versions/{version.pk}/train/", form_data(base, start_from_model=str(sft.pk))
    )
    assert lora.status_code == 400
    assert "start_from_model applies to dpo and orpo" in lora.content.decode()
    other = client.post(
        f"/versions/{pairs_version.pk}/train/",
        form_data(base, method="dpo", start_from_model=str(theirs.pk)),
    )
    assert other.status_code == 400 and "Select a valid choice" in other.content.decode()
    assert TrainingRun.objects.count() == before
