from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "kneerehab.users"
    label = "users"
    verbose_name = "Users and caseloads"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .sessions import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="kneerehab.users.sessions.stamp_sign_in")
