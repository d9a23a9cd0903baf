//! Zones (`disks.md` §2): the default fixture's zones, `DescribeZones` (exact bodies, every
//! check and their order) and zones in state documents.

use crate::support::{ALL_CATEGORIES, DEFAULT_AK, Harness, assert_error, assert_ok};
use axum::http::Method;
use serde_json::{Value, json};

async fn zones(harness: &Harness, params: &[(&str, &str)]) -> Vec<Value> {
    let answer = harness.ecs(DEFAULT_AK, "DescribeZones", params).await;
    assert_ok(&answer);
    answer.json()["Zones"]["Zone"].as_array().unwrap().clone()
}

fn ids(zones: &[Value]) -> Vec<&str> {
    zones
        .iter()
        .map(|z| z["ZoneId"].as_str().unwrap())
        .collect()
}

/// The default fixture's zones, as `disks.md` §2 gives them.
#[tokio::test]
async fn the_default_fixture_has_the_documented_zones() {
    let harness = Harness::default_fixture();
    let hangzhou = zones(&harness, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(
        ids(&hangzhou),
        [
            "cn-hangzhou-h",
            "cn-hangzhou-i",
            "cn-hangzhou-j",
            "cn-hangzhou-k"
        ]
    );
    for zone in &hangzhou[..3] {
        assert_eq!(
            zone["AvailableDiskCategories"]["DiskCategories"],
            json!(ALL_CATEGORIES)
        );
    }
    assert_eq!(
        hangzhou[3]["AvailableDiskCategories"]["DiskCategories"],
        json!(["cloud_essd", "cloud_auto"])
    );
    let shanghai = zones(&harness, &[("RegionId", "cn-shanghai")]).await;
    assert_eq!(
        ids(&shanghai),
        ["cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"]
    );
    for (region, expected) in [
        ("us-west-1", ["us-west-1a", "us-west-1b"]),
        ("ap-southeast-1", ["ap-southeast-1a", "ap-southeast-1b"]),
        ("cn-qingdao", ["cn-qingdao-a", "cn-qingdao-b"]),
        ("me-central-1", ["me-central-1a", "me-central-1b"]),
    ] {
        let listed = zones(&harness, &[("RegionId", region)]).await;
        assert_eq!(ids(&listed), expected, "{region}");
        for zone in &listed {
            assert_eq!(
                zone["AvailableDiskCategories"]["DiskCategories"],
                json!(ALL_CATEGORIES)
            );
        }
    }
    // Every region of the catalogue has zones.
    let (_, state) = harness.admin(Method::GET, "/_emulator/state", None).await;
    for region in state["regions"].as_array().unwrap() {
        assert!(
            region["zones"].as_array().is_some_and(|z| z.len() >= 2),
            "{region}"
        );
    }
}

#[tokio::test]
async fn describe_zones_answers_the_documented_shape() {
    let harness = Harness::default_fixture();
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "DescribeZones",
            &[("RegionId", "cn-hangzhou"), ("AcceptLanguage", "en-US")],
        )
        .await;
    assert_ok(&answer);
    let body = answer.json();
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(
        body["Zones"]["Zone"][0],
        json!({
            "ZoneId": "cn-hangzhou-h",
            "ZoneType": "AvailabilityZone",
            "LocalName": "Hangzhou Zone H",
            "AvailableResourceCreation": {"ResourceTypes": ["Instance", "Disk", "VSwitch", "IoOptimized"]},
            "AvailableDiskCategories": {"DiskCategories": ALL_CATEGORIES},
            "AvailableInstanceTypes": {"InstanceTypes": []},
            "AvailableVolumeCategories": {"VolumeCategories": []},
        })
    );
    // zh-CN by default; ja falls back to English; Verbose=false (as Python sends it) keeps
    // only the id, type and name.
    let default = zones(&harness, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(default[0]["LocalName"], "华东 1 可用区 H");
    let ja = zones(
        &harness,
        &[("RegionId", "cn-hangzhou"), ("AcceptLanguage", "ja")],
    )
    .await;
    assert_eq!(ja[0]["LocalName"], "Hangzhou Zone H");
    for verbose in ["false", "False"] {
        let brief = zones(
            &harness,
            &[("RegionId", "cn-shanghai"), ("Verbose", verbose)],
        )
        .await;
        assert_eq!(
            brief[0],
            json!({"ZoneId": "cn-shanghai-e", "ZoneType": "AvailabilityZone", "LocalName": "华东 2 可用区 E"})
        );
    }
    for (name, value) in [
        ("InstanceChargeType", "PrePaid"),
        ("SpotStrategy", "SpotAsPriceGo"),
        ("Verbose", "True"),
    ] {
        let listed = zones(&harness, &[("RegionId", "cn-shanghai"), (name, value)]).await;
        assert_eq!(listed.len(), 3, "{name}={value}");
    }
    // XML: lists as repeated elements.
    let xml = harness
        .get("Version=2014-05-26&Action=DescribeZones&RegionId=cn-hangzhou&AcceptLanguage=en-US&AccessKeyId=LTAI5tTestAccessKey01")
        .await;
    assert_eq!(xml.status, 200, "{}", xml.text);
    assert!(
        xml.text.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeZonesResponse><RequestId>"
        ),
        "{}",
        xml.text
    );
    assert!(xml.text.contains("<Zones><Zone><ZoneId>cn-hangzhou-h</ZoneId><ZoneType>AvailabilityZone</ZoneType><LocalName>Hangzhou Zone H</LocalName><AvailableResourceCreation><ResourceTypes>Instance</ResourceTypes><ResourceTypes>Disk</ResourceTypes>"), "{}", xml.text);
    assert!(
        xml.text
            .contains("<DiskCategories>cloud_essd</DiskCategories><DiskCategories>cloud_auto</DiskCategories></AvailableDiskCategories>"),
        "{}",
        xml.text
    );
    assert_eq!(xml.text.matches("<Zone>").count(), 4);
}

