#![doc = include_str!("../../docs/approved-base.md")]

mod inventory;
mod knowledge;
mod needs;

use std::collections::HashMap;
use std::ops::Range;

use crate::checks;
use crate::config::{BaseConfig, PinPolicy};
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::{Input, Model};
use crate::syntax::{self, split_words, variable_names, Instruction, Stage, Var};
use knowledge::{knowledge, Libc, SlimSwap};
use crate::model::reference::{self, glob_matches, ImageRef};

pub use inventory::{inventory, BaseStatus, BaseUse, Inventory, InventoryEntry, ReplacedBy, UnresolvedBase};

pub(crate) const DOC: &str = include_str!("../../docs/approved-base.md");

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    analyse(input).iter().flat_map(|site| findings(input, site)).collect()
}

/// A FROM instruction, what its image is, and what the policy says of it.
struct Site<'a> {
    stage: &'a Stage,
    inst: &'a Instruction,
    /// Source range of the image word: where findings point.
    range: Range<usize>,
    /// The image word as written (may contain variables).
    written: String,
    base: Base,
    /// What ships of the stage (`in_final_image`: its layers; `ships`: files copied from it too).
    shipped: &'a crate::model::Stage,
    decision: Option<Decision>,
}

enum Base {
    Scratch,
    /// `FROM build`: another stage of this file.
    Stage,
    /// Built from a variable without a value (`FROM $BASE` with `ARG BASE`).
    Unresolved { variable: String },
    /// Resolves to something that is not an image reference.
    Invalid { resolved: String },
    Image { image: ImageRef, origin: Origin },
}

/// Where the reference comes from, which decides how it can be rewritten.
#[derive(Debug, Clone)]
enum Origin {
    /// Written in the FROM; the word's source range when it can be edited (one line, no quotes).
    Literal(Option<Range<usize>>),
    /// The FROM word is `$NAME`/`${NAME}`: the default of a meta ARG (before the first FROM).
    Arg { name: String, line: usize, value: Option<Range<usize>> },
    /// `${NAME:-default}` with NAME unset: the default inside the FROM.
    FromDefault { name: String, value: Option<Range<usize>> },
    /// Literal text and variables together (`python:${PY_VERSION}`), as written.
    Composed(String),
}

struct Decision {
    /// Windows image the policy does not name: not checked.
    windows_left_alone: bool,
    allowed: bool,
    proposal: Option<Proposal>,
    /// (message, why)
    pin: Option<(String, String)>,
}

struct Proposal {
    /// The reference the FROM would name.
    to: String,
    by: By,
    /// The fix, or why none is offered.
    plan: Result<Plan, String>,
    /// The refusal is a slim swap the stage's needs rule out (rather than an edit dockopt cannot make).
    stage_needs_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum By {
    Rule { from: String },
    SlimMap,
}

struct Plan {
    applicability: Applicability,
    edits: Vec<Edit>,
    /// Said in the finding's `why`.
    notes: Vec<String>,
    /// Set when the edit rewrites an ARG default: every FROM that uses the ARG must agree.
    arg: Option<String>,
}

/// Classify every FROM and decide what the policy says of each.
fn analyse<'a>(input: &'a Input<'a>) -> Vec<Site<'a>> {
    let file = input.file;
    let config = &input.settings.config.base;
    let mut sites: Vec<Site<'a>> = file.stages.iter().map(|stage| classify(input, stage)).collect();

    let model = input.model();
    let names_windows = policy_names_windows(config);
    for (i, site) in sites.iter_mut().enumerate() {
        // Only an image's decision reads what runs on it.
        let lineage = match site.base {
            Base::Image { .. } => lineage_instructions(file, model, i),
            _ => Vec::new(),
        };
        site.decision = decide(input, site, config, names_windows, &lineage);
    }
    refuse_disagreeing_arg_rewrites(&mut sites);
    sites
}

/// The instructions (FROM excluded) of the stages that run on the image of stage `i`: its own and
/// those of every stage built FROM it, in order.
fn lineage_instructions(file: &crate::Dockerfile, model: &Model, i: usize) -> Vec<usize> {
    let stages = model.stages();
    // Per stage, whether it descends from `i`: each chain of parents is followed once, and what it
    // leads to is remembered for every stage on it (a long chain would otherwise be walked again
    // from each of its stages).
    let mut descends: Vec<Option<bool>> = vec![None; stages.len()];
    if let Some(own) = descends.get_mut(i) {
        *own = Some(true);
    }
    for s in 0..stages.len() {
        let mut path = Vec::new();
        let mut j = s;
        let answer = loop {
            if let Some(known) = descends[j] {
                break known;
            }
            // Longer than the file: a loop of stages naming each other.
            if path.len() > stages.len() {
                break false;
            }
            path.push(j);
            match stages[j].parent {
                Some(p) => j = p,
                None => break false,
            }
        };
        for p in path {
            descends[p] = Some(answer);
        }
    }
    file.stages
        .iter()
        .filter(|s| descends.get(s.index).copied().flatten() == Some(true))
        .flat_map(|s| s.instructions.start + 1..s.instructions.end)
        .collect()
}

fn classify<'a>(input: &'a Input<'a>, stage: &'a Stage) -> Site<'a> {
    let file = input.file;
    let inst = &file.instructions[stage.from];
    let words = split_words(inst.args_text(), file.escape);
    let (written, logical) = match words.first() {
        Some(w) => (w.raw.clone(), inst.args.start + w.range.start..inst.args.start + w.range.end),
        None => (String::new(), inst.args.clone()),
    };
    let range = inst.logical.source_range(logical.clone());
    let editable = inst.logical.is_contiguous(logical.clone()).then(|| range.clone());
    let mut site = Site { stage, inst, range, written: written.clone(), base: Base::Invalid { resolved: written.clone() }, shipped: &input.model().stages()[stage.index], decision: None };
    let resolved = match expand(input, &written, false) {
        Ok(resolved) => resolved,
        Err(variable) => {
            site.base = if names_a_stage_per_platform(input, stage, &written) { Base::Stage } else { Base::Unresolved { variable } };
            return site;
        }
    };
    if resolved == "scratch" {
        site.base = Base::Scratch;
        return site;
    }
    if input.model().stages()[stage.index].parent.is_some() {
        site.base = Base::Stage;
        return site;
    }
    let Some(image) = ImageRef::parse(&resolved) else {
        site.base = Base::Invalid { resolved };
        return site;
    };
    let origin = origin_of(input, &written, editable, logical.start, inst);
    site.base = Base::Image { image, origin };
    site
}

