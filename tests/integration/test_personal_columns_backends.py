"""One behaviour, every backend: what the import detected as personal and what a reviewer
cleared reach the catalogue read model (memory, SQLite files, PostgreSQL) and the access path's
masker, and survive a rebuild of the read model from the log."""

from __future__ import annotations

import io


from domain.actors import ANONYMOUS, Actor, Role
from marketplace.bootstrap import DataBank
from marketplace.services.access import Caller
from support.catalogue import sample_metadata
from support.marketplace import credit_code

ADMIN = Actor("admin", "管理员", Role.ADMIN)
REVIEWER = Actor("reviewer", "审查员", Role.REVIEWER)
CSV = "站点编号,站点名称,值班电话,住址\nLA0001,政务中心,13812341234,六安市金安区梅山南路12号\n".encode()



def test_detections_and_clearances_reach_the_read_model_and_the_masker(bank: DataBank) -> None:
    department = bank.catalogue.register_department(code=credit_code(5, "11341500"), name="部门", contact="", by=ADMIN)
    publisher = Actor("pub", "发布员", Role.PUBLISHER, str(department.id))
    items = sample_metadata()["information_items"][:2] + [
        {"name": "值班电话", "data_type": "string", "description": "", "sensitivity": "none", "key": False},
        {"name": "住址", "data_type": "string", "description": "", "sensitivity": "none", "key": False}]
    asset = bank.catalogue.register_asset(department_id=publisher.department_id,
                                          metadata=sample_metadata(information_items=items), by=publisher)
    asset_id = str(asset.id)
    _, number = bank.catalogue.upload_version(asset_id, io.BytesIO(CSV), source_format="csv", by=publisher)
    bank.catalogue.submit_for_review(asset_id, number, by=publisher)
    bank.catalogue.approve(asset_id, reason="ok", by=REVIEWER)
    bank.catalogue.publish(asset_id, number, by=publisher)
    bank.catalogue_follower.catch_up()
    entry = bank.catalogue_view.get(asset_id)
    assert entry["versions"][0]["personal"] == {"值班电话": "phone", "住址": "address"}
    anonymous = Caller(ANONYMOUS, ip="203.0.113.9")
    assert bank.row_access.plan_access(anonymous, asset_id).masker.masked == ("值班电话", "住址")

    bank.catalogue.clear_personal_column(asset_id, "值班电话", reason="政务中心值班电话，公开", by=REVIEWER)
    bank.catalogue_follower.catch_up()
    entry = bank.catalogue_view.get(asset_id)
    assert entry["cleared_columns"]["值班电话"]["kind"] == "phone"
    assert entry["cleared_columns"]["值班电话"]["reason"] == "政务中心值班电话，公开"
    assert bank.row_access.plan_access(anonymous, asset_id).masker.masked == ("住址",)

    bank.catalogue_follower.rebuild()
    rebuilt = bank.catalogue_view.get(asset_id)
    assert (rebuilt["versions"][0]["personal"], rebuilt["cleared_columns"]) == (
        entry["versions"][0]["personal"], entry["cleared_columns"])
    assert bank.row_access.plan_access(anonymous, asset_id).masker.masked == ("住址",)
