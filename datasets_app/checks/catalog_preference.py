"""The preference-pair rules of the catalog (see :mod:`datasets_app.checks.preference`)."""

from __future__ import annotations

from datasets_app.checks.registry import Rule, Scope, Severity

E, W = Severity.ERROR, Severity.WARNING

PREFERENCE_RULES = [
    Rule(
        "preference_identical",
        E,
        "Chosen and rejected are identical",
        "DPO and ORPO learn from the difference between the two answers; with none the pair "
        "only adds noise to the loss.",
        "Edit one side, or drop the pair.",
    ),
    Rule(
        "preference_identical_after_truncation",
        E,
        "Identical once cut at the training length",
        "Trainers cut each side at the configured length; when the prompt and the shared start "
        "fill it, both sides become the same sequence and the pair teaches nothing.",
        "Shorten the prompt, raise the target context length, or drop the pair.",
    ),
    Rule(
        "preference_empty_side",
        E,
        "Chosen or rejected answer empty",
        "An empty side has no log-probability to compare; the pair rewards or punishes silence.",
        "Write the missing answer, or drop the pair.",
    ),
    Rule(
        "preference_prompts_differ",
        E,
        "The two sides answer different prompts",
        "A preference compares two answers to one prompt; answers to different prompts say "
        "nothing about which answer is better.",
        "Give the rejected side the same conversation, or only its answer.",
    ),
    Rule(
        "preference_roles_not_alternating",
        E,
        "Roles do not alternate in the pair",
        "Chat templates expect user and assistant turns in turn, the prompt ending with the "
        "user and each side starting with the assistant; otherwise the answer tokens are "
        "rendered where the model never answers.",
        "Merge consecutive turns of one role, or move misplaced turns.",
    ),
    Rule(
        "preference_shared_prefix",
        Severity.WARNING,
        "Both sides start with the same turns",
        "In a multi-turn pair the turns both sides share belong to the prompt; left in the "
        "answers, DPO scores them on both sides and the margin is diluted.",
        "Move the shared turns into the prompt so that the sides start where they differ.",
    ),
    Rule(
        "preference_length_bias",
        W,
        "Chosen answers are systematically longer",
        "When the chosen side is longer in most pairs, DPO learns to prefer length (a known "
        "failure: verbose models) rather than quality.",
        "Add pairs where the shorter answer wins, or balance the lengths.",
        Scope.DATASET,
    ),
    Rule(
        "preference_duplicate_pairs",
        W,
        "Duplicate preference pairs",
        "A repeated pair is weighed again each time and may leak between splits.",
        "Run deduplication and keep one of each group.",
        Scope.DATASET,
    ),
    Rule(
        "preference_prompt_leakage",
        W,
        "Preference prompts shared across splits",
        "A validation or test pair whose prompt (or a near copy of it) is also trained on "
        "measures memory: its reward accuracy overstates what the model learned.",
        "Split again with near duplicates grouped, or move one of each pair into the same split.",
        Scope.DATASET,
    ),
]
