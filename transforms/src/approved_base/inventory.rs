//! The base-image inventory behind `dockopt bases`: which images the Dockerfiles start from, whether
//! the policy allows them and what they would become. Data and renderers only; the CLI prints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::reference::ImageRef;
use super::{analyse, Base, By, Site};
use crate::config::Config;
use crate::fix::Applicability;
use crate::model::Input;
use crate::syntax::Dockerfile;
use crate::{Context, Settings};

/// One FROM of one Dockerfile that names an image (stage references and `scratch` are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseUse {
    /// 1-based line of the FROM.
    pub line: usize,
    /// The stage's `AS` name.
    pub stage: Option<String>,
    /// The image word as written in the FROM (may hold `$VARIABLES`).
    pub written: String,
    /// The resolved reference in its familiar form (`python:3.12` for `docker.io/library/python:3.12`);
    /// `None` when a variable has no default.
    pub image: Option<String>,
    pub status: BaseStatus,
    /// What the policy would make of it (familiar form).
    pub becomes: Option<String>,
    pub by: Option<ReplacedBy>,
    /// The fix's applicability; `None` when there is no replacement or it is `blocked`.
    pub applicability: Option<Applicability>,
    /// Why the replacement is not offered as a fix.
    pub blocked: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaseStatus {
    Allowed,
    NotAllowed,
    /// A Windows image the policy does not name: left alone.
    WindowsNotChecked,
    /// Built from a variable without a default: cannot be checked.
    Unresolved,
}

impl BaseStatus {
    fn label(self) -> &'static str {
        match self {
            BaseStatus::Allowed => "allowed",
            BaseStatus::NotAllowed => "not allowed",
            BaseStatus::WindowsNotChecked => "windows, not checked",
            BaseStatus::Unresolved => "unresolved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplacedBy {
    /// A `[[base.replace]]` rule of the config.
    ReplaceRule,
    /// The built-in slim map.
    SlimMap,
}

/// The base images of one parsed Dockerfile under `config` (ARG defaults resolved).
pub fn inventory(file: &Dockerfile, config: &Config) -> Vec<BaseUse> {
    let context = Context::default();
    let settings = Settings { config: config.clone(), ..Settings::default() };
    let input = Input::new(file, &context, &settings);
    analyse(&input).iter().filter_map(base_use).collect()
}

fn base_use(site: &Site) -> Option<BaseUse> {
    let mut out = BaseUse {
        line: site.inst.start_line,
        stage: site.stage.name.clone(),
        written: site.written.clone(),
        image: None,
        status: BaseStatus::Unresolved,
        becomes: None,
        by: None,
        applicability: None,
        blocked: None,
    };
    match &site.base {
        Base::Scratch | Base::Stage => return None,
        Base::Unresolved { .. } | Base::Invalid { .. } => return Some(out),
        Base::Image { image, .. } => {
            out.image = Some(image.familiar());
            let decision = site.decision.as_ref()?;
            out.status = if decision.windows_left_alone {
                BaseStatus::WindowsNotChecked
            } else if decision.allowed {
                BaseStatus::Allowed
            } else {
                BaseStatus::NotAllowed
            };
            if let Some(proposal) = &decision.proposal {
                out.becomes = Some(ImageRef::parse(&proposal.to).map_or(proposal.to.clone(), |r| r.familiar()));
                out.by = Some(match proposal.by {
                    By::Rule { .. } => ReplacedBy::ReplaceRule,
                    By::SlimMap => ReplacedBy::SlimMap,
                });
                match &proposal.plan {
                    Ok(plan) => out.applicability = Some(plan.applicability),
                    Err(why) => out.blocked = Some(why.clone()),
                }
            }
        }
    }
    Some(out)
}

/// Base images over many Dockerfiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub dockerfiles: usize,
    /// Most used first.
    pub bases: Vec<InventoryEntry>,
    pub unresolved: Vec<UnresolvedBase>,
    /// Distinct resolved images in use.
    pub distinct_today: usize,
    /// Distinct images once the Safe fixes (the organisation's replace rules) are applied.
    pub distinct_after: usize,
    /// Distinct images once every offered fix (`--unsafe`, the slim map included) is applied.
    pub distinct_after_unsafe: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryEntry {
    /// Familiar form: `python:3.12`.
    pub image: String,
    /// How many Dockerfiles use it, and how many FROMs in all.
    pub dockerfiles: usize,
    pub uses: usize,
    /// The strictest status among its uses (`not-allowed` wins).
    pub status: BaseStatus,
    pub becomes: Option<String>,
    pub by: Option<ReplacedBy>,
    /// Of the fix, when at least one use gets one.
    pub applicability: Option<Applicability>,
    /// Why no use gets the replacement as a fix.
    pub blocked: Option<String>,
    /// How many of `uses` get the replacement as a fix (others are blocked, e.g. a stage that compiles).
    pub fixable_uses: usize,
    /// `path:line` of every use.
    pub used_at: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedBase {
    pub written: String,
    /// `path:line`.
    pub used_at: String,
}

impl Inventory {
    /// Build from each Dockerfile's path (as the CLI displays it) and its uses.
    pub fn build<P: AsRef<str>>(files: impl IntoIterator<Item = (P, Vec<BaseUse>)>) -> Inventory {
        let mut inventory = Inventory::default();
        let mut grouped: BTreeMap<String, Vec<(String, BaseUse)>> = BTreeMap::new();
        for (path, uses) in files {
            let path = path.as_ref();
            inventory.dockerfiles += 1;
            for base in uses {
                match &base.image {
                    Some(image) => grouped.entry(image.clone()).or_default().push((path.to_string(), base)),
                    None => inventory.unresolved.push(UnresolvedBase { written: base.written.clone(), used_at: format!("{path}:{}", base.line) }),
                }
            }
        }
        let (mut after, mut after_unsafe) = (BTreeSet::new(), BTreeSet::new());
        for (image, uses) in &grouped {
            for (_, base) in uses {
                let target = |ok: bool| if ok { base.becomes.clone().unwrap_or_else(|| image.clone()) } else { image.clone() };
                after.insert(target(base.applicability == Some(Applicability::Safe)));
                after_unsafe.insert(target(base.applicability.is_some()));
            }
        }
        inventory.distinct_today = grouped.len();
        inventory.distinct_after = after.len();
        inventory.distinct_after_unsafe = after_unsafe.len();
        inventory.bases = grouped.into_iter().map(|(image, uses)| entry(image, &uses)).collect();
        inventory.bases.sort_by(|a, b| b.uses.cmp(&a.uses).then_with(|| a.image.cmp(&b.image)));
        inventory
    }

    /// A table (counts first, so that long references do not push the columns apart), then the
    /// unresolved bases, then the counts.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let rows: Vec<[String; 4]> = self
            .bases
            .iter()
            .map(|e| {
                let image = match becomes_text(e) {
                    Some(becomes) => format!("{} -> {becomes}", e.image),
                    None => e.image.clone(),
                };
                [e.dockerfiles.to_string(), e.uses.to_string(), e.status.label().to_string(), image]
            })
            .collect();
        let header = ["DOCKERFILES", "USES", "POLICY", "IMAGE"].map(str::to_string);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let _ = writeln!(
                out,
                "{:>w0$}  {:>w1$}  {:<w2$}  {}",
                row[0], row[1], row[2], row[3],
                w0 = widths[0], w1 = widths[1], w2 = widths[2]
            );
        }
        if !self.unresolved.is_empty() {
            let _ = writeln!(out, "\nunresolved (a variable without a default: the image comes from --build-arg):");
            for u in &self.unresolved {
                let _ = writeln!(out, "  {}  {}", u.written, u.used_at);
            }
        }
        let _ = writeln!(
            out,
            "\n{} distinct base {} in {} {}; after the policy: {} (safe fixes), {} (with --unsafe)",
            self.distinct_today,
            if self.distinct_today == 1 { "image" } else { "images" },
            self.dockerfiles,
            if self.dockerfiles == 1 { "Dockerfile" } else { "Dockerfiles" },
            self.distinct_after,
            self.distinct_after_unsafe
        );
        out
    }

    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Whether some base is not allowed (for a CLI that wants to exit 1 on it).
    pub fn has_disallowed(&self) -> bool {
        self.bases.iter().any(|e| e.status == BaseStatus::NotAllowed)
    }
}

