"""Many examples fast (bulk_create), for tests of what happens past 10,000 rows."""

import uuid

from django.db.models import OuterRef, Subquery

from datasets_app.models import Example, ExampleRevision, Tag


def add_many(dataset, user, n, *, status="draft", word="bulk", tag=None):
    """``n`` examples in three queries (bulk_create), each with a current revision that the
    search index picks up, as an import would leave them."""
    rows = Example.objects.bulk_create(
        [
            Example(
                dataset=dataset,
                content_hash=uuid.uuid4().hex * 2,
                status=status,
                source_format="openai",
                created_by=user,
            )
            for _ in range(n)
        ],
        batch_size=2000,
    )
    pks = [e.pk for e in rows]  # both engines return the new ids from a bulk insert
    ExampleRevision.objects.bulk_create(
        [
            ExampleRevision(
                example_id=pk,
                number=1,
                messages=[
                    {"role": "user", "content": f"{word} question {pk}"},
                    {"role": "assistant", "content": "an answer"},
                ],
                metadata={},
                content_hash=f"{pk:064x}",
                author=user,
            )
            for pk in pks
        ],
        batch_size=2000,
    )
    Example.objects.filter(pk__in=pks).update(
        current_revision_id=Subquery(
            ExampleRevision.objects.filter(example=OuterRef("pk")).values("pk")[:1]
        )
    )
    if tag:
        label, _ = Tag.objects.get_or_create(dataset=dataset, name=tag)
        Example.tags.through.objects.bulk_create(
            [Example.tags.through(example_id=pk, tag_id=label.pk) for pk in pks], batch_size=2000
        )
    return pks
