#![doc = include_str!("../../docs/dockerignore.md")]

mod merge;
pub use merge::merge_proposals;
mod propose;
mod templates;
mod usage;

use crate::checks;
use crate::fix::{Applicability, Artifact, Finding, Fix};
use crate::model::Input;
use crate::syntax::Keyword;

use crate::model::matcher::Matcher;
use propose::{propose, protected_sources, Inputs, Listing, Proposal};
use usage::{Usage, Use};

pub(crate) const DOC: &str = include_str!("../../docs/dockerignore.md");
const NAME: &str = "dockerignore";
/// Where the file goes, relative to the context root.
const PATH: &str = ".dockerignore";
/// How many excluded paths a finding names before counting the rest.
const NAMED_IN_MESSAGE: usize = 4;

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let Some(analysis) = Analysis::new(input) else { return Vec::new() };
    vec![analysis.finding(input)]
}

pub(crate) fn artifacts(input: &Input) -> Vec<Artifact> {
    match Analysis::new(input) {
        Some(analysis) => vec![analysis.artifact(input)],
        None => Vec::new(),
    }
}

struct Analysis {
    proposal: Proposal,
    usage: Usage,
    /// The context's .dockerignore, when it has one.
    existing: Option<String>,
}

impl Analysis {
    /// `None` when the context is unknown, or nothing in it is worth leaving out.
    fn new(input: &Input) -> Option<Analysis> {
        let files = input.context.files.as_ref()?;
        let groups = templates::groups();
        let existing = input.context.dockerignore.clone();
        // A .dockerignore whose text was not given: what it covers is unknown.
        if existing.is_none() && files.iter().any(|f| f == PATH) {
            return None;
        }
        // One Docker rejects fails every build already: appending to it would not help.
        let existing_matcher = match &existing {
            Some(text) => Matcher::from_dockerignore(text).ok()?,
            None => Matcher::default(),
        };
        let listing = Listing::new(files, existing.is_none().then_some(PATH));
        let usage = Usage::new(input);
        let protected = protected_sources(&usage, &listing);
        let proposal = propose(&Inputs { groups, contents: &input.context.contents, listing: &listing, usage: &usage, protected: &protected, existing: &existing_matcher });
        (!proposal.is_empty()).then_some(Analysis { proposal, usage, existing })
    }

    /// Safe only for a new file when no instruction takes the whole context: every pattern then
    /// leaves out paths no instruction reads, and the image cannot change.
    fn applicability(&self) -> Applicability {
        if self.existing.is_none() && self.usage.whole.is_empty() {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        }
    }

    fn finding(&self, input: &Input) -> Finding {
        let file = input.file;
        let anchor = self
            .usage
            .whole
            .iter()
            .find(|u| matches!(file.instructions[u.instruction].keyword, Keyword::Copy | Keyword::Add))
            .or(self.usage.whole.first())
            .map(|u| u.instruction)
            .or_else(|| file.stages.first().map(|s| s.from));
        let range = anchor.map_or(0..0, |i| {
            let inst = &file.instructions[i];
            inst.keyword_span.start..inst.args_source_range().end.max(inst.keyword_span.end)
        });
        let names: Vec<String> = self.proposal.excluded.iter().map(|l| l.display()).collect();
        let what = match names.split_first() {
            None => "some paths".to_string(),
            Some((first, [])) => first.clone(),
            Some((first, rest)) => {
                let mut named: Vec<&str> = rest.iter().take(NAMED_IN_MESSAGE).map(String::as_str).collect();
                if rest.len() > NAMED_IN_MESSAGE {
                    named.push("…");
                }
                format!("{first} (and {} more: {})", rest.len(), named.join(", "))
            }
        };
        let verb = if names.len() == 1 { "is" } else { "are" };
        let message = match &self.existing {
            None => format!("build context has no .dockerignore: {what} would be sent to the builder{}", self.destination(input)),
            Some(_) => format!(".dockerignore does not exclude {what}, which {verb} sent to the builder{}", self.destination(input)),
        };
        let fix = match (&self.existing, self.applicability()) {
            (Some(_), _) => "dockopt proposes appending the missing patterns to .dockerignore (Unsafe: the image no longer gets these paths)",
            (None, Applicability::Safe) => {
                "dockopt proposes a .dockerignore of what is present and unused (Safe: no instruction copies the whole context, so the image cannot change)"
            }
            (None, Applicability::Unsafe) => {
                "dockopt proposes a .dockerignore of what is present but no COPY/ADD names and no RUN reads (Unsafe: the image no longer gets these paths)"
            }
        };
        let why = match self.usage.whole.first() {
            Some(whole) => format!(
                "the whole context is sent to the builder on every build and `{}` puts all of it in a layer: secrets end up in the image, \
                 it grows, and any edit to these files invalidates the cache from there on. {fix}",
                whole.quote
            ),
            None => format!(
                "the classic builder (and podman/buildah) sends the whole context on every build: a .dockerignore keeps secrets and bulk \
                 off the builder. {fix}"
            ),
        };
        // The remedy is the extra file (`artifacts`): a fix without edits, so that the finding
        // says how safe it is like any other.
        let title = match &self.existing {
            None => "write a .dockerignore",
            Some(_) => "append the missing patterns to .dockerignore",
        };
        let check = if self.existing.is_none() { &checks::DOCKERIGNORE_MISSING } else { &checks::DOCKERIGNORE_INCOMPLETE };
        Finding::new(check, range, message).with_why(why).with_fix(Fix::new(title, Vec::new(), self.applicability()))
    }

