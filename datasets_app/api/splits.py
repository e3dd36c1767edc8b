"""Split assignment and the leakage report."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.teams.permissions import Action

from .. import selectors
from ..services import splits as split_services

STRATIFY_HELP = (
    "Optional. tag:<name> (two strata: with and without the tag) or metadata:<key> "
    "(one stratum per value of that metadata field; '(missing)' without it)."
)


class DatasetSplitApi(APIView):
    class InputSerializer(serializers.Serializer):
        ratios = serializers.DictField(
            child=serializers.FloatField(),
            help_text='Shares per split summing to 1, e.g. {"train": 0.8, "validation": 0.1, '
            '"test": 0.1}.',
        )
        seed = serializers.IntegerField(default=0, min_value=0, max_value=2**63 - 1)
        stratify_by = serializers.CharField(
            required=False, allow_blank=True, max_length=80, help_text=STRATIFY_HELP
        )
        group_near_duplicates = serializers.BooleanField(
            default=True,
            help_text="Keep every stored duplicate cluster and identical content in one split.",
        )
        keep_existing = serializers.BooleanField(
            default=True,
            help_text="Examples that already have a split keep it; only new ones are placed.",
        )
        group_topics = serializers.BooleanField(
            default=False,
            help_text="Keep every topic cluster of the dataset's embeddings (the Topics tab, "
            "automatic k) in one split, so validation and test hold topics training never saw; "
            "409 when the dataset was never embedded.",
        )

    class OutputSerializer(serializers.Serializer):
        examples = serializers.IntegerField()
        counts = serializers.DictField(child=serializers.IntegerField())
        strata = serializers.DictField(child=serializers.DictField(), required=False)
        changed = serializers.IntegerField()
        locked = serializers.IntegerField(help_text="Examples kept by a manual split choice.")
        grouped = serializers.IntegerField(help_text="Examples in a duplicate group.")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = split_services.dataset_split(
            user=request.user, dataset=dataset, **data.validated_data
        )
        return Response(self.OutputSerializer(result).data)


class LeakagePairOutputSerializer(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    a_split = serializers.CharField()
    b_split = serializers.CharField()
    kind = serializers.CharField()
    similarity = serializers.FloatField(help_text="The lowest similarity inside its group.")


class DatasetLeakageApi(APIView):
    class OutputSerializer(serializers.Serializer):
        pair_count = serializers.IntegerField()
        pairs = LeakagePairOutputSerializer(many=True, help_text="The first 200.")
        counts = serializers.DictField(child=serializers.IntegerField())
        strata = serializers.DictField(child=serializers.DictField())

    @extend_schema(
        parameters=[OpenApiParameter("stratify_by", str, description=STRATIFY_HELP)],
        responses={200: OutputSerializer},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        report = split_services.dataset_leakage(
            dataset=dataset, stratify_by=request.query_params.get("stratify_by")
        )
        return Response(report)
