//! MITRE ATT&CK Enterprise data, embedded: tactics in matrix order, techniques and
//! sub-techniques, and the lookups rules need (Sentinel's tactic spellings, revoked ids).

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded data file (source and licence in `data/README.md`).
const ENTERPRISE_JSON: &str = include_str!("../../data/enterprise-attack.json");

/// The copyright line to show wherever ATT&CK names or ids are shown.
pub const ATTACK_COPYRIGHT: &str =
    "© 2025 The MITRE Corporation. This work is reproduced and distributed with the permission of The MITRE Corporation.";

/// One ATT&CK tactic.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tactic {
    /// `TA0006`.
    pub id: String,
    /// `credential-access` (the kill-chain phase name techniques refer to).
    pub shortname: String,
    /// `Credential Access`.
    pub name: String,
}

/// One technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Technique {
    /// `T1059` or `T1059.001`.
    pub id: String,
    /// `PowerShell`.
    pub name: String,
    /// Tactic shortnames (`execution`).
    pub tactics: Vec<String>,
    /// Platforms (`Windows`, `Linux`, …).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// No longer maintained by MITRE.
    #[serde(default)]
    pub deprecated: bool,
    /// Replaced by another technique.
    #[serde(default)]
    pub revoked: bool,
    /// The replacement of a revoked technique.
    #[serde(default)]
    pub revoked_by: Option<String>,
    /// The parent of a sub-technique.
    #[serde(default)]
    pub subtechnique_of: Option<String>,
    /// Data components that detect it (`Process Creation`, …).
    #[serde(default)]
    pub data_components: Vec<String>,
}

impl Technique {
    /// Neither revoked nor deprecated.
    pub fn is_active(&self) -> bool {
        !self.revoked && !self.deprecated
    }

    /// The technique's page on attack.mitre.org.
    pub fn url(&self) -> String {
        technique_url(&self.id)
    }
}

/// The page of a technique id on attack.mitre.org (`T1059.001` → `…/techniques/T1059/001/`).
pub fn technique_url(id: &str) -> String {
    match id.split_once('.') {
        Some((parent, sub)) => format!("https://attack.mitre.org/techniques/{parent}/{sub}/"),
        None => format!("https://attack.mitre.org/techniques/{id}/"),
    }
}

#[derive(Deserialize)]
struct AttackFile {
    version: String,
    tactics: Vec<Tactic>,
    techniques: Vec<Technique>,
}

/// The ATT&CK Enterprise matrix.
#[derive(Debug)]
pub struct Attack {
    /// The ATT&CK content version (`18.1`).
    pub version: String,
    tactics: Vec<Tactic>,
    techniques: Vec<Technique>,
    by_id: HashMap<String, usize>,
}

/// What a technique id in a rule refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TechniqueStatus<'a> {
    /// A live technique.
    Active(&'a Technique),
    /// Revoked; the replacement, when MITRE names one.
    Revoked(&'a Technique, Option<&'a Technique>),
    /// Deprecated without replacement.
    Deprecated(&'a Technique),
    /// Not an ATT&CK Enterprise id.
    Unknown,
}

impl Attack {
    /// The embedded ATT&CK data, parsed once.
    pub fn embedded() -> &'static Attack {
        static DATA: OnceLock<Attack> = OnceLock::new();
        DATA.get_or_init(|| {
            let file: AttackFile = serde_json::from_str(ENTERPRISE_JSON)
                .expect("the embedded ATT&CK file is valid (checked by a test)");
            let by_id = file
                .techniques
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect();
            Attack {
                version: file.version,
                tactics: file.tactics,
                techniques: file.techniques,
                by_id,
            }
        })
    }

    /// The 14 tactics in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Every technique entry, revoked and deprecated ones included, sorted by id.
    pub fn techniques(&self) -> &[Technique] {
        &self.techniques
    }

    /// The entry for an id (`T1059.001`, case-insensitive), whatever its status.
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        let id = id.trim().to_ascii_uppercase();
        self.by_id.get(&id).map(|&i| &self.techniques[i])
    }

    /// What an id refers to.
    pub fn resolve(&self, id: &str) -> TechniqueStatus<'_> {
        match self.technique(id) {
            None => TechniqueStatus::Unknown,
            Some(t) if t.revoked => {
                TechniqueStatus::Revoked(t, t.revoked_by.as_deref().and_then(|r| self.technique(r)))
            }
            Some(t) if t.deprecated => TechniqueStatus::Deprecated(t),
            Some(t) => TechniqueStatus::Active(t),
        }
    }

    /// The tactic a rule names, in any of the spellings found in rule repositories:
    /// `CredentialAccess`, `Credentialaccess`, `credential-access`, `Credential Access`, `TA0006`.
    pub fn tactic(&self, name: &str) -> Option<&Tactic> {
        let key = tactic_key(name);
        if key.is_empty() {
            return None;
        }
        self.tactics
            .iter()
            .find(|t| tactic_key(&t.shortname) == key || t.id.eq_ignore_ascii_case(name.trim()))
    }

    /// Active techniques (not sub-techniques) of a tactic, sorted by id.
    pub fn techniques_of_tactic<'a>(
        &'a self,
        shortname: &'a str,
    ) -> impl Iterator<Item = &'a Technique> + 'a {
        self.techniques.iter().filter(move |t| {
            t.is_active() && t.subtechnique_of.is_none() && t.tactics.iter().any(|s| s == shortname)
        })
    }
}

/// Lower-case letters only, so every spelling of a tactic compares equal.
fn tactic_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_loads_with_the_documented_counts() {
        let attack = Attack::embedded();
        assert_eq!(attack.version, "18.1");
        assert_eq!(attack.tactics().len(), 14);
        assert_eq!(attack.techniques().len(), 835);
        let active = attack.techniques().iter().filter(|t| t.is_active()).count();
        assert_eq!(active, 691);
    }

    #[test]
    fn sentinel_spellings_of_tactics_resolve() {
        let attack = Attack::embedded();
        for name in [
            "CredentialAccess",
            "Credentialaccess",
            "credential-access",
            "Credential Access",
            "TA0006",
        ] {
            assert_eq!(
                attack.tactic(name).map(|t| t.id.as_str()),
                Some("TA0006"),
                "{name}"
            );
        }
        assert!(attack.tactic("Ransomware").is_none());
    }

    #[test]
    fn revoked_ids_name_their_replacement() {
        let attack = Attack::embedded();
        match attack.resolve("t1002") {
            TechniqueStatus::Revoked(t, Some(by)) => {
                assert_eq!(t.id, "T1002");
                assert_eq!(by.id, "T1560");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(attack.resolve("T9999"), TechniqueStatus::Unknown));
        assert_eq!(
            technique_url("T1059.001"),
            "https://attack.mitre.org/techniques/T1059/001/"
        );
    }
}