    /// Where the paths end up, for the message: the image, a build stage, or only the builder.
    fn destination(&self, input: &Input) -> String {
        let file = input.file;
        // `copied` is the verb phrase for COPY/ADD; a RUN bind mount is said as such.
        let how = |u: &Use, copied: &str| match file.instructions[u.instruction].keyword {
            Keyword::Run => format!("mounted into `{}`", u.quote),
            _ => format!("{copied} `{}`", u.quote),
        };
        // Following what ships: the final image's own stages first, then a
        // stage it copies from, then build stages only.
        let stages = input.model().stages();
        let in_image = self.usage.whole.iter().find(|u| stages[u.stage].in_final_image);
        let copied_from = self.usage.whole.iter().find(|u| stages[u.stage].ships);
        let name = |u: &Use| file.stages[u.stage].name.clone().unwrap_or_else(|| u.stage.to_string());
        match (in_image, copied_from, self.usage.whole.first()) {
            (Some(u), _, _) => format!(" and {}", how(u, "copied into the image by")),
            (None, Some(u), _) => format!(" and {} in stage `{}`, from which the shipped image copies files", how(u, "copied by"), name(u)),
            (None, None, Some(u)) => format!(
                " and {} in stage `{}` (not the shipped image: the saving is build time, and that stage's cache no longer \
                 breaks on their edits)",
                how(u, "copied by"),
                name(u)
            ),
            (None, None, None) => " (no instruction copies the whole context, so only the transfer is saved)".to_string(),
        }
    }

    fn artifact(&self, input: &Input) -> Artifact {
        let newline = match &self.existing {
            Some(text) if text.contains("\r\n") => "\r\n",
            Some(_) => "\n",
            None => input.file.newline(),
        };
        let blocks = self.proposal.render_blocks(newline);
        let text = match &self.existing {
            None => format!(
                "# Written by dockopt: what this build context holds that the Dockerfile does not use.{newline}\
                 # Nothing here is named by a COPY/ADD or read by a RUN (`dockopt explain dockerignore`).{newline}{newline}{blocks}"
            ),
            Some(original) => {
                let mut text = original.clone();
                if !text.is_empty() {
                    if !text.ends_with('\n') {
                        text.push_str(newline);
                    }
                    text.push_str(newline);
                }
                text.push_str(&format!("# Added by dockopt: in the build context, not used by the Dockerfile.{newline}"));
                text.push_str(&blocks);
                text
            }
        };
        Artifact { transform: NAME, path: PATH.to_string(), original: self.existing.clone(), text, applicability: self.applicability() }
    }
}

#[cfg(test)]
mod tests;