/// Parameters, and the status, code and message they get.
type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);

/// Each check of `DescribeZones`, and which wins when two fail.
#[tokio::test]
async fn describe_zones_checks_in_order() {
    let harness = Harness::default_fixture();
    let cases: [Case; 7] = [
        (
            &[],
            400,
            "MissingParameter",
            "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied.",
        ),
        (
            &[("RegionId", "cn-atlantis")],
            404,
            "InvalidRegionId.NotFound",
            "The specified RegionId does not exist.",
        ),
        (
            &[("RegionId", "cn-atlantis"), ("AcceptLanguage", "fr-FR")],
            404,
            "InvalidAcceptLanguage.NotFound",
            "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.",
        ),
        (
            &[("RegionId", "cn-hangzhou"), ("InstanceChargeType", "Spot")],
            404,
            "InvalidInstanceChargeType.NotFound",
            "The InstanceChargeType does not exist in our records.",
        ),
        (
            &[("RegionId", "cn-atlantis"), ("SpotStrategy", "Cheap")],
            400,
            "InvalidSpotStrategy",
            "The specified SpotStrategy is not valid.",
        ),
        (
            &[("RegionId", "cn-hangzhou"), ("Verbose", "yes")],
            400,
            "InvalidParameter",
            "The specified parameter \"Verbose\" is not valid.",
        ),
        (
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceChargeType", "Spot"),
                ("SpotStrategy", "Cheap"),
            ],
            404,
            "InvalidInstanceChargeType.NotFound",
            "The InstanceChargeType does not exist in our records.",
        ),
    ];
    for (params, status, code, message) in cases {
        let answer = harness.ecs(DEFAULT_AK, "DescribeZones", params).await;
        assert_error(&answer, status, code, message);
    }
}

/// Any caller with a valid key may call it, a RAM user with no policy included.
#[tokio::test]
async fn every_caller_may_describe_zones() {
    let harness = Harness::default_fixture();
    for user in ["LTAI5tDemoRamNoPolicy", "LTAI5tDemoRamEcsReader"] {
        let answer = harness
            .ecs(user, "DescribeZones", &[("RegionId", "cn-hangzhou")])
            .await;
        assert_ok(&answer);
    }
}

/// Zones in state documents: unique ids in the whole catalogue, known categories, each once;
/// a region without zones lists none.
#[tokio::test]
async fn zones_in_state_documents_are_validated() {
    let harness = Harness::default_fixture();
    let document = |zones: Value| {
        json!({"regions": [
            {"regionId": "r-1", "zones": zones},
            {"regionId": "r-2", "zones": [{"zoneId": "r-2a"}]},
        ]})
        .to_string()
    };
    for (zones, expected) in [
        (
            json!([{"zoneId": "r-2a"}]),
            "regions[1].zones[0].zoneId: duplicate zone \"r-2a\"",
        ),
        (
            json!([{"zoneId": "r-1a", "diskCategories": ["cloud_hdd"]}]),
            "regions[0].zones[0].diskCategories[0]: unknown variant `cloud_hdd`",
        ),
        (
            json!([{"zoneId": "r-1a", "diskCategories": ["cloud", "cloud"]}]),
            "regions[0].zones[0].diskCategories[1]: \"cloud\" is listed twice",
        ),
        (
            json!([{"zoneId": "r 1"}]),
            "regions[0].zones[0].zoneId: \"r 1\" contains ' '",
        ),
        (
            json!([{"zoneId": "r-1a", "colour": "red"}]),
            "regions[0].zones[0].colour: unknown field `colour`",
        ),
    ] {
        let (status, error) = harness
            .admin(Method::PUT, "/_emulator/state", Some(&document(zones)))
            .await;
        assert_eq!(status, 400, "{error}");
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    // A region patched to a zone another region has is refused; the catalogue is unchanged.
    let (status, error) = harness
        .admin(
            Method::PATCH,
            "/_emulator/regions/cn-shanghai",
            Some(r#"{"zones": [{"zoneId": "cn-hangzhou-h"}]}"#),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(error["error"].as_str().unwrap().contains("duplicate zone"));
    assert_eq!(
        zones(&harness, &[("RegionId", "cn-shanghai")]).await.len(),
        3
    );
    let empty = json!({"regions": [{"regionId": "r-1"}], "accounts": [
        {"accountId": "1", "accessKeys": [{"accessKeyId": "AK1", "accessKeySecret": "s"}]}]});
    let harness = Harness::with_document(&empty.to_string());
    let answer = harness
        .ecs("AK1", "DescribeZones", &[("RegionId", "r-1")])
        .await;
    assert_ok(&answer);
    assert_eq!(answer.json()["Zones"]["Zone"], json!([]));
}
