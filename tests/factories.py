import factory

from kneerehab.users.models import Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    timezone = "UTC"
    password = factory.django.Password(PASSWORD)


class PhysiotherapistFactory(UserFactory):
    role = Role.PHYSIOTHERAPIST
    username = factory.Sequence(lambda n: f"physio{n}")


class PatientFactory(UserFactory):
    role = Role.PATIENT
    username = factory.Sequence(lambda n: f"patient{n}")

    @factory.post_generation
    def physiotherapists(self, create, extracted, **kwargs):
        if create and extracted:
            for physio in extracted:
                self.physiotherapists.add(physio)
