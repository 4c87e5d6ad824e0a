from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "kneerehab.users"
    label = "users"
    verbose_name = "Users and caseloads"
