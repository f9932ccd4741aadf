"""Every page (issue 12, the UX bar): each GET route of the app, found in the url_map and opened with real ids
of the demo base, as each role of the demo (and as an anonymous visitor) would open it, on a phone (390 x 844):
no error, no horizontal scrolling, no untranslated English. File downloads, exports and QR images are told
apart by the content type they answer with. A new route is walked without a change here; one with an address
part the demo fixture (conftest.py) does not know fails until its real value is named there.

An empty base (signed up, nothing recorded) shows on each list page what to do: an `.empty-state` with a link or
button to the action that fills the list. The list pages are found, not listed: the pages of the demo base that
show a list (rows of a table, items of a list group)."""
from contextlib import contextmanager

import pytest

from operator_app.accounts import constants as c

from .conftest import PHONE, Screens, log_in, log_in_demo, no_horizontal_scroll, untranslated

ANONYMOUS = "anonymous"
ROLES = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT, ANONYMOUS)
HTML = "text/html"
# What makes a page a list, and a list empty: rows of a table body, items of a list group.
LIST_ITEMS = "table > tbody > tr, .list-group > .list-group-item"


def allowed(app, rule, role):
    """Whether ``role`` is meant to open ``rule``: the roles a base route declares; anyone for the rest (a page
    that needs a login sends the anonymous visitor to the login page, which is walked once, on its own)."""
    roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
    return role in roles if roles is not None else True


def page_paths(app, site, role):
    """The address of every GET route ``role`` may open, built with the demo's real values."""
    return [path for _rule, path in page_rules(app, site, role)]


def page_rules(app, site, role):
    """(rule, address) of every GET route ``role`` may open, the address built with the demo's real values."""
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static") or not allowed(app, rule,
                                                                                                        role):
            continue
        values = {}
        for argument in rule.arguments:
            known = site.by_endpoint.get(rule.endpoint, {}).get(argument, site.values.get(argument))
            assert known is not None, (f"name a real value of <{argument}> for {rule.rule} in "
                                       "_demo_values of tests/browser/conftest.py")
            values[argument] = known
        paths.append((rule, rule.build(values)[1]))
    return paths


@contextmanager
def window(chromium, url, request):
    """A phone window of its own (one browser context); a failure keeps its screenshot."""
    screens = Screens(chromium, url)
    try:
        yield screens.open(PHONE)
    except BaseException:
        screens.keep_failure(request.node.name.replace("/", "_").replace("[", "-").replace("]", ""))
        raise
    finally:
        screens.close()


def open_page(page, path):
    """Opens ``path`` in ``page`` when it answers with a web page; returns (status, content type), the content
    type None for a page that sends to the login page (not a page of the one walking)."""
    answer = page.request.get(path, max_redirects=0, fail_on_status_code=False)
    kind = answer.headers.get("content-type", "")
    if answer.status < 300 and not kind.startswith(HTML):
        return answer.status, kind  # a download, an export, a QR image: not a page to look at
    if answer.status in (301, 302, 303) and answer.headers.get("location", "").split("?")[0].endswith("/login") \
            and not path.startswith("/login"):
        return answer.status, None
    response = page.goto(path)
    page.wait_for_load_state()
    return response.status, response.headers.get("content-type", "")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_on_a_phone_has_no_error_no_sideways_scroll_and_no_english(app, chromium, demo_site, request,
                                                                               role):
    """One browser window per role walks its pages; downloads are counted, not looked at."""
    problems, pages, files = [], 0, 0
    with window(chromium, demo_site.url, request) as page:
        if role != ANONYMOUS:
            log_in_demo(page, role)
        for path in page_paths(app, demo_site, role):
            status, kind = open_page(page, path)
            if status >= 500:
                problems.append(f"{path}: {status}")
                continue
            if kind is None:
                assert role == ANONYMOUS, f"{role} was sent to log in by {path}"
                continue
            if not kind.startswith(HTML):
                files += 1
                continue
            pages += 1
            english = untranslated(page)
            if english:
                problems.append(f"{path}: untranslated {english}")
            if not no_horizontal_scroll(page):
                problems.append(f"{path}: wider than the phone ({page.evaluate(WIDEST)})")
    assert problems == [], "\n".join(problems)
    assert pages >= {c.ROLE_MANAGER: 50, c.ROLE_STAFF: 40, c.ROLE_MENTOR: 20, c.ROLE_TENANT: 8}.get(role, 4)
    assert files >= (5 if role == c.ROLE_MANAGER else 0)  # the exports were reached, and told apart