/// BuildKit's automatic platform ARGs: `FROM binaries-$TARGETOS` names a stage per platform.
const PLATFORM_ARGS: &[&str] =
    &["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"];

fn names_a_stage_per_platform(input: &Input, stage: &Stage, written: &str) -> bool {
    let Ok(pattern) = expand(input, written, true) else { return false };
    let pattern = pattern.to_ascii_lowercase();
    pattern.contains('*')
        && input.file.stages.iter().any(|s| s.index != stage.index && s.name.as_deref().is_some_and(|n| reference::glob(&pattern, n)))
}

fn origin_of(input: &Input, written: &str, editable: Option<Range<usize>>, logical_start: usize, inst: &Instruction) -> Origin {
    let escape = input.file.escape;
    if !written.contains('$') {
        let plain = !written.contains(['"', '\'', escape]);
        return Origin::Literal(editable.filter(|_| plain));
    }
    let Some(var) = whole_variable(written) else { return Origin::Composed(written.to_string()) };
    match meta_default(input, var.name) {
        Some((line, value)) => Origin::Arg { name: var.name.to_string(), line, value },
        None => match var.default {
            Some(default) => {
                let start = logical_start + default.start;
                let logical = start..logical_start + default.end;
                let value = inst.logical.is_contiguous(logical.clone()).then(|| inst.logical.source_range(logical));
                Origin::FromDefault { name: var.name.to_string(), value }
            }
            None => Origin::Composed(written.to_string()),
        },
    }
}

struct WholeVariable<'t> {
    name: &'t str,
    /// Range of the `:-`/`-` default within the word.
    default: Option<DefaultText>,
}

struct DefaultText {
    start: usize,
    end: usize,
}

/// `$NAME`, `${NAME}`, `${NAME:-default}` or `${NAME-default}` as the whole word.
fn whole_variable(word: &str) -> Option<WholeVariable<'_>> {
    if let Some(name) = word.strip_prefix('$').filter(|n| is_name(n)) {
        return Some(WholeVariable { name, default: None });
    }
    let inner = word.strip_prefix("${")?.strip_suffix('}')?;
    if is_name(inner) {
        return Some(WholeVariable { name: inner, default: None });
    }
    let name_end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let name = &inner[..name_end];
    let rest = &inner[name_end..];
    let op_len = if rest.starts_with(":-") { 2 } else if rest.starts_with('-') { 1 } else { return None };
    let default = &rest[op_len..];
    if !is_name(name) || default.is_empty() || default.contains(['$', '{', '}', '"', '\'', '\\', '`']) {
        return None;
    }
    let start = 2 + name_end + op_len;
    Some(WholeVariable { name, default: Some(DefaultText { start, end: start + default.len() }) })
}

fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The range of a literal value inside its quotes (or the whole of an unquoted one); `None`
/// when it holds variables, escapes or inner quotes.
fn literal_value_range(raw: &str, escape: char) -> Option<Range<usize>> {
    let inner = match raw.chars().next() {
        Some(q @ ('"' | '\'')) if raw.len() >= 2 && raw.ends_with(q) => 1..raw.len() - 1,
        _ => 0..raw.len(),
    };
    let text = &raw[inner.clone()];
    (!text.is_empty() && !text.contains(['$', '"', '\'', escape]) && !text.chars().any(char::is_whitespace)).then_some(inner)
}

/// Expand variables the way BuildKit expands a FROM (meta ARGs only); quotes are removed.
/// `Err(name)` when a variable the result needs has no value.
fn expand(input: &Input, text: &str, platform_wildcards: bool) -> Result<String, String> {
    let model = input.model();
    let var = |name: &str| match model.meta_var(name) {
        Var::Value(value) => Var::Value(value),
        _ if platform_wildcards && PLATFORM_ARGS.contains(&name) => Var::Value("*".to_string()),
        other => other,
    };
    let expanded = syntax::expand(text, Some(input.file.escape), &var);
    expanded.unknown.map_or(Ok(expanded.text), Err)
}

/// The meta ARG `name` with a value: the line of its ARG, and the source range of the value when
/// it is a plain literal that can be rewritten.
fn meta_default(input: &Input, name: &str) -> Option<(usize, Option<Range<usize>>)> {
    let (_, at) = input.model().meta_default(name)?;
    let (file, inst) = (input.file, &input.file.instructions[at]);
    let word = split_words(inst.args_text(), file.escape).into_iter().rfind(|w| w.raw.split_once('=').is_some_and(|(n, _)| n == name))?;
    let value_start = inst.args.start + word.range.start + name.len() + 1;
    let editable = literal_value_range(&word.raw[name.len() + 1..], file.escape).and_then(|inner| {
        let logical = value_start + inner.start..value_start + inner.end;
        inst.logical.is_contiguous(logical.clone()).then(|| inst.logical.source_range(logical))
    });
    Some((inst.start_line, editable))
}

fn decide(input: &Input, site: &Site, config: &BaseConfig, policy_names_windows: bool, lineage: &[usize]) -> Option<Decision> {
    let Base::Image { image, origin } = &site.base else { return None };
    let k = knowledge();
    let windows = k.is_windows(&image.text) || site.stage.platform.as_deref().is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"));
    if windows && !policy_names_windows {
        return Some(Decision { windows_left_alone: true, allowed: true, proposal: None, pin: None });
    }
    let allowed = config.allow.is_empty() || config.allow.iter().any(|glob| glob_matches(glob, image));

    if let Some(proposal) = rule_proposal(image, origin, config) {
        return Some(Decision { windows_left_alone: false, allowed, proposal: Some(proposal), pin: None });
    }
    // A stage whose layers do not ship gains nothing from a slim base and risks the build (node-gyp
    // needs python, gems and wheels need a compiler): swapped only when the policy forbids its image.
    let build_stage = !site.shipped.in_final_image;
    let only_final = input.settings.config.only_final_stage && build_stage;
    let slim = if only_final || (build_stage && allowed) { None } else { slim_proposal(input, site, image, origin, config, lineage) };
    // A slim variant the allow-list forbids is no way out.
    let slim = slim.filter(|p| config.allow.is_empty() || ImageRef::parse(&p.to).is_some_and(|to| config.allow.iter().any(|g| glob_matches(g, &to))));
    Some(Decision { windows_left_alone: false, allowed, proposal: slim, pin: pin_problem(image, config.pin) })
}

/// The organisation's `[[base.replace]]` rules, followed until none applies (a cycle is refused).
fn rule_proposal(image: &ImageRef, origin: &Origin, config: &BaseConfig) -> Option<Proposal> {
    let mut current = image.clone();
    let mut first_from: Option<String> = None;
    let mut to_text = String::new();
    for _ in 0..=config.replace.len() {
        let rule = config.replace.iter().find(|rule| {
            glob_matches(&rule.from, &current) && ImageRef::parse(&rule.to).is_some_and(|to| !to.same_image(&current))
        });
        let Some(rule) = rule else {
            let first_from = first_from?;
            let by = By::Rule { from: first_from };
            let plan = plan_rule(image, origin, &current, config);
            return Some(Proposal { to: to_text, by, plan, stage_needs_more: false });
        };
        first_from.get_or_insert_with(|| rule.from.clone());
        to_text = rule.to.clone();
        current = ImageRef::parse(&rule.to)?;
    }
    let by = By::Rule { from: first_from? };
    let plan = Err("the [[base.replace]] rules form a cycle: fix dockopt.toml".to_string());
    Some(Proposal { to: to_text, by, plan, stage_needs_more: false })
}

