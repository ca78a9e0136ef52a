"""The demo seeds the marketplace: licences, plans, a startup member with subscriptions, an
approved conditional application and a ready API key kept for later restarts."""

from __future__ import annotations

import stat
from pathlib import Path

from domain.api_key import hash_secret, parse_api_key
from marketplace.bootstrap import build
from marketplace.demo.seed import MEMBER_EMAIL, DEMO_PASSWORD, demo_api_key, seed_demo
from marketplace.settings import Settings


def test_the_demo_member_holds_subscriptions_and_a_working_api_key(tmp_path: Path) -> None:
    bank = build(Settings(data_dir=tmp_path), fast_hashing=True)
    try:
        logins = seed_demo(bank, work_dir=tmp_path / "files", enterprise_rows=200)
        assert (logins[-1].username, logins[-1].role) == (MEMBER_EMAIL, "member")
        plaintext = demo_api_key(bank)
        key_file = tmp_path / "demo-api-key.txt"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        view = bank.entitlements_view
        record = view.key_by_hash(hash_secret(parse_api_key(plaintext)[1]))
        assert record is not None and not record.revoked
        member = bank.members.authenticate_member(MEMBER_EMAIL, DEMO_PASSWORD)
        assert member.current_organisation_id == record.organisation_id
        subscriptions = view.subscriptions_of(record.organisation_id)
        names = {s["plan"]["name"] for s in subscriptions}
        assert names == {"免费版", "科研版"} and all(s["status"] == "active" for s in subscriptions)
        (application,) = view.access_applications(organisation_id=record.organisation_id)
        assert application["status"] == "approved"
        assert [t["kind"] for t in view.licence_templates()] == ["commercial", "open",
                                                                 "conditional_research"]
        enterprise = next(s["asset_id"] for s in subscriptions
                          if bank.catalogue_view.get(s["asset_id"])["metadata"]["name"] == "六安市企业登记信息")
        assert {p["name"] for p in view.plans_of(enterprise)} == {"免费版", "商业版"}
    finally:
        bank.close()
