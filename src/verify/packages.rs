//! The OS packages installed in an image, read from its package database, and the difference
//! between two images.

use std::collections::BTreeSet;

use serde::Serialize;

use super::tarfs::Listing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Dpkg,
    Apk,
    Rpm,
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Apk => "apk",
            Manager::Rpm => "rpm",
        }
    }
}

/// The packages of one image (names only: versions do not change between the two builds here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    pub manager: Option<Manager>,
    pub names: BTreeSet<String>,
}

/// The packages found in the databases the listing kept. An rpm database cannot be read from the
/// file list: `Installed::manager` is `Some(Rpm)` only when the caller lists them (`rpm -qa`).
pub fn from_listing(listing: &Listing) -> Installed {
    let mut installed = Installed::default();
    for (path, text) in &listing.databases {
        if path == "lib/apk/db/installed" {
            installed.manager = Some(Manager::Apk);
            installed.names.extend(apk_installed(text));
        } else {
            installed.manager = Some(Manager::Dpkg);
            installed.names.extend(dpkg_status(text));
        }
    }
    installed
}

/// Packages from a dpkg `status` file (or a distroless `status.d/` stanza): those whose `Status`
/// says installed; a stanza without a `Status` field (distroless) counts as installed.
pub fn dpkg_status(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut installed = true;
        for line in stanza.lines() {
            if let Some(value) = line.strip_prefix("Package:") {
                name = Some(value.trim().to_string());
            } else if let Some(value) = line.strip_prefix("Status:") {
                installed = value.split_whitespace().last() == Some("installed");
            }
        }
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            if installed {
                names.push(name);
            }
        }
    }
    names
}

/// Packages from apk's `lib/apk/db/installed`: one `P:` line per package.
pub fn apk_installed(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("P:"))
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// `rpm -qa --qf '%{NAME}\n'` output.
pub fn rpm_names(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(' '))
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    /// `None` when neither image has a package database.
    pub manager: Option<Manager>,
    pub before: usize,
    pub after: usize,
    /// Sorted by name.
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

pub fn diff(before: &Installed, after: &Installed) -> PackageDiff {
    PackageDiff {
        manager: before.manager.or(after.manager),
        before: before.names.len(),
        after: after.names.len(),
        removed: before.names.difference(&after.names).cloned().collect(),
        added: after.names.difference(&before.names).cloned().collect(),
    }
}
