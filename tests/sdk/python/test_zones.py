"""ECS DescribeZones through every Python SDK flavour (disks.md section 2): the default
fixture's zones, the brief answer of Verbose=False (Python sends the bool as "False"), an
unknown region, and a RAM user with no policy (DescribeZones is open to every caller)."""

from conftest import REGION, UUID_RE, Recorder, expect_error

ALL_CATEGORIES = ["cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto",
                  "cloud_essd_entry"]


def test_describe_zones_lists_the_fixture_zones(sdk):
    call = Recorder(sdk)
    zones = call("DescribeZones", RegionId=REGION, AcceptLanguage="en-US")["Zones"]["Zone"]
    assert [z["ZoneId"] for z in zones] == [
        "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]
    first = zones[0]
    assert first["ZoneType"] == "AvailabilityZone"
    assert first["LocalName"] == "Hangzhou Zone H"
    assert first["AvailableDiskCategories"]["DiskCategories"] == ALL_CATEGORIES
    assert first["AvailableResourceCreation"]["ResourceTypes"] == [
        "Instance", "Disk", "VSwitch", "IoOptimized"]
    assert zones[3]["AvailableDiskCategories"]["DiskCategories"] == ["cloud_essd", "cloud_auto"]
    call.assert_unique_ids()


def test_describe_zones_brief(sdk):
    zones = Recorder(sdk)("DescribeZones", RegionId="cn-shanghai", Verbose=False)["Zones"]["Zone"]
    assert zones[0] == {"ZoneId": "cn-shanghai-e", "ZoneType": "AvailabilityZone",
                        "LocalName": "华东 2 可用区 E"}
    assert len(zones) == 3


def test_describe_zones_of_an_unknown_region(sdk):
    err = expect_error(sdk, "DescribeZones", {"RegionId": "cn-atlantis"})
    assert (err.code, err.status, err.message) == (
        "InvalidRegionId.NotFound", 404, "The specified RegionId does not exist.")
    assert err.request_id and UUID_RE.match(err.request_id)


def test_a_ram_user_with_no_policy_may_describe_zones(sdk):
    zones = Recorder(sdk, "ram-no-policy")("DescribeZones", RegionId=REGION)["Zones"]["Zone"]
    assert len(zones) == 4