fn plan_rule(image: &ImageRef, origin: &Origin, to: &ImageRef, config: &BaseConfig) -> Result<Plan, String> {
    libc_guard(image, to)?;
    let plan = plan_edits(origin, image, to, None, config.pin)?;
    Ok(plan)
}

/// Never glibc ↔ musl behind the user's back.
fn libc_guard(image: &ImageRef, to: &ImageRef) -> Result<(), String> {
    let k = knowledge();
    let (from_libc, to_libc) = (k.libc(image), k.libc(to));
    if matches!((from_libc, to_libc), (Libc::Glibc, Libc::Musl) | (Libc::Musl, Libc::Glibc)) {
        return Err(format!(
            "`{}` is {} and `{}` is {}: compiled binaries, native modules and the package manager (apt vs apk) \
             differ, so dockopt never swaps one for the other; change it by hand if that is intended",
            image.text,
            from_libc.describe(),
            to.text,
            to_libc.describe()
        ));
    }
    Ok(())
}

/// The edits that make the FROM name `to`; `tag_only` limits a same-repository swap to the tag.
fn plan_edits(origin: &Origin, image: &ImageRef, to: &ImageRef, tag_only: Option<&str>, pin: PinPolicy) -> Result<Plan, String> {
    let mut notes = Vec::new();
    let mut applicability = Applicability::Safe;
    if let Some(digest) = image.digest() {
        if to.digest().is_none() {
            if pin == PinPolicy::Digest {
                return Err(format!(
                    "pin = \"digest\" needs a digest for `{}` and dockopt cannot look one up: \
                     change it by hand (`docker buildx imagetools inspect {}` prints it)",
                    to.text, to.text
                ));
            }
            let short = digest.get(..19).unwrap_or(digest);
            notes.push(format!(
                "the digest `{short}…` pinned the old image exactly and is dropped: pin the new one again \
                 (`docker buildx imagetools inspect {}` prints its digest)",
                to.text
            ));
            applicability = Applicability::Unsafe;
        }
    }
    let mut arg = None;
    let edits = match origin {
        Origin::Literal(Some(range)) => match (tag_only, image.tag.clone()) {
            (Some(new_tag), Some(tag)) => {
                let mut edits = vec![Edit::replace(range.start + tag.start..range.start + tag.end, new_tag)];
                if let Some(digest) = image.digest.clone() {
                    edits.push(Edit::delete(range.start + digest.start - 1..range.start + digest.end));
                }
                edits
            }
            _ => vec![Edit::replace(range.clone(), to.text.clone())],
        },
        Origin::Literal(None) => return Err("the reference is quoted or split over lines: change it by hand".to_string()),
        Origin::Arg { name, line, value: Some(range) } => {
            notes.push(format!(
                "the image is the default of `ARG {name}` (line {line}): the fix rewrites that default, which also \
                 changes every other use of {name}; `--build-arg {name}=…` still overrides it"
            ));
            applicability = Applicability::Unsafe;
            arg = Some(name.clone());
            vec![Edit::replace(range.clone(), to.text.clone())]
        }
        Origin::Arg { name, line, value: None } => {
            return Err(format!("the image is the default of `ARG {name}` (line {line}), which is not a plain value: change it by hand"))
        }
        Origin::FromDefault { name, value: Some(range) } => {
            notes.push(format!("the image is the `${{{name}:-…}}` default: `--build-arg {name}=…` still overrides it"));
            applicability = Applicability::Unsafe;
            vec![Edit::replace(range.clone(), to.text.clone())]
        }
        Origin::FromDefault { value: None, .. } => {
            return Err("the image is a variable's default split over lines: change it by hand".to_string())
        }
        Origin::Composed(written) => {
            return Err(format!("`{written}` mixes text and ARGs: dockopt only rewrites a FROM that is one variable; change it by hand"))
        }
    };
    Ok(Plan { applicability, edits, notes, arg })
}

