"""Status keeps python-ucam-webauth's attributes beside the IntEnum's."""

import pickle

import pytest

import raven
from raven import STATUS_CODES
from raven.demoserver import Response as DemoResponse
from raven.protocol import Status
from raven.testing import make_response

OLD_NAMES = {
    200: "success", 410: "cancelled", 510: "noatypes", 520: "unsupported_version",
    530: "bad_request", 540: "interaction_required", 560: "waa_not_authorised",
    570: "authentication_declined",
}


@pytest.mark.parametrize("code", sorted(OLD_NAMES))
def test_old_attributes_beside_new(code: int) -> None:
    status = Status(code)
    assert status.code == code == status and int(status) == code
    assert status.name == OLD_NAMES[code]
    assert Status[status.name] is status is Status[status.name.upper()]
    assert status.description == STATUS_CODES[code]
    assert getattr(raven, "STATUS_" + status.name.upper()) is status
    assert hash(status) == hash(code)
    assert str(status) == str(code) and f"{status}" == str(code)
    assert pickle.loads(pickle.dumps(status)) is status


def test_members_are_the_eight_codes() -> None:
    assert [s.code for s in Status] == sorted(OLD_NAMES)
    assert repr(Status.CANCELLED) == "<Status.CANCELLED: 410>"


def test_parsed_response_status() -> None:
    url = "https://site.example/page"
    cancelled = DemoResponse(make_response(url, status=410))
    assert cancelled.status.code == 410 and cancelled.status.name == "cancelled"
    assert not cancelled.success
    ok = DemoResponse(make_response(url))
    assert ok.status.name == "success" and ok.status == raven.STATUS_SUCCESS
