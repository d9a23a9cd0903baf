"""Cloud disks through every Python SDK flavour (disks.md section 3): the whole story (default
encryption on, a default key, CreateDisk without Encrypted, DescribeDisks, Reset, Modify,
Resize, Delete), the encryption table, paging both ways, ClientToken idempotency, filters,
every documented error of sections 3.2-3.4 (the table is shared with Node: ecs_cases.json
"disks"), and XML through py-core, the one SDK that can ask for it.

Parameters are given as the tea models take them (wire names; repeated parameters as lists:
``Tag=[{"Key", "Value"}]``, ModifyDiskAttribute ``DiskIds=[...]``); the py-core adapter turns
a list into the generated RepeatList setter (``set_Tags``, ``set_DiskIdss``), which sends
``Tag.N.Key`` / ``DiskIds.N``. DescribeDisks takes ``DiskIds`` as one JSON array string.
Booleans are Python bools: both Python SDKs send them as ``True``/``False``.
"""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import (DEFAULT_ACCOUNT_ID, ECS_API, ECS_CASES, KEY_HZ, KEY_HZ_ARN, REGION,
                      UUID_RE, Recorder, assert_api_error, expect_error)

R = {"RegionId": REGION}
ESSD = {**R, "ZoneId": "cn-hangzhou-h", "DiskCategory": "cloud_essd", "Size": 40}
DISK_ID_RE = re.compile(r"^d-[0-9a-z]{20}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# disks.md section 3.3: every field of a disk, its JSON type (never null)
DISK_FIELDS = {
    "DiskId": str, "RegionId": str, "ZoneId": str, "DiskName": str, "Description": str,
    "Type": str, "Category": str, "PerformanceLevel": str, "Size": int, "Encrypted": bool,
    "KMSKeyId": str, "Status": str, "Portable": bool, "DeleteWithInstance": bool,
    "DeleteAutoSnapshot": bool, "EnableAutoSnapshot": bool,
    "EnableAutomatedSnapshotPolicy": bool, "DiskChargeType": str, "ExpiredTime": str,
    "CreationTime": str, "AttachedTime": str, "DetachedTime": str, "InstanceId": str,
    "Device": str, "ImageId": str, "SourceSnapshotId": str, "AutoSnapshotPolicyId": str,
    "ResourceGroupId": str, "StorageSetId": str, "MultiAttach": str, "SerialNumber": str,
    "IOPS": int, "Throughput": int, "BurstingEnabled": bool, "ProvisionedIops": int,
    "MountInstanceNum": int, "Tags": dict, "Attachments": dict, "OperationLocks": dict,
    "MountInstances": dict,
}
LISTS = {"Tags": "Tag", "Attachments": "Attachment", "OperationLocks": "OperationLock",
         "MountInstances": "MountInstance"}


def assert_disk_shape(disk: dict) -> None:
    """Every field of disks.md section 3.3 present, non-null, of its JSON type."""
    missing = set(DISK_FIELDS) - set(disk)
    assert not missing, (missing, disk)
    for name, typ in DISK_FIELDS.items():
        value = disk[name]
        assert value is not None, (name, disk)
        # bool is an int in Python: numbers must not be booleans, booleans must be booleans
        assert type(value) is typ, (name, type(value), value)
    for outer, inner in LISTS.items():
        assert set(disk[outer]) == {inner}, (outer, disk[outer])
        assert isinstance(disk[outer][inner], list), (outer, disk[outer])
    assert DISK_ID_RE.match(disk["DiskId"]), disk["DiskId"]
    assert disk["SerialNumber"] == disk["DiskId"][2:]
    assert TIME_RE.match(disk["CreationTime"]), disk["CreationTime"]
    assert disk["ExpiredTime"] == "2999-09-08T16:00Z"
    assert disk["DiskChargeType"] == "PostPaid"
    assert disk["Type"] == "data"
    for empty in ("AttachedTime", "DetachedTime", "InstanceId", "Device", "ImageId",
                  "SourceSnapshotId", "AutoSnapshotPolicyId", "StorageSetId"):
        assert disk[empty] == "", (empty, disk)
    assert disk["Attachments"]["Attachment"] == []
    assert disk["OperationLocks"]["OperationLock"] == []
    assert disk["MountInstances"]["MountInstance"] == []
    assert disk["MountInstanceNum"] == 0
    if disk["Encrypted"]:
        assert disk["KMSKeyId"].startswith("key-"), disk
    else:
        assert disk["KMSKeyId"] == "", disk


def describe(call, *ids, region=REGION, **params):
    """DescribeDisks of these ids (DiskIds as one JSON array string): the Disk list."""
    if ids:
        params["DiskIds"] = json.dumps(list(ids))
    body = call("DescribeDisks", RegionId=region, **params)
    disks = body["Disks"]["Disk"]
    for d in disks:
        assert_disk_shape(d)
    return disks


def one_disk(call, disk_id, **params):
    disks = describe(call, disk_id, **params)
    assert [d["DiskId"] for d in disks] == [disk_id], disks
    return disks[0]


def create(call, **params):
    body = call("CreateDisk", **{**ESSD, **params})
    assert set(body) == {"RequestId", "DiskId"}, body
    assert DISK_ID_RE.match(body["DiskId"]), body
    return body["DiskId"]


# --------------------------------------------------------------------------- the story
def test_the_whole_story(sdk):
    call = Recorder(sdk)
    assert set(call("EnableDiskEncryptionByDefault", **R)) == {"RequestId"}
    assert set(call("ModifyDiskDefaultKMSKeyId", KMSKeyId=KEY_HZ, **R)) == {"RequestId"}

    # CreateDisk without Encrypted: default encryption on -> the account's default key
    first = create(call)
    disk = one_disk(call, first)
    assert (disk["Encrypted"], disk["KMSKeyId"]) == (True, KEY_HZ), disk
    assert {k: disk[k] for k in ("RegionId", "ZoneId", "Category", "PerformanceLevel", "Size",
                                 "Status", "DiskName", "Description", "Portable",
                                 "DeleteWithInstance", "DeleteAutoSnapshot",
                                 "EnableAutoSnapshot", "EnableAutomatedSnapshotPolicy",
                                 "MultiAttach", "ResourceGroupId", "BurstingEnabled",
                                 "ProvisionedIops")} == {
        "RegionId": REGION, "ZoneId": "cn-hangzhou-h", "Category": "cloud_essd",
        "PerformanceLevel": "PL1", "Size": 40, "Status": "Available", "DiskName": "",
        "Description": "", "Portable": True, "DeleteWithInstance": False,
        "DeleteAutoSnapshot": False, "EnableAutoSnapshot": True,
        "EnableAutomatedSnapshotPolicy": False, "MultiAttach": "Disabled",
        "ResourceGroupId": "", "BurstingEnabled": False, "ProvisionedIops": 0}
    # PL1: min(1800 + 50 x size, 50000) / min(120 + 0.5 x size, 350)
    assert (disk["IOPS"], disk["Throughput"]) == (3800, 140), disk
    assert disk["Tags"]["Tag"] == []

    # Reset: new disks get the service key, the one DescribeDiskDefaultKMSKeyId answers
    assert set(call("ResetDiskDefaultKMSKeyId", **R)) == {"RequestId"}
    service_key = call("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]
    assert service_key.startswith("key-") and service_key != KEY_HZ, service_key
    second = create(call)
    assert second != first
    disk2 = one_disk(call, second)
    assert (disk2["Encrypted"], disk2["KMSKeyId"]) == (True, service_key), disk2
    assert one_disk(call, first)["KMSKeyId"] == KEY_HZ  # the first disk is unchanged
    # newest first: creation time descending, then disk id descending
    both = describe(call, first, second)
    assert [d["DiskId"] for d in both] == [d["DiskId"] for d in sorted(
        both, key=lambda d: (d["CreationTime"], d["DiskId"]), reverse=True)]
    assert {d["DiskId"] for d in both} == {first, second}

    # ModifyDiskAttribute
    assert set(call("ModifyDiskAttribute", DiskId=first, DiskName="data-disk_1:a.b",
                    Description="the first disk", DeleteWithInstance=True,
                    EnableAutoSnapshot=False, **R)) == {"RequestId"}
    disk = one_disk(call, first)
    assert (disk["DiskName"], disk["Description"], disk["DeleteWithInstance"],
            disk["EnableAutoSnapshot"], disk["DeleteAutoSnapshot"]) == (
        "data-disk_1:a.b", "the first disk", True, False, False), disk
    assert one_disk(call, first, DiskName="data-disk_1:a.b")["DiskId"] == first

    # ResizeDisk: no RegionId in the SDK models; encryption never changes
    assert set(call("ResizeDisk", DiskId=first, NewSize=100)) == {"RequestId"}
    disk = one_disk(call, first)
    assert (disk["Size"], disk["Encrypted"], disk["KMSKeyId"]) == (100, True, KEY_HZ), disk
    assert (disk["IOPS"], disk["Throughput"]) == (6800, 170), disk
    call("ResizeDisk", DiskId=first, NewSize=200, Type="online")
    assert one_disk(call, first)["Size"] == 200

    # DeleteDisk: no RegionId either; gone at once, the other disk stays
    assert set(call("DeleteDisk", DiskId=first)) == {"RequestId"}
    assert describe(call, first) == []
    assert [d["DiskId"] for d in describe(call)] == [second]
    call.assert_unique_ids()


def test_disks_hold_their_tags_and_names(sdk):
    call = Recorder(sdk)
    tags = [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "storage"},
            {"Key": "empty", "Value": ""}]
    disk_id = create(call, DiskName="日志盘-1", Description="中文 description ~*'()!",
                     Tag=tags, ResourceGroupId="rg-acfmexample01", MultiAttach="Enabled",
                     PerformanceLevel="PL0", Size=1)
    disk = one_disk(call, disk_id)
    got = {t["TagKey"]: t["TagValue"] for t in disk["Tags"]["Tag"]}
    assert got == {"env": "test", "team": "storage", "empty": ""}, disk["Tags"]
    assert (disk["DiskName"], disk["Description"], disk["ResourceGroupId"],
            disk["MultiAttach"], disk["PerformanceLevel"], disk["Size"]) == (
        "日志盘-1", "中文 description ~*'()!", "rg-acfmexample01", "Enabled", "PL0", 1), disk
    # PL0: min(1800 + 12 x size, 10000) / min(100 + 0.25 x size, 180), rounded down
    assert (disk["IOPS"], disk["Throughput"]) == (1812, 100), disk


@pytest.mark.parametrize("creds,params,expected", [
    # default off
    ("default", {}, (False, "")),
    ("default", {"Encrypted": False}, (False, "")),
    ("default", {"Encrypted": True}, (True, "service")),
    ("default", {"Encrypted": True, "KMSKeyId": KEY_HZ}, (True, KEY_HZ)),
    ("default", {"Encrypted": True, "KMSKeyId": "alias/demo"}, (True, KEY_HZ)),
    ("default", {"Encrypted": True, "KMSKeyId": KEY_HZ_ARN}, (True, KEY_HZ)),
    # default on with a configured key
    ("encryption-on", {}, (True, "key-hzz1configured0000001")),
    ("encryption-on", {"Encrypted": True}, (True, "key-hzz1configured0000001")),
    ("encryption-on", {"KMSKeyId": KEY_HZ}, None),  # another account's key: not found
], ids=["off-absent", "off-false", "off-true", "off-true-key", "off-true-alias", "off-true-arn",
        "on-absent", "on-true", "on-foreign-key"])
def test_which_key_encrypts_the_disk(sdk, creds, params, expected):
    call = Recorder(sdk, creds)
    if expected is None:
        assert_api_error(expect_error(sdk, "CreateDisk", {**ESSD, **params}, creds), ECS_API,
                         404, "InvalidParameter.KMSKeyId.NotFound",
                         "The specified KMSKeyId does not exist.")
        return
    disk = one_disk(call, create(call, **params))
    encrypted, key = expected
    if key == "service":
        key = call("DescribeDiskDefaultKMSKeyId", **R)["KMSKeyId"]
        assert key.startswith("key-") and key != KEY_HZ
    assert (disk["Encrypted"], disk["KMSKeyId"]) == (encrypted, key), disk


def test_an_explicit_key_wins_over_the_default(sdk):
    call = Recorder(sdk, "encryption-on")
    key = "key-hzz1configured0000001"
    # on, absent, K -> K (choice); here K is the account's only key, so give it by alias
    disk = one_disk(call, create(call, KMSKeyId="alias/configured"))
    assert (disk["Encrypted"], disk["KMSKeyId"]) == (True, key)
    # later changes to the default never change an existing disk
    call("DisableDiskEncryptionByDefault", **R)
    assert one_disk(call, disk["DiskId"])["KMSKeyId"] == key
    plain = one_disk(call, create(call))
    assert (plain["Encrypted"], plain["KMSKeyId"]) == (False, "")


# --------------------------------------------------------------------------- paging
def _fifteen(call):
    ids = [create(call, DiskName=f"disk-{n:02d}") for n in range(15)]
    assert len(set(ids)) == 15
    return ids


def _newest_first(disks):
    keys = [(d["CreationTime"], d["DiskId"]) for d in disks]
    assert keys == sorted(keys, reverse=True), keys


def test_paging_by_page_number(sdk):
    call = Recorder(sdk)
    ids = _fifteen(call)
    seen = []
    for page, size in [(1, 10), (2, 10)]:
        body = call("DescribeDisks", PageNumber=page, PageSize=size, **R)
        assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (15, page, size)
        assert len(body["Disks"]["Disk"]) == (10 if page == 1 else 5)
        seen += body["Disks"]["Disk"]
    assert sorted(d["DiskId"] for d in seen) == sorted(ids)
    _newest_first(seen)
    # the default page is 10 disks
    body = call("DescribeDisks", **R)
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (15, 1, 10)
    assert [d["DiskId"] for d in body["Disks"]["Disk"]] == [d["DiskId"] for d in seen[:10]]
    body = call("DescribeDisks", PageNumber=4, PageSize=4, **R)
    assert [d["DiskId"] for d in body["Disks"]["Disk"]] == [d["DiskId"] for d in seen[12:]]


def test_paging_by_next_token(sdk):
    call = Recorder(sdk)
    ids = _fifteen(call)
    body = call("DescribeDisks", MaxResults=5, **R)  # below 10 counts as 10
    assert body["TotalCount"] == 15
    first = body["Disks"]["Disk"]
    assert len(first) == 10
    token = body["NextToken"]
    assert isinstance(token, str) and token, body
    # with NextToken the page fields are ignored
    body = call("DescribeDisks", MaxResults=10, NextToken=token, PageNumber=7, **R)
    rest = body["Disks"]["Disk"]
    assert (len(rest), body["NextToken"], body["TotalCount"]) == (5, "", 15), body
    assert sorted(d["DiskId"] for d in first + rest) == sorted(ids)
    _newest_first(first + rest)
    body = call("DescribeDisks", MaxResults=500, **R)
    assert (len(body["Disks"]["Disk"]), body["NextToken"]) == (15, "")


# --------------------------------------------------------------------------- idempotency
def test_client_token_answers_the_same_disk(sdk):
    call = Recorder(sdk)
    params = dict(ClientToken="idem-token-0001", Encrypted=True, DiskName="idem",
                  Tag=[{"Key": "env", "Value": "test"}])
    disk_id = create(call, **params)
    assert create(call, **params) == disk_id
    assert [d["DiskId"] for d in describe(call)] == [disk_id]
    # the same token with other parameters
    assert_api_error(expect_error(sdk, "CreateDisk", {**ESSD, **params, "Size": 41}), ECS_API,
                     403, "IdempotentParameterMismatch", "The specified clientToken is used.")
    # another token: another disk
    assert create(call, **{**params, "ClientToken": "idem-token-0002"}) != disk_id
    assert len(describe(call)) == 2


def test_client_token_is_the_same_across_python_sdks(flavours):
    """Both families send the same decoded parameters (bools as True/False), so a token used by
    one answers the same disk to the other; OwnerId-style extras do not count."""
    params = {**ESSD, "ClientToken": "cross-sdk-token", "Encrypted": True}
    ids = {name: Recorder(sdk)("CreateDisk", **params)["DiskId"] for name, sdk in flavours.items()}
    assert len(set(ids.values())) == 1, ids
    again = Recorder(flavours["py-tea-v3"])("CreateDisk", **params, OwnerAccount="someone")
    assert again["DiskId"] == ids["py-tea-v3"]
    # py-core sends whatever string it is given: "true" (as Node sends it) decodes to the same
    # value as the "True" the Python SDKs sent, so it is the same request
    lower = Recorder(flavours["py-core"])("CreateDisk", **{**params, "Encrypted": "true"})
    assert lower["DiskId"] == ids["py-tea-v3"]
    assert len(describe(Recorder(flavours["py-core"]))) == 1


# --------------------------------------------------------------------------- filters
def test_describe_filters(sdk):
    call = Recorder(sdk)
    plain = create(call, ZoneId="cn-hangzhou-i", DiskCategory="cloud_efficiency", Size=20,
                   Tag=[{"Key": "env", "Value": "dev"}])
    keyed = create(call, Encrypted=True, KMSKeyId=KEY_HZ, DiskName="keyed",
                   Tag=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "a"}])
    service = create(call, Encrypted=True, ZoneId="cn-hangzhou-k", DiskCategory="cloud_auto",
                     Size=30)
    sh = Recorder(sdk)("CreateDisk", RegionId="cn-shanghai", ZoneId="cn-shanghai-e",
                       DiskCategory="cloud_ssd", Size=20)["DiskId"]

    created = {d["DiskId"]: d["CreationTime"] for d in describe(call)}
    created.update({d["DiskId"]: d["CreationTime"] for d in describe(call, region="cn-shanghai")})

    def ids(**params):
        got = [d["DiskId"] for d in describe(call, **params)]
        # newest first: creation time descending, then disk id descending (the disks may share
        # a second), so the expectations below are sets
        assert got == sorted(got, key=lambda i: (created[i], i), reverse=True), got
        return got

    assert set(ids()) == {service, keyed, plain}
    assert set(ids(region="cn-shanghai")) == {sh}
    assert set(ids(ZoneId="cn-hangzhou-i")) == {plain}
    assert set(ids(Category="cloud_efficiency")) == {plain}
    assert set(ids(Category="all")) == {service, keyed, plain}
    assert set(ids(Encrypted=True)) == {service, keyed}
    assert set(ids(Encrypted=False)) == {plain}
    assert set(ids(KMSKeyId=KEY_HZ)) == {keyed}
    assert set(ids(DiskName="keyed")) == {keyed}
    assert set(ids(DiskType="data", Status="Available")) == {service, keyed, plain}
    assert ids(DiskType="system") == []
    assert ids(Status="In_use") == []
    assert set(ids(Portable=True, DeleteWithInstance=False)) == {service, keyed, plain}
    assert ids(InstanceId="i-bp1doesnotexist000001") == []
    assert set(ids(Tag=[{"Key": "env", "Value": "test"}])) == {keyed}
    assert set(ids(Tag=[{"Key": "env"}])) == {keyed, plain}  # a key alone matches any value
    assert ids(Tag=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "b"}]) == []
    # DiskIds: a JSON array string; unknown ids are simply not found; [] finds nothing
    assert set(ids(DiskIds=json.dumps([plain, "d-bp1doesnotexist00001", sh]))) == {plain}
    assert ids(DiskIds="[]") == []
    body = call("DescribeDisks", DiskIds="[]", **R)
    assert (body["TotalCount"], body["Disks"]["Disk"]) == (0, [])


