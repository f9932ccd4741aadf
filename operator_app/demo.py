"""The demo operator and base that ``make run`` loads into an empty database."""
from datetime import date
from decimal import Decimal

from .accounts import constants as c
from .accounts import services
from .db import scoped_to
from .extensions import db

DEMO_PASSWORD = "Jinyang-demo-2026"

DEMO_USERS = (
    # email, name, role, phone
    ("manager@demo.example", "王建国", c.ROLE_MANAGER, "13803510001"),
    ("staff@demo.example", "李娜", c.ROLE_STAFF, "13803510002"),
    ("mentor@demo.example", "赵敏", c.ROLE_MENTOR, "13803510003"),
    ("tenant@demo.example", "张伟", c.ROLE_TENANT, "13903510004"),
)


def load_demo():
    """Create the demo operator 太原晋阳创业服务有限公司 with one base and its people; returns the base."""
    owner_email, owner_name, _, owner_phone = DEMO_USERS[0]
    owner, base = services.sign_up_operator(
        operator_name="太原晋阳创业服务有限公司", base_name="晋阳小微企业双创基地", base_slug="jinyang",
        base_type="producer_service", user_name=owner_name, email=owner_email, password=DEMO_PASSWORD)
    owner.phone = owner_phone
    with scoped_to(base.id):
        services.update_base_profile(base, {
            "name": base.name, "base_type": base.base_type, "is_demonstration": False,
            "address": "山西省太原市晋源区晋阳街 88 号创业大厦", "timezone": "Asia/Shanghai",
            "tenant_count_standard": 50, "total_area_m2": Decimal("12000.00"),
            "site_ownership": c.SITE_LEASED, "site_certificates": "房屋租赁合同 晋阳租字〔2021〕第 017 号",
            "site_lease_start_on": date(2021, 3, 1), "site_lease_end_on": date(2031, 2, 28),
            "site_boundaries": "创业大厦 1–6 层，东至晋阳街，西至园区内路，南北以大厦外墙为界。",
            "service_functions": ["information", "coaching", "training", "financing", "professional"],
            "has_signage": True,
            "zones": {
                c.ZONE_INCUBATION: {"area_m2": Decimal("3000.00"), "description": "2–3 层，含开放工位区 120 个工位"},
                c.ZONE_GROWTH: {"area_m2": Decimal("7000.00"), "description": "4–6 层独立办公单元"},
                c.ZONE_PUBLIC_SERVICE: {"area_m2": Decimal("2000.00"),
                                        "description": "1 层服务大厅、路演厅、会议室"},
            },
        }, by=owner)
    for email, name, role, phone in DEMO_USERS[1:]:
        user = services.create_user(email, name, DEMO_PASSWORD, phone)
        services.add_membership(user, base, role, by=owner)
    db.session.flush()
    return base