# The element that sticks out furthest on the right, for the failure message.
WIDEST = """() => {
  let widest = null, right = document.documentElement.clientWidth;
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.right > right + 1) { right = box.right; widest = element; }
  }
  if (!widest) return 'nothing';
  const classes = typeof widest.className === 'string' ? widest.className.trim().split(/\\s+/) : [];
  const name = widest.tagName.toLowerCase() + (widest.id ? '#' + widest.id : '') +
    classes.filter(Boolean).map((one) => '.' + one).join('');
  return name + ' ends at ' + Math.round(right) + 'px: ' + (widest.innerText || '').slice(0, 40);
}"""


def list_pages(app, chromium, site, request):
    """The routes of the demo base's pages, with no record in their address, that show the manager a list."""
    found = set()
    with window(chromium, site.url, request) as page:
        log_in_demo(page, c.ROLE_MANAGER)
        for rule, path in base_pages(app, site.values["base_slug"], c.ROLE_MANAGER):
            status, kind = open_page(page, path)
            if status == 200 and (kind or "").startswith(HTML) and page.locator(LIST_ITEMS).count():
                found.add(rule.rule)
    return found


def base_pages(app, slug, role):
    """(rule, address) of the base's GET routes that ``role`` may open and that name no record."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" in rule.methods and set(rule.arguments) == {"base_slug"} and allowed(app, rule, role):
            yield rule, rule.build({"base_slug": slug})[1]


# The lists of a page and their records: a row or item that is not a message (an empty state, or a row of one
# cell across the table, or a muted list item, which is how a list said it was empty before it had empty states).
LISTS = """() => {
  const message = (item) => item.matches('.empty-state') || !!item.querySelector('.empty-state')
    || (item.matches('tr') && item.cells.length === 1 && item.cells[0].colSpan > 1)
    || item.matches('.list-group-item.text-muted');
  return [...document.querySelectorAll('main tbody, main .list-group')].map((list) => ({
    where: (list.closest('[id]') || {}).id || list.tagName.toLowerCase(),
    records: [...list.children].filter((item) => !message(item)).length,
    says: !!list.querySelector('.empty-state')}));
}"""


def empty_lists(page, must_say, with_action):
    """What is wrong with the empty lists of ``page``: an empty list with no empty state, a list page (``must_say``)
    with no record and no empty state, an empty state without its action when ``with_action`` (unless it says
    that all is done)."""
    lists = page.evaluate(LISTS)
    problems = [f"the empty list in #{found['where']} has no .empty-state" for found in lists
                if not found["records"] and not found["says"]]
    states = page.locator(".empty-state")
    if must_say and not any(found["records"] for found in lists) and states.count() == 0:
        problems.append("no list and no .empty-state")
    if with_action:  # a queue emptied because all is done (data-all-clear) has nothing to do
        states = page.locator(".empty-state:not([data-all-clear])")
        for n in range(states.count()):
            if states.nth(n).locator("a[href], button").count() == 0:
                problems.append(f"no action in the empty state \"{states.nth(n).inner_text().strip()[:50]}\"")
    return problems


def test_every_list_of_an_empty_base_says_what_to_do(app, chromium, demo_site, factory, live_server, request):
    """A base just signed up: each page of the manager with an empty list says what to do and links to the action;
    a tenant contact's pages of a company with no record say what is to come."""
    lists = list_pages(app, chromium, demo_site, request)
    assert len(lists) >= 10, lists
    base = factory.base()
    problems = []
    for role in (c.ROLE_MANAGER, c.ROLE_TENANT):
        user = base.users[role]
        if role == c.ROLE_TENANT:
            factory.link_tenant(base, factory.company(base))
        with window(chromium, live_server, request) as page:
            log_in(page, user.email, user.password)
            for rule, path in base_pages(app, base.slug, role):
                status, kind = open_page(page, path)
                if status != 200 or not (kind or "").startswith(HTML):
                    continue
                must_say = role == c.ROLE_MANAGER and rule.rule in lists
                problems += [f"{role} {path}: {problem}"
                             for problem in empty_lists(page, must_say, with_action=role == c.ROLE_MANAGER)]
    assert problems == [], "\n".join(problems)