def test_modify_several_disks_by_disk_ids(sdk):
    """DiskIds.N: the tea models take a list, py-core's set_DiskIdss sends DiskIds.1, .2."""
    call = Recorder(sdk)
    a, b, c = create(call), create(call), create(call)
    call("ModifyDiskAttribute", DiskIds=[a, b], DeleteAutoSnapshot=True, Description="pair",
         **R)
    by_id = {d["DiskId"]: d for d in describe(call)}
    assert [(by_id[x]["DeleteAutoSnapshot"], by_id[x]["Description"]) for x in (a, b, c)] == [
        (True, "pair"), (True, "pair"), (False, "")]


def test_delete_and_resize_find_the_disk_in_its_own_region(sdk):
    """DeleteDisk and ResizeDisk carry no RegionId in the SDK models (py-core still adds its
    client region): the disk's own region applies."""
    call = Recorder(sdk)
    sh = call("CreateDisk", RegionId="cn-shanghai", ZoneId="cn-shanghai-f",
              DiskCategory="cloud_ssd", Size=20)["DiskId"]
    call("ResizeDisk", DiskId=sh, NewSize=64)
    assert one_disk(call, sh, region="cn-shanghai")["Size"] == 64
    call("DeleteDisk", DiskId=sh)
    assert describe(call, sh, region="cn-shanghai") == []