fn slim_proposal(input: &Input, site: &Site, image: &ImageRef, origin: &Origin, config: &BaseConfig, lineage: &[usize]) -> Option<Proposal> {
    let k = knowledge();
    let SlimSwap { family, to, same_repository, new_tag } = k.slim_swap(image)?;
    let to_ref = ImageRef::parse(&to)?;
    let needs = needs::stage_needs(input, lineage, family);
    if family.runtime_only && !needs.build_tools.is_empty() {
        // A build stage: the JRE cannot compile, there is nothing to offer.
        return None;
    }
    let mut notes = Vec::new();
    if !site.shipped.in_final_image {
        notes.push(if site.shipped.ships {
            "the shipped image only copies files from this stage: the swap speeds up the build (a smaller pull), it does not shrink the final image"
        } else {
            "this stage is not part of the shipped image: the swap speeds up the build (a smaller pull), it does not shrink the final image"
        }
        .to_string());
    }
    let lacks = lacks_text(family);
    let missing = needs.missing(family);
    let stage_needs_more = !missing.is_empty() && !needs.unknown_install;
    let plan = if let Some(digest) = image.digest() {
        // The swap would drop the pin, and the slim image's digest cannot be known offline.
        let short = digest.get(..19).unwrap_or(digest);
        Err(format!(
            "the digest `{short}…` pins this exact image, and the digest of `{to}` cannot be known without asking the \
             registry: pin it by hand (`docker buildx imagetools inspect {to}` prints it)"
        ))
    } else if stage_needs_more {
        // Grouped by what needs them: "`bundle install` (line 7) needs gcc, make (why)".
        let mut groups: Vec<(&str, Vec<&str>, Option<&str>)> = Vec::new();
        for need in &missing {
            match groups.iter_mut().find(|(because, _, _)| *because == need.because) {
                Some((_, tools, _)) => tools.push(&need.tool),
                None => groups.push((&need.because, vec![&need.tool], need.why.as_deref())),
            }
        }
        let uses: Vec<String> = groups
            .iter()
            .map(|(because, tools, why)| match why {
                Some(why) => format!("{because} needs {} ({why})", tools.join(", ")),
                None => format!("{because} needs {}", tools.join(", ")),
            })
            .collect();
        let packages: Vec<&str> = missing
            .iter()
            .filter_map(|n| k.tool.get(&n.tool).and_then(|t| t.packages.first()).map(String::as_str))
            .collect();
        let mut why = format!("{}; `{}` {lacks}", uses.join("; "), to_ref.text);
        if !packages.is_empty() {
            why.push_str(&format!(
                ". Install them in the stage (`apt-get install -y --no-install-recommends {}`) and the swap is offered",
                dedup(packages).join(" ")
            ));
        }
        Err(why)
    } else {
        plan_edits(origin, image, &to_ref, same_repository.then_some(new_tag.as_str()), config.pin).map(|mut plan| {
            plan.applicability = Applicability::Unsafe;
            let mut said = vec![format!("`{}` {lacks}", to_ref.text)];
            if family.runtime_only {
                said.push("this stage runs Java but builds none: a JRE is enough (the version is kept to its major)".to_string());
            } else if needs.unknown_install {
                said.push("the stage installs packages named by variables: check they provide what the stage uses".to_string());
            } else {
                said.push("the stages on this image use none of it".to_string());
            }
            // The hidden needs are compilers: only worth checking when the slim variant has none.
            if family.lacks.iter().any(|t| t == "gcc") {
                said.extend(needs.maybe.iter().map(|m| format!("check {m}")));
            }
            if needs.unread > 0 {
                said.push("some RUNs (exec form or another shell) were not read".to_string());
            }
            said.extend(plan.notes);
            plan.notes = said;
            plan
        })
    };
    let plan = plan.map_err(|why| {
        if notes.is_empty() {
            why
        } else {
            format!("{why}; {}", notes.join("; "))
        }
    });
    let plan = plan.map(|mut p| {
        p.notes.extend(notes);
        p
    });
    Some(Proposal { to, by: By::SlimMap, plan, stage_needs_more })
}