fn becomes_text(entry: &InventoryEntry) -> Option<String> {
    let becomes = entry.becomes.as_ref()?;
    let by = match entry.by {
        Some(ReplacedBy::ReplaceRule) => "replace rule",
        _ => "slim map",
    };
    let share = if entry.fixable_uses < entry.uses { format!("; {} of {} uses", entry.fixable_uses, entry.uses) } else { String::new() };
    Some(match entry.applicability {
        Some(Applicability::Safe) => format!("{becomes} ({by}, safe{share})"),
        Some(Applicability::Unsafe) => format!("{becomes} ({by}, unsafe{share})"),
        None => format!("{becomes} ({by}, blocked: see `dockopt check`)"),
    })
}

fn entry(image: String, uses: &[(String, BaseUse)]) -> InventoryEntry {
    let paths: BTreeSet<&str> = uses.iter().map(|(p, _)| p.as_str()).collect();
    let status = uses.iter().map(|(_, u)| u.status).min_by_key(|s| match s {
        BaseStatus::NotAllowed => 0,
        BaseStatus::Allowed => 1,
        _ => 2,
    });
    // The best replacement any use gets: Safe over Unsafe over blocked.
    let best = uses
        .iter()
        .filter(|(_, u)| u.becomes.is_some())
        .max_by_key(|(_, u)| match u.applicability {
            Some(Applicability::Safe) => 2,
            Some(Applicability::Unsafe) => 1,
            None => 0,
        })
        .map(|(_, u)| u);
    InventoryEntry {
        image,
        dockerfiles: paths.len(),
        uses: uses.len(),
        status: status.unwrap_or(BaseStatus::Allowed),
        becomes: best.and_then(|u| u.becomes.clone()),
        by: best.and_then(|u| u.by),
        applicability: best.and_then(|u| u.applicability),
        blocked: best.filter(|u| u.applicability.is_none()).and_then(|u| u.blocked.clone()),
        fixable_uses: uses.iter().filter(|(_, u)| u.becomes.is_some() && u.applicability.is_some()).count(),
        used_at: uses.iter().map(|(p, u)| format!("{p}:{}", u.line)).collect(),
    }
}
