"""State written through one SDK is read back through another (one server, one state)."""

import pytest

from conftest import FLAVOURS, KEY_HZ, REGION

PAIRS = [(w, r) for w in FLAVOURS for r in FLAVOURS if w != r]


@pytest.mark.parametrize("writer,reader", PAIRS, ids=[f"{w}->{r}" for w, r in PAIRS])
def test_state_is_shared_between_sdks(flavours, writer, reader):
    w, r = flavours[writer], flavours[reader]
    region = {"RegionId": REGION}
    assert r.call("DescribeDiskEncryptionByDefaultStatus", region)["Encrypted"] is False
    w.call("EnableDiskEncryptionByDefault", region)
    assert r.call("DescribeDiskEncryptionByDefaultStatus", region)["Encrypted"] is True
    w.call("ModifyDiskDefaultKMSKeyId", {"RegionId": REGION, "KMSKeyId": "alias/demo"})
    assert r.call("DescribeDiskDefaultKMSKeyId", region)["KMSKeyId"] == KEY_HZ
    # and the reader can continue the lifecycle the writer started
    r.call("DisableDiskEncryptionByDefault", region)
    assert w.call("DescribeDiskEncryptionByDefaultStatus", region)["Encrypted"] is False