def test_a_ram_reader_may_describe_but_not_create(sdk):
    admin = Recorder(sdk, "ram-ecs-admin")
    disk_id = admin("CreateDisk", **ESSD)["DiskId"]
    reader = Recorder(sdk, "ram-ecs-reader")
    assert [d["DiskId"] for d in describe(reader)] == [disk_id]
    err = expect_error(sdk, "CreateDisk", ESSD, "ram-ecs-reader")
    assert_api_error(err, ECS_API, 403, "Forbidden.RAM",
                     "User not authorized to operate on the specified resource, or this API "
                     "doesn't support RAM.", auth_action="ecs:CreateDisk",
                     auth_user="ecs-reader")


# --------------------------------------------------------------------------- errors
DISK_CASES = [pytest.param(c, id=c["id"]) for c in ECS_CASES["disks"]]
# actions whose SDK models carry RegionId (DeleteDisk and ResizeDisk have none)
REGIONAL = {"CreateDisk", "DescribeDisks", "ModifyDiskAttribute"}


def substitute(value, names: dict):
    """The case's "$name" placeholders (inside strings too) replaced by setup results."""
    if isinstance(value, str):
        for name, v in names.items():
            value = value.replace(f"${name}", v)
        return value
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    return value


def prepare(emulator, sdk, case) -> dict:
    """The case's state: disks patched into the default account, then its setup calls."""
    if "stateDisks" in case:
        status, body = emulator.admin("PATCH", f"/_emulator/accounts/{DEFAULT_ACCOUNT_ID}",
                                      {"disks": case["stateDisks"]})
        assert status == 200, body
    names = {}
    for step in case.get("setup", []):
        body = Recorder(sdk, step.get("creds", "default"))(
            step["action"], **substitute(step["params"], names))
        if "as" in step:
            names[step["as"]] = body["DiskId"]
    return names