fn dedup(items: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// What the slim variant leaves out, from the family's knowledge: its summary, else its tools.
fn lacks_text(family: &knowledge::Family) -> String {
    match &family.drops {
        Some(drops) => format!("leaves out {drops}"),
        None if family.lacks.is_empty() => "leaves out nothing the stage uses".to_string(),
        None => format!("has no {}", family.lacks.join(", ")),
    }
}

fn pin_problem(image: &ImageRef, pin: PinPolicy) -> Option<(String, String)> {
    match pin {
        PinPolicy::None => None,
        PinPolicy::Tag if image.digest().is_some() => None,
        PinPolicy::Tag => match image.tag() {
            None => Some((
                format!("base image `{}` has no tag: it means `:latest`, which moves", image.text),
                "[base] pin = \"tag\" (the default): name a version so that rebuilds start from the same base".to_string(),
            )),
            Some("latest") => Some((
                format!("base image `{}` uses the moving tag `latest`", image.text),
                "[base] pin = \"tag\" (the default): name a version so that rebuilds start from the same base".to_string(),
            )),
            Some(_) => None,
        },
        PinPolicy::Digest if image.digest().is_none() => Some((
            format!("base image `{}` is not pinned by digest", image.text),
            format!(
                "[base] pin = \"digest\": append `@sha256:…` (`docker buildx imagetools inspect {}` prints it) so that \
                 rebuilds start from the same bytes",
                image.text
            ),
        )),
        PinPolicy::Digest => None,
    }
}

/// An ARG default feeds every FROM that names the ARG: rewrite it only when all of them agree.
fn refuse_disagreeing_arg_rewrites(sites: &mut [Site]) {
    let mut verdicts: HashMap<String, Vec<(usize, Option<String>)>> = HashMap::new();
    for site in sites.iter() {
        for name in variable_names(&site.written) {
            let target = site.decision.as_ref().and_then(|d| d.proposal.as_ref()).and_then(|p| {
                p.plan.as_ref().ok().filter(|plan| plan.arg.as_deref() == Some(name.as_str())).map(|_| p.to.clone())
            });
            verdicts.entry(name).or_default().push((site.inst.start_line, target));
        }
    }
    for site in sites.iter_mut() {
        let Some(proposal) = site.decision.as_mut().and_then(|d| d.proposal.as_mut()) else { continue };
        let Ok(plan) = &proposal.plan else { continue };
        let Some(name) = plan.arg.clone() else { continue };
        let own_line = site.inst.start_line;
        let others: Vec<usize> = verdicts
            .get(&name)
            .into_iter()
            .flatten()
            .filter(|(line, target)| *line != own_line && target.as_deref() != Some(proposal.to.as_str()))
            .map(|(line, _)| *line)
            .collect();
        if let Some(line) = others.first() {
            proposal.plan = Err(format!(
                "`ARG {name}` also feeds the FROM on line {line}, which would not become `{}`: change it by hand \
                 (e.g. give this stage its own ARG)",
                proposal.to
            ));
        }
    }
}

fn findings(input: &Input, site: &Site) -> Vec<Finding> {
    let config = &input.settings.config.base;
    let range = site.range.clone();
    let mut out = Vec::new();
    match &site.base {
        Base::Unresolved { variable } if !config.allow.is_empty() && !windows_left_alone(&site.written, config) => {
            out.push(
                Finding::new(&checks::APPROVED_BASE_UNVERIFIABLE, range, format!("base image `{}` cannot be checked against the approved list", site.written))
                    .with_why(format!("`{variable}` has no default before the first FROM: the image is whatever `--build-arg {variable}=…` says")),
            );
        }
        Base::Invalid { resolved } if !config.allow.is_empty() && resolved != &site.written => {
            out.push(
                Finding::new(&checks::APPROVED_BASE_UNVERIFIABLE, range, format!("base image `{}` resolves to `{resolved}`, which is not an image reference", site.written))
                    .with_why("it cannot be checked against the approved list"),
            );
        }
        Base::Image { image, .. } => {
            let Some(decision) = &site.decision else { return out };
            if decision.windows_left_alone {
                return out;
            }
            if let Some(finding) = policy_finding(site, image, decision, config) {
                out.push(finding);
            }
            if let Some((message, why)) = &decision.pin {
                out.push(Finding::new(&checks::APPROVED_BASE_UNPINNED, range, message.clone()).with_why(why.clone()));
            }
        }
        _ => {}
    }
    out
}

fn windows_left_alone(text: &str, config: &BaseConfig) -> bool {
    knowledge().is_windows(text) && !policy_names_windows(config)
}

fn policy_names_windows(config: &BaseConfig) -> bool {
    config.allow.iter().chain(config.replace.iter().map(|r| &r.from)).any(|glob| knowledge().is_windows(glob))
}

fn policy_finding(site: &Site, image: &ImageRef, decision: &Decision, config: &BaseConfig) -> Option<Finding> {
    let range = site.range.clone();
    let shown = if site.written == image.text { format!("`{}`", image.text) } else { format!("`{}` (`{}`)", image.text, site.written) };
    let (check, message, mut why) = match (&decision.proposal, decision.allowed) {
        (Some(p @ Proposal { by: By::Rule { from }, .. }), _) => {
            let message = match &p.plan {
                Ok(_) => format!("base image {shown} is replaced by policy: use `{}`", p.to),
                Err(_) => format!("base image {shown} is to be replaced by `{}` (policy), by hand", p.to),
            };
            let mut why = vec![format!("[[base.replace]] from = \"{from}\": the organisation's approved replacement")];
            let target_allowed = config.allow.is_empty()
                || ImageRef::parse(&p.to).is_some_and(|to| config.allow.iter().any(|g| glob_matches(g, &to)));
            if !target_allowed {
                why.push(format!("`{}` itself is not in the approved list: check dockopt.toml", p.to));
            }
            (&checks::APPROVED_BASE_REPLACE, message, why)
        }
        (proposal, false) => {
            let mut why = vec![format!("approved: {}", config.allow.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", "))];
            if let Some(p) = proposal {
                why.push(format!("its slim variant `{}` is approved", p.to));
            } else {
                why.push("no [[base.replace]] rule names it: add one, or change the base by hand".to_string());
                why.extend(approved_variants_note(image, config));
            }
            (&checks::APPROVED_BASE_NOT_ALLOWED, format!("base image {shown} is not in the approved list"), why)
        }
        (Some(p), true) => {
            let message = match &p.plan {
                Ok(_) => format!("base image {shown} has a slim variant: `{}`", p.to),
                Err(_) if p.stage_needs_more => format!("base image {shown} has a slim variant `{}`, but the stage needs what it lacks", p.to),
                Err(_) => format!("base image {shown} has a slim variant `{}` (to change by hand)", p.to),
            };
            (&checks::APPROVED_BASE_SLIM, message, Vec::new())
        }
        (None, true) => return None,
    };
    let mut finding = Finding::new(check, range, message);
    match decision.proposal.as_ref().map(|p| (p, &p.plan)) {
        Some((p, Ok(plan))) => {
            why.extend(plan.notes.iter().cloned());
            finding = finding.with_fix(Fix::new(format!("Use `{}`", p.to), plan.edits.clone(), plan.applicability));
        }
        Some((_, Err(reason))) => why.push(format!("no fix: {reason}")),
        None => {}
    }
    Some(finding.with_why(why.join("; ")))
}

