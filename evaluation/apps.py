from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from finetunedb.leases import kind_register

        from .services.jobs import KINDS

        for kind in KINDS:
            kind_register(kind)

        # Automatic evaluation after training: training offers the hooks, evaluation fills them.
        from training.hooks import (
            launch_option_register,
            model_panel_register,
            run_succeeded_register,
        )

        from .services.auto import EVAL_SUITES_OPTION, auto_evals_start, model_auto_eval_panel
        from .services.judged import model_parent_panel
        from .services.nearest import nearest_index_warm

        launch_option_register(EVAL_SUITES_OPTION)
        run_succeeded_register(auto_evals_start)
        run_succeeded_register(nearest_index_warm)
        model_panel_register(model_auto_eval_panel)
        model_panel_register(model_parent_panel)
