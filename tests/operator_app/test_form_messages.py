"""Messages of the shared form base: an unreadable value gets its own message alone; an empty required field
gets "required", not "not a valid date"."""
from werkzeug.datastructures import MultiDict

from tenants.forms import ExitForm


def _errors(app, data):
    with app.test_request_context(method="POST", headers={"Accept-Language": "zh-CN"}):
        form = ExitForm(formdata=MultiDict(data), meta={"csrf": False})
        form.validate()
        return [str(message) for message in form.exit_on.errors]


def test_an_empty_required_date_says_to_enter_it(app):
    assert _errors(app, {"reason": "graduated", "exit_on": ""}) == ["请填写日期。"]


def test_an_unreadable_date_says_only_that(app):
    errors = _errors(app, {"reason": "graduated", "exit_on": "2026-13-45"})
    assert len(errors) == 1 and errors != ["请填写日期。"]