/// For a refused base: the approved globs for the same repository, and whether they change libc.
fn approved_variants_note(image: &ImageRef, config: &BaseConfig) -> Option<String> {
    let name = image.familiar_name();
    let variants: Vec<&String> = config
        .allow
        .iter()
        .filter(|glob| ImageRef::parse(&glob.replace(['*', '?'], "x")).is_some_and(|g| g.familiar_name() == name))
        .collect();
    if variants.is_empty() {
        return None;
    }
    let listed = variants.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ");
    let k = knowledge();
    let from_libc = k.libc(image);
    let musl_switch = variants.iter().all(|g| {
        ImageRef::parse(&g.replace(['*', '?'], "x")).is_some_and(|g| {
            matches!((from_libc, k.libc(&g)), (Libc::Glibc, Libc::Musl) | (Libc::Musl, Libc::Glibc))
        })
    });
    Some(if musl_switch {
        format!(
            "the approved {name} images ({listed}) are {}, this one is {}: dockopt never swaps glibc for musl (or back) \
             on its own, because compiled binaries, native modules and the package manager (apt vs apk) change",
            if from_libc == Libc::Glibc { Libc::Musl.describe() } else { Libc::Glibc.describe() },
            from_libc.describe()
        )
    } else {
        format!("approved {name} images: {listed}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::syntax::parse;

    fn uses(source: &str, config: &str) -> Vec<BaseUse> {
        let file = parse(source).unwrap();
        inventory(&file, &Config::from_toml(config).unwrap())
    }

    #[test]
    fn whole_variables() {
        assert_eq!(whole_variable("$BASE").map(|v| v.name), Some("BASE"));
        assert_eq!(whole_variable("${BASE}").map(|v| v.name), Some("BASE"));
        let with_default = whole_variable("${BASE:-python:3.12}").unwrap();
        assert_eq!(with_default.default.map(|d| &"${BASE:-python:3.12}"[d.start..d.end]), Some("python:3.12"));
        assert!(whole_variable("python:${PY}").is_none());
        assert!(whole_variable("${A}${B}").is_none());
    }

    #[test]
    fn meta_args_resolve_earlier_args_and_keep_rewritable_ranges() {
        let source = "ARG PY=3.12\nARG BASE=\"python:${PY}\"\nARG PLAIN='node:20'\nFROM $BASE\n";
        let file = parse(source).unwrap();
        let settings = crate::Settings::default();
        let context = crate::Context::default();
        let input = Input::new(&file, &context, &settings);
        assert_eq!(input.model().meta_default("BASE").map(|(v, _)| v), Some("python:3.12"));
        assert_eq!(meta_default(&input, "BASE"), Some((2, None)));
        let plain = meta_default(&input, "PLAIN").and_then(|(_, range)| range).unwrap();
        assert_eq!(&source[plain], "node:20");
    }

    #[test]
    fn stage_references_scratch_and_platform_stages_are_not_bases() {
        let source = "FROM golang:1.22 AS build\nFROM build AS test\nFROM scratch AS binaries-linux\n\
                      FROM binaries-$TARGETOS\nARG X\n";
        let found = uses(source, "");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].image.as_deref(), Some("golang:1.22"));
    }

    #[test]
    fn inventory_counts_distinct_bases_today_and_after() {
        let config = "[base]\nallow = [\"python:*-slim\"]\n[[base.replace]]\nfrom = \"ubuntu:*\"\nto = \"python:3.12-slim\"\n";
        let a = uses("FROM ubuntu:22.04\n", config);
        let b = uses("FROM docker.io/library/python:3.12\nFROM python:3.12-slim\n", config);
        let c = uses("ARG BASE\nFROM $BASE\n", config);
        assert_eq!(a[0].status, BaseStatus::NotAllowed);
        assert_eq!(a[0].by, Some(ReplacedBy::ReplaceRule));
        assert_eq!(a[0].applicability, Some(Applicability::Safe));
        assert_eq!(b[0].image.as_deref(), Some("python:3.12"));
        assert_eq!(b[0].becomes.as_deref(), Some("python:3.12-slim"));
        assert_eq!(b[0].applicability, Some(Applicability::Unsafe));
        let inventory = Inventory::build([("a/Dockerfile", a), ("b/Dockerfile", b), ("c/Dockerfile", c)]);
        assert_eq!(inventory.dockerfiles, 3);
        assert_eq!(inventory.distinct_today, 3);
        assert_eq!(inventory.distinct_after, 2);
        assert_eq!(inventory.distinct_after_unsafe, 1);
        assert_eq!(inventory.unresolved.len(), 1);
        assert!(inventory.has_disallowed());
        let text = inventory.render_text();
        assert!(text.contains("ubuntu:22.04 -> python:3.12-slim (replace rule, safe)"), "{text}");
        assert!(text.contains("3 distinct base images in 3 Dockerfiles; after the policy: 2 (safe fixes), 1 (with --unsafe)"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&inventory.render_json()).unwrap();
        assert_eq!(json["distinct_after_unsafe"], 1);
        assert_eq!(json["bases"][0]["image"], "python:3.12");
        assert_eq!(json["bases"][0]["status"], "not-allowed");
        assert_eq!(json["bases"][1]["status"], "allowed");
    }

    #[test]
    fn an_arg_shared_by_two_froms_is_rewritten_only_when_both_agree() {
        // Under an allow-list that forbids the full image, the build stage is swapped too.
        let policy = "[base]\nallow = [\"python:*-slim\"]\n";
        let disagree = uses("ARG BASE=python:3.12\nFROM $BASE AS build\nRUN gcc -o /x x.c\nFROM $BASE\n", policy);
        assert!(disagree.iter().all(|u| u.applicability.is_none()), "{disagree:?}");
        let agree = uses("ARG BASE=python:3.12\nFROM $BASE AS build\nFROM $BASE\n", policy);
        assert!(agree.iter().all(|u| u.applicability == Some(Applicability::Unsafe)), "{agree:?}");
        // Without one, the build stage is not swapped, so the ARG they share is not rewritten.
        let unshared = uses("ARG BASE=python:3.12\nFROM $BASE AS build\nFROM $BASE\n", "");
        assert!(unshared.iter().all(|u| u.applicability.is_none()), "{unshared:?}");
    }

    #[test]
    fn the_stages_built_on_an_image_count_for_what_it_needs() {
        let found = uses("FROM python:3.12 AS base\nFROM base AS build\nRUN pip install psycopg2\n", "");
        assert!(found[0].blocked.as_deref().is_some_and(|b| b.contains("psycopg2")), "{found:?}");
    }

    #[test]
    fn a_rule_cycle_is_reported_not_followed() {
        let config = "[[base.replace]]\nfrom = \"a:1\"\nto = \"b:1\"\n[[base.replace]]\nfrom = \"b:1\"\nto = \"a:1\"\n";
        let found = uses("FROM a:1\n", config);
        assert!(found[0].blocked.as_deref().is_some_and(|b| b.contains("cycle")), "{found:?}");
    }

    fn messages(source: &str, config: &str) -> Vec<String> {
        let file = parse(source).unwrap();
        let settings = crate::Settings { config: Config::from_toml(config).unwrap(), ..crate::Settings::default() };
        let context = crate::Context::default();
        run(&Input::new(&file, &context, &settings)).into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn pin_policies() {
        let source = "FROM alpine
FROM alpine:latest
FROM alpine:3.20
FROM alpine@sha256:abc
";
        assert_eq!(messages(source, "").len(), 2);
        assert_eq!(messages(source, "[base]\npin = \"none\"\n").len(), 0);
        assert_eq!(messages(source, "[base]\npin = \"digest\"\n").len(), 3);
    }

    #[test]
    fn only_final_stage_keeps_policy_checks_but_not_slim_swaps_of_build_stages() {
        let source = "FROM python:3.12 AS build\nFROM debian:bookworm\n";
        let config = "only-final-stage = true\n[base]\nallow = [\"debian:*\"]\n";
        let found = messages(source, config);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("not in the approved list"));
        assert!(found[1].contains("debian:bookworm-slim"));
    }
}
