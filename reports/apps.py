from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from inbox import hooks
        from reports import services

        # After the SLA clocks (40) and routing (90): the survey goes out once the resolve stands.
        hooks.register("conversation_changed", services.send_survey_on_resolve, order=95)
