"""Forms of the Django admin as a browser posts them."""


def admin_user_form(browser, user, **changes) -> dict:
    """The admin's change form of `user` as the browser would post it back, with `changes` applied."""
    form = browser.get(f"/admin/users/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name, value in form.initial.items():
        if name == "password" or value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    data.update({"user_permissions": [], "groups": [], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "physiotherapist_links-TOTAL_FORMS": "0", "physiotherapist_links-INITIAL_FORMS": "0"})
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data
