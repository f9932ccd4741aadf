"""The service ledger's vocabulary (DOMAIN.md "Service ledger", 001 "8个有" §1 and §7) and its policy numbers."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from operator_app.accounts.constants import SERVICE_FUNCTIONS

#: An entry's category is one of the eight service functions of the policy.
CATEGORIES = SERVICE_FUNCTIONS

# 001 "8个有" §1: 不少于10人的服务团队，创业辅导师不少于3人，外部专业服务机构不少于5家.
MIN_TEAM = 10
MIN_MENTORS = 3
MIN_AGENCIES = 5

# 001 "8个有" §7: 活动结束后三日内要把以上资料……一并整理归档留存.
ARCHIVE_DAYS = 3

KIND_REQUEST, KIND_VISIT, KIND_ACTIVITY = "request", "visit", "activity"
KINDS = {KIND_REQUEST: _l("Service request"), KIND_VISIT: _l("Company visit"), KIND_ACTIVITY: _l("Activity")}

CHANNELS = {"phone": _l("Phone call"), "walk_in": _l("Walk-in"), "online": _l("Online"),
            "visit": _l("During a visit")}
CHANNEL_PORTAL = "online"  # a request a tenant files from its portal

STATUS_OPEN, STATUS_IN_PROGRESS, STATUS_RESOLVED, STATUS_CLOSED = "open", "in_progress", "resolved", "closed"
REQUEST_STATUSES = {STATUS_OPEN: _l("Received"), STATUS_IN_PROGRESS: _l("Being handled"),
                    STATUS_RESOLVED: _l("Resolved"), STATUS_CLOSED: _l("Closed without resolution")}
DONE_STATUSES = (STATUS_RESOLVED, STATUS_CLOSED)

FILE_NOTICE, FILE_PHOTO, FILE_SHEET = "notice", "photo", "sheet"
FILE_KINDS = {FILE_NOTICE: _l("Formal notice (正式文件)"), FILE_PHOTO: _l("On-site photo"),
              FILE_SHEET: _l("Paper sign-in sheet (签到表)")}

# What an activity's archive needs within ARCHIVE_DAYS of its end (the policy also names publicity and result
# statistics, shown as recommended).
ARCHIVE_ITEMS = {"notice": _l("formal notice"), "photos": _l("on-site photos"), "signins": _l("sign-ins")}
ARCHIVE_COMPLETE, ARCHIVE_PENDING, ARCHIVE_OVERDUE, ARCHIVE_LATE = "complete", "pending", "overdue", "late"
ARCHIVE_LABELS = {ARCHIVE_COMPLETE: _l("Archived"), ARCHIVE_PENDING: _l("Items missing"),
                  ARCHIVE_OVERDUE: _l("Overdue"), ARCHIVE_LATE: _l("Archived late")}

# Participants may sign in from shortly before the start until the activity's window after its end closes.
SIGNIN_OPENS_BEFORE = timedelta(hours=2)
DEFAULT_SIGNIN_HOURS_AFTER = 2
MAX_SIGNIN_HOURS_AFTER = 72

RATINGS = range(1, 6)
