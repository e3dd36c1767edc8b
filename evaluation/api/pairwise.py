"""The human blind pairwise review's API (DESIGN §8, extended): a review of a run against
another, its next item (blind: no run or model named), judgments, results, and saving the picks
as preference pairs.

| route | method | does |
|---|---|---|
| eval-runs/{id}/pairwise/ | GET, POST | the run's reviews; `{against, seed?}` → 201 (200: the existing one) |
| eval-runs/{id}/pairwise/{review}/ | GET | the review, the caller's progress, the results |
| …/{review}/next/ | GET | the caller's next item (held for them a few minutes); 204 when done |
| …/{review}/judgments/ | GET, POST | the win rate (as results/) and the caller's judgments; `{item, winner: a|b|tie}` or `{item, skip: true}` |
| …/{review}/results/ | GET | win rate with the Wilson interval (ties as half), per reviewer, agreement |
| …/{review}/save-preferences/ | POST | `{dataset}` → 201 `{created, skipped_duplicates, skipped_ties}` |
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import dataset_get_for_user
from finetunedb.teams.permissions import Action

from .. import selectors
from ..pairwise_selectors import (
    pairwise_item_blind,
    pairwise_judgments_of,
    pairwise_review_get_for_user,
    pairwise_reviews_for_run,
)
from ..services.pairwise import (
    pairwise_item_next,
    pairwise_judge,
    pairwise_progress,
    pairwise_results,
    pairwise_review_create,
    pairwise_skip,
)
from ..services.pairwise_preferences import pairwise_preferences_save

ID = {"min_value": 1, "max_value": 2**63 - 1}
WINNER_OR_SKIP = "send winner (a, b or tie) or skip: true"


class ReviewInputSerializer(serializers.Serializer):
    against = serializers.IntegerField(**ID, help_text="The eval run to compare with.")
    seed = serializers.IntegerField(
        required=False, min_value=0, max_value=2**62, help_text="Draws A/B per item; random."
    )


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    against = serializers.IntegerField(source="against_id")
    suite = serializers.IntegerField(source="run.suite_id")
    # No seed: with it and an item's position anyone could work out which run is shown as A.
    item_count = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()


class BlindItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Send it back as `item` with the judgment.")
    position = serializers.IntegerField()
    prompt = serializers.ListField(child=serializers.DictField())
    tools = serializers.ListField(child=serializers.DictField(), allow_null=True)
    answer_a = serializers.CharField()
    answer_b = serializers.CharField()
    progress = serializers.DictField()


class JudgmentInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(**ID)
    winner = serializers.ChoiceField(choices=["a", "b", "tie"], required=False)
    skip = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs.get("skip") == ("winner" in attrs):
            raise serializers.ValidationError({"winner": WINNER_OR_SKIP})
        return attrs


class JudgmentOutputSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    position = serializers.IntegerField(source="item.position")
    choice = serializers.CharField(help_text="As shown: a, b, tie or skipped.")
    winner = serializers.CharField(help_text="run, against, tie; empty when skipped.")
    seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()


class SavePreferencesInputSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(**ID, help_text="A dataset of the review's team.")


RESULT_FIELDS = {
    "wins": serializers.IntegerField(help_text="Judgments the review's run won."),
    "losses": serializers.IntegerField(),
    "ties": serializers.IntegerField(),
    "skipped": serializers.IntegerField(),
    "n": serializers.IntegerField(help_text="wins + losses + ties (skips left out)."),
    "win_rate": serializers.FloatField(
        allow_null=True, help_text="(wins + ties / 2) / n: ties count as half a win."
    ),
    "ci_low": serializers.FloatField(allow_null=True, help_text="Wilson score interval."),
    "ci_high": serializers.FloatField(allow_null=True),
    "confidence": serializers.FloatField(),
    "method": serializers.CharField(help_text="wilson"),
    "ties_rule": serializers.CharField(),
    "per_reviewer": serializers.ListField(child=serializers.DictField()),
    "agreement": serializers.DictField(
        help_text="items judged by 2+ reviewers; Krippendorff's alpha (nominal); Cohen's "
        "kappa per pair of reviewers."
    ),
    "items": serializers.IntegerField(),
    "items_judged": serializers.IntegerField(),
}
RESULTS = inline_serializer("PairwiseResults", RESULT_FIELDS)
JUDGMENTS_AND_RESULTS = inline_serializer(
    "PairwiseJudgmentsAndResults",
    {
        **RESULT_FIELDS,
        "judgments": JudgmentOutputSerializer(many=True, help_text="The caller's own."),
    },
)


def _review(request, eval_run_id, review_id, action=Action.READ):
    return pairwise_review_get_for_user(request.user, review_id, run_id=eval_run_id, action=action)


class PairwiseReviewListApi(APIView):
    @extend_schema(responses={200: ReviewOutputSerializer(many=True)})
    def get(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id)
        return Response(ReviewOutputSerializer(pairwise_reviews_for_run(run), many=True).data)

    @extend_schema(
        request=ReviewInputSerializer,
        responses={201: ReviewOutputSerializer, 200: ReviewOutputSerializer},
    )
    def post(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.CURATE)
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        against = selectors.eval_run_get_for_user(request.user, data.validated_data["against"])
        review, created = pairwise_review_create(
            user=request.user, run=run, against=against, seed=data.validated_data.get("seed")
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ReviewOutputSerializer(review).data, status=code)


class PairwiseReviewDetailApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, eval_run_id, review_id):
        review = _review(request, eval_run_id, review_id)
        return Response(
            {
                **ReviewOutputSerializer(review).data,
                "progress": pairwise_progress(user=request.user, review=review),
                "results": pairwise_results(review=review),
            }
        )


class PairwiseNextItemApi(APIView):
    @extend_schema(responses={200: BlindItemSerializer, 204: None})
    def get(self, request, eval_run_id, review_id):
        review = _review(request, eval_run_id, review_id, Action.ANNOTATE)
        item = pairwise_item_next(user=request.user, review=review)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        shown = pairwise_item_blind(item)
        shown["progress"] = pairwise_progress(user=request.user, review=review)
        return Response(BlindItemSerializer(shown).data)


class PairwiseJudgmentsApi(APIView):
    @extend_schema(responses={200: JUDGMENTS_AND_RESULTS})
    def get(self, request, eval_run_id, review_id):
        """DESIGN §8: the win rate with its Wilson interval (as ``results/``), and the caller's
        own judgments."""
        review = _review(request, eval_run_id, review_id)
        mine = pairwise_judgments_of(review=review, user=request.user)
        return Response(
            {
                **pairwise_results(review=review),
                "judgments": JudgmentOutputSerializer(mine, many=True).data,
            }
        )

    @extend_schema(request=JudgmentInputSerializer, responses={201: JudgmentOutputSerializer})
    def post(self, request, eval_run_id, review_id):
        review = _review(request, eval_run_id, review_id, Action.ANNOTATE)
        data = JudgmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["skip"]:
            judgment = pairwise_skip(user=request.user, review=review, item_id=values["item"])
        else:
            judgment = pairwise_judge(
                user=request.user, review=review, item_id=values["item"], winner=values["winner"]
            )
        return Response(JudgmentOutputSerializer(judgment).data, status=status.HTTP_201_CREATED)


class PairwiseResultsApi(APIView):
    @extend_schema(responses={200: RESULTS})
    def get(self, request, eval_run_id, review_id):
        review = _review(request, eval_run_id, review_id)
        return Response(pairwise_results(review=review))


class PairwiseSavePreferencesApi(APIView):
    @extend_schema(
        request=SavePreferencesInputSerializer,
        responses={
            201: inline_serializer(
                "PairwisePreferencesSaved",
                {
                    "created": serializers.ListField(child=serializers.IntegerField()),
                    "skipped_duplicates": serializers.IntegerField(),
                    "skipped_ties": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request, eval_run_id, review_id):
        review = _review(request, eval_run_id, review_id)
        data = SavePreferencesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = dataset_get_for_user(
            request.user, data.validated_data["dataset"], action=Action.CURATE
        )
        saved = pairwise_preferences_save(user=request.user, review=review, dataset=dataset)
        return Response(
            {
                "created": saved.created,
                "skipped_duplicates": saved.skipped_duplicates,
                "skipped_ties": saved.skipped_ties,
            },
            status=status.HTTP_201_CREATED,
        )