@pytest.mark.parametrize("case", DISK_CASES)
def test_documented_disk_error(sdk, emulator, case):
    names = prepare(emulator, sdk, case)
    params = substitute(case["params"], names)
    kwargs = {}
    if sdk.name == "py-core" and "RegionId" not in params and case["action"] in REGIONAL:
        # py-core always adds RegionId=<client region>; an empty one sends "RegionId=",
        # which counts as absent (as in test_errors.py)
        kwargs["client_region"] = ""
    before = describe(Recorder(sdk))
    err = expect_error(sdk, case["action"], params, case["creds"], **kwargs)
    assert_api_error(err, ECS_API, case["status"], case["code"], case["message"])
    # nothing changed in the default account's region
    assert describe(Recorder(sdk)) == before


def test_disk_error_table_covers_every_documented_code():
    codes = {c["code"] for c in ECS_CASES["disks"]}
    assert codes >= {
        "MissingParameter", "InvalidParameter", "InvalidDiskCategory.ValueNotSupported",
        "InvalidPerformanceLevel.Malformed", "InvalidDiskName.Malformed",
        "InvalidDescription.Malformed", "InvalidTagKey.Malformed", "InvalidTagValue.Malformed",
        "Duplicate.TagKey", "InvalidTagCount", "InvalidParameter.MultiAttach",
        "InvalidParameter.EncryptedIllegal", "InvalidParam.ZoneIdAndInstanceId.Conflict",
        "InvalidInstanceId.NotFound", "InvalidSnapshotId.NotFound", "InvalidRegionId.NotFound",
        "InvalidZoneId.NotFound", "InvalidDataDiskCategory.NotSupported",
        "InvalidDataDiskSize.ValueNotSupported", "OperationDenied.PerformanceLevelNotMatch",
        "IdempotentParameterMismatch", "InvalidEncrypted.NotMatchDiskDefaultEncryption",
        "InvalidParameter.KmsNotEnabled", "InvalidParameter.KMSKeyId.NotFound",
        "InvalidParameter.KMSKeyId.KMSUnauthorized", "InvalidParameter.KMSKeyId.CMKNotEnabled",
        "InvalidParameter.DiskIds", "InvalidDiskIds.Malformed",
        "InvalidDiskType.ValueNotSupported", "InvalidCategory.ValueNotSupported",
        "InvalidStatus.ValueNotSupported", "InvalidDiskId.NotFound", "IncorrectDiskStatus",
        "ParameterConflict.DiskIdAndDiskIds", "MissingParameter.DiskIdOrDiskIds",
        "NoAttributeToModify", "InvalidDiskSize.TooSmall", "InvalidDiskSize.TooLarge",
    }, codes


