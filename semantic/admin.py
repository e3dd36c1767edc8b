from django.contrib import admin

from datasets_app.admin import ReadOnlyAdmin

from .models import EmbeddingJob


@admin.register(EmbeddingJob)
class EmbeddingJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "dataset", "model_name", "status", "examples_embedded", "created_at"]
    list_filter = ["status"]
