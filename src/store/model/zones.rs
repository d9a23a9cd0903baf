//! Zones and the disk categories they offer (`disks.md` §2, §3.1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

string_newtype!(
    /// A zone id such as `cn-hangzhou-h`, unique in the state document.
    ZoneId
);

/// A zone of a region, and the disk categories it offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Zone {
    pub zone_id: ZoneId,
    /// Names by language tag (`en-US`, `zh-CN`, `ja`).
    #[serde(default)]
    pub local_name: BTreeMap<String, String>,
    #[serde(default)]
    pub disk_categories: Vec<DiskCategory>,
}

impl Zone {
    /// The name in `language`, falling back to English, then to the id.
    pub fn local_name(&self, language: &str) -> &str {
        super::name_in(&self.local_name, language, self.zone_id.as_str())
    }
}

/// A cloud disk category, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskCategory {
    Cloud,
    CloudEfficiency,
    CloudSsd,
    CloudEssd,
    CloudAuto,
    CloudEssdEntry,
}

impl DiskCategory {
    pub const ALL: [DiskCategory; 6] = [
        DiskCategory::Cloud,
        DiskCategory::CloudEfficiency,
        DiskCategory::CloudSsd,
        DiskCategory::CloudEssd,
        DiskCategory::CloudAuto,
        DiskCategory::CloudEssdEntry,
    ];

    /// The name on the wire (`cloud_essd`).
    pub fn wire(self) -> &'static str {
        match self {
            DiskCategory::Cloud => "cloud",
            DiskCategory::CloudEfficiency => "cloud_efficiency",
            DiskCategory::CloudSsd => "cloud_ssd",
            DiskCategory::CloudEssd => "cloud_essd",
            DiskCategory::CloudAuto => "cloud_auto",
            DiskCategory::CloudEssdEntry => "cloud_essd_entry",
        }
    }

    /// The category a wire name names.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.wire() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::DiskCategory;

    #[test]
    fn categories_read_and_write_their_wire_names() {
        for category in DiskCategory::ALL {
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.wire()));
            assert_eq!(DiskCategory::from_wire(category.wire()), Some(category));
            assert_eq!(
                serde_json::from_str::<DiskCategory>(&json).unwrap(),
                category
            );
        }
        assert_eq!(DiskCategory::from_wire("cloud_hdd"), None);
    }
}