# --------------------------------------------------------------------------- XML (py-core)
def core_xml(core, action: str, params: dict, creds: str = "default"):
    """py-core with request.set_accept_format('XML') (it sends Format=XML): (status, headers,
    body bytes, exception). do_action_with_exception would force JSON; this is what do_action
    calls, with the status and headers kept."""
    import importlib

    mod = importlib.import_module(f"{ECS_API.core_package}.{action}Request")
    req = getattr(mod, f"{action}Request")()
    req.set_endpoint(core.endpoint)
    req.set_protocol_type("http")
    req.set_accept_format("XML")
    for k, v in params.items():  # as CoreFlavour.call does
        setter = getattr(req, f"set_{k}s" if isinstance(v, list) else f"set_{k}", None)
        if setter is not None:
            setter(v)
        else:
            req.add_query_param(k, v)
    assert req.get_accept_format() == "XML"  # signed in as Format=XML when sent
    status, headers, body, exc = core.client(creds)._implementation_of_do_action(req)
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["content-type"] == "text/xml;charset=utf-8", headers
    return status, headers, body, exc


def test_xml_describe_disks_through_py_core(flavours):
    core = flavours["py-core"]
    call = Recorder(core)
    call("EnableDiskEncryptionByDefault", **R)
    call("ModifyDiskDefaultKMSKeyId", KMSKeyId=KEY_HZ, **R)
    disk_id = create(call, Tag=[{"Key": "env", "Value": "test"}])
    status, headers, body, exc = core_xml(core, "DescribeDisks",
                                          {"DiskIds": json.dumps([disk_id])})
    assert (status, exc) == (200, None), body
    root = ET.fromstring(body)
    assert root.tag == "DescribeDisksResponse", body
    assert root.findtext("RequestId") == headers["x-acs-request-id"]
    assert UUID_RE.match(root.findtext("RequestId"))
    assert (root.findtext("TotalCount"), root.findtext("PageNumber"),
            root.findtext("PageSize"), root.findtext("NextToken")) == ("1", "1", "10", "")
    disks = root.findall("./Disks/Disk")
    assert len(disks) == 1, body
    disk = disks[0]
    for name in DISK_FIELDS:
        assert disk.find(name) is not None, (name, body)
    assert (disk.findtext("DiskId"), disk.findtext("Encrypted"), disk.findtext("KMSKeyId"),
            disk.findtext("Size"), disk.findtext("Portable"), disk.findtext("InstanceId")) == (
        disk_id, "true", KEY_HZ, "40", "true", "")
    assert [(t.findtext("TagKey"), t.findtext("TagValue"))
            for t in disk.findall("./Tags/Tag")] == [("env", "test")]
    assert list(disk.find("Attachments")) == []
    # the JSON answer holds the same disk
    assert one_disk(call, disk_id)["SerialNumber"] == disk.findtext("SerialNumber")


