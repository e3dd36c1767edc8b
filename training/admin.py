from django.contrib import admin

from .models import ModelArtifact, PlaygroundRequest, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "base_model", "method", "status", "step", "total_steps")
    list_filter = ("status", "method")
    readonly_fields = [f.name for f in TrainingRun._meta.fields]


@admin.register(ModelArtifact)
class ModelArtifactAdmin(admin.ModelAdmin):
    list_display = ("id", "run", "weights_sha256", "eval_status", "created_at")
    readonly_fields = [f.name for f in ModelArtifact._meta.fields]


@admin.register(PlaygroundRequest)
class PlaygroundRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "status", "created_at")
