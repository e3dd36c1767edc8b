"""The playground's pick as a preference example (issue 20).

| route | method | does |
|---|---|---|
| /api/v1/playground/{id}/pick/ | POST | `{dataset, winner: base|finetuned (a|b for two seeds), chosen?}` → 201 `{created, skipped_duplicates}` |
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import dataset_get_for_user
from finetunedb.teams.permissions import Action

from .. import selectors
from ..services.evaluation import MAX_CHARS
from ..services.playground_picks import SEEDED_WINNERS, WINNERS, playground_pick_save


class PlaygroundPickApi(APIView):
    class InputSerializer(serializers.Serializer):
        dataset = serializers.IntegerField(help_text="A dataset of the model's team (curator+).")
        winner = serializers.ChoiceField(
            choices=WINNERS + SEEDED_WINNERS,
            help_text="The better answer: base or finetuned; a or b when the playground "
            "answered twice with the fine-tuned model at two seeds.",
        )
        chosen = serializers.CharField(
            required=False,
            max_length=MAX_CHARS,
            trim_whitespace=True,
            help_text="An edit of the winner's answer to save as chosen instead of it.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer(
                "PlaygroundPickSaved",
                {
                    "created": serializers.ListField(child=serializers.IntegerField()),
                    "skipped_duplicates": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request, playground_id):
        pick = selectors.playground_get_for_user(request.user, playground_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dataset = dataset_get_for_user(request.user, values["dataset"], action=Action.CURATE)
        saved = playground_pick_save(
            user=request.user,
            request=pick,
            dataset=dataset,
            winner=values["winner"],
            chosen=values.get("chosen"),
        )
        return Response(
            {"created": saved.created, "skipped_duplicates": saved.skipped_duplicates},
            status=status.HTTP_201_CREATED,
        )