def test_xml_error_through_py_core(flavours):
    """py-core does not parse XML errors: SDK.UnknownServerError with the raw body (WIRE.md)."""
    status, headers, body, exc = core_xml(flavours["py-core"], "DeleteDisk",
                                          {"DiskId": "d-bp1doesnotexist00001"})
    assert status == 404
    assert exc is not None
    assert (exc.get_error_code(), exc.get_http_status()) == ("SDK.UnknownServerError", 404)
    assert exc.get_error_msg() == f"ServerResponseBody: {body.decode()}"
    root = ET.fromstring(body)
    assert root.tag == "Error"
    rid = root.findtext("RequestId")
    assert UUID_RE.match(rid) and rid == headers["x-acs-request-id"]
    assert {c.tag: c.text for c in root} == {
        "RequestId": rid, "HostId": "ecs.aliyuncs.com", "Code": "InvalidDiskId.NotFound",
        "Message": "The specified disk does not exist.",
        "Recommend": "https://api.aliyun.com/troubleshoot"
                     f"?q=InvalidDiskId.NotFound&product=Ecs&requestId={rid}"}


def test_xml_create_disk_error_through_py_core(flavours):
    status, _, body, exc = core_xml(flavours["py-core"], "CreateDisk",
                                    {**ESSD, "Encrypted": False}, "encryption-on")
    assert (status, exc.get_http_status()) == (403, 403)
    root = ET.fromstring(body)
    assert (root.tag, root.findtext("Code"), root.findtext("Message")) == (
        "Error", "InvalidEncrypted.NotMatchDiskDefaultEncryption",
        "Enabling disk default encryption prevents the creation of non-encrypted disks.")

