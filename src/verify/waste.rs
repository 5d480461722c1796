//! Where an image's bytes go to waste: dive's efficiency score over its layers, the wasted bytes,
//! and the instruction that wrote each wasted copy.
//!
//! Every path of every layer is a copy of that path (a file deleted by a later layer gets a copy of
//! size 0 there). The efficiency is Σ over paths of its smallest copy / Σ of every copy (dive's
//! score: 1.0 when no path is written twice and nothing is deleted); the wasted bytes are the
//! difference, Σ over paths of (every copy − the smallest). A copy is wasted unless it is the
//! smallest (the last one among equals: the copy the image shows), and each wasted copy is counted
//! against the layer that holds it, with the layer that replaced or deleted it. Unlike dive, deleting
//! a folder deletes each file in it (dive counts the folder's files once more instead of as waste),
//! and "wasted" leaves out the one copy that is needed (dive's "potential wasted space" counts it).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use serde::Serialize;

use super::tarfs::{self, Entry, Kind};

/// What the engine's image archive holds for one layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The instruction that wrote it, as the image's history records it (`RUN …`, `COPY …`).
    pub created_by: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageWaste {
    /// dive's efficiency score, 0 to 1.
    pub efficiency: f64,
    /// Σ of every copy of every path.
    pub total_bytes: u64,
    pub wasted_bytes: u64,
    /// Every layer, the base image's first.
    pub layers: Vec<LayerWaste>,
    /// Every path with wasted bytes, the most first.
    pub paths: Vec<PathWaste>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerWaste {
    /// From 0, the base image's first.
    pub index: usize,
    /// The instruction as the image's history records it (shortened).
    pub instruction: String,
    /// The line of the Dockerfile's instruction, when the layer could be matched to one.
    pub line: Option<usize>,
    /// Bytes of the files it holds.
    pub bytes: u64,
    /// Bytes of its copies that a later layer replaced or deleted (or that a smaller earlier copy
    /// makes wasted).
    pub wasted_bytes: u64,
    /// The layers that replaced or deleted its wasted copies, with the bytes each hid.
    pub hidden_by: Vec<HiddenBy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HiddenBy {
    pub layer: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathWaste {
    pub path: String,
    pub wasted_bytes: u64,
    /// Each copy, in layer order.
    pub copies: Vec<CopyOf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CopyOf {
    pub layer: usize,
    pub size: u64,
    /// A delete (a whiteout): the copy that hides the earlier ones.
    pub deleted: bool,
}

/// The efficiency and the waste of an image made of `layers` (the base image's first).
pub fn analyze(layers: &[Layer]) -> ImageWaste {
    // Per path: its copies in layer order.
    let mut copies: HashMap<String, Vec<CopyOf>> = HashMap::new();
    // The image's files as the layers so far stack up: path → (kind, size).
    let mut stacked: BTreeMap<String, (Kind, u64)> = BTreeMap::new();
    let mut sizes = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let mut bytes = 0;
        let mut deleted: Vec<String> = Vec::new();
        let mut opaque: Vec<String> = Vec::new();
        // A folder that holds other entries of this layer is no leaf: only leaves count (as dive).
        let mut parents: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for entry in &layer.entries {
            let mut path = entry.path.as_str();
            while let Some((parent, _)) = path.rsplit_once('/') {
                if !parents.insert(parent) {
                    break;
                }
                path = parent;
            }
        }
        for entry in &layer.entries {
            let (dir, name) = entry.path.rsplit_once('/').unwrap_or(("", entry.path.as_str()));
            if name == ".wh..wh..opq" {
                opaque.push(dir.to_string());
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                deleted.push(if dir.is_empty() { hidden.to_string() } else { format!("{dir}/{hidden}") });
                continue;
            }
            if entry.kind == Kind::Dir && parents.contains(entry.path.as_str()) {
                continue;
            }
            bytes += entry.size;
            copies.entry(entry.path.clone()).or_default().push(CopyOf { layer: index, size: entry.size, deleted: false });
        }
        // What a whiteout (or an opaque folder) deletes: each file below it gets a copy of size 0.
        for root in deleted.iter().chain(&opaque) {
            let keep_root = opaque.contains(root);
            let below: Vec<String> = under(&stacked, root).filter(|p| !(keep_root && p == root)).collect();
            for path in below {
                let (kind, _) = stacked[&path];
                let replaced = copies.get(&path).and_then(|c| c.last()).is_some_and(|c| c.layer == index);
                if kind != Kind::Dir && !replaced {
                    copies.entry(path.clone()).or_default().push(CopyOf { layer: index, size: 0, deleted: true });
                }
                if !replaced {
                    stacked.remove(&path);
                }
            }
        }
        for entry in &layer.entries {
            let name = entry.path.rsplit('/').next().unwrap_or("");
            if !name.starts_with(".wh.") {
                stacked.insert(entry.path.clone(), (entry.kind, entry.size));
            }
        }
        sizes.push(bytes);
    }

    let mut layer_waste: Vec<LayerWaste> = layers
        .iter()
        .enumerate()
        .map(|(index, layer)| LayerWaste { index, instruction: clean_history(&layer.created_by), line: None, bytes: sizes[index], wasted_bytes: 0, hidden_by: Vec::new() })
        .collect();
    let (mut total, mut smallest) = (0u64, 0u64);
    let mut paths = Vec::new();
    for (path, list) in copies {
        let sum: u64 = list.iter().map(|c| c.size).sum();
        let min = list.iter().map(|c| c.size).min().unwrap_or(0);
        total += sum;
        smallest += min;
        if sum == min {
            continue;
        }
        // The kept copy: the last of the smallest.
        let kept = list.iter().rposition(|c| c.size == min).unwrap_or(list.len() - 1);
        for (at, copy) in list.iter().enumerate().filter(|(at, c)| *at != kept && c.size > 0) {
            let waste = &mut layer_waste[copy.layer];
            waste.wasted_bytes += copy.size;
            if let Some(next) = list.get(at + 1) {
                match waste.hidden_by.iter_mut().find(|h| h.layer == next.layer) {
                    Some(h) => h.bytes += copy.size,
                    None => waste.hidden_by.push(HiddenBy { layer: next.layer, bytes: copy.size }),
                }
            }
        }
        paths.push(PathWaste { path, wasted_bytes: sum - min, copies: list });
    }
    paths.sort_by(|a, b| b.wasted_bytes.cmp(&a.wasted_bytes).then_with(|| a.path.cmp(&b.path)));
    for layer in &mut layer_waste {
        layer.hidden_by.sort_by(|a, b| b.bytes.cmp(&a.bytes));
    }
    ImageWaste {
        efficiency: if total == 0 { 1.0 } else { smallest as f64 / total as f64 },
        total_bytes: total,
        wasted_bytes: total - smallest,
        layers: layer_waste,
        paths,
    }
}

/// `root` and every stacked path below it.
fn under<'a>(stacked: &'a BTreeMap<String, (Kind, u64)>, root: &'a str) -> impl Iterator<Item = String> + 'a {
    let prefix = format!("{root}/");
    let exact = stacked.contains_key(root).then(|| root.to_string());
    let start = if root.is_empty() { String::new() } else { prefix.clone() };
    let below = stacked.range(start..).map(|(p, _)| p).take_while(move |p| root.is_empty() || p.starts_with(&prefix)).cloned();
    exact.into_iter().chain(below)
}

/// The history's `created_by` as an instruction: Buildah's `/bin/sh -c #(nop) COPY …` and plain
/// `/bin/sh -c cmd`, BuildKit's `RUN /bin/sh -c cmd # buildkit`, shortened.
pub fn clean_history(created_by: &str) -> String {
    let mut text = created_by.trim();
    // `|2 A=1 B=2 /bin/sh -c …`: the build args a RUN saw.
    if let Some(rest) = text.strip_prefix('|') {
        if let Some(at) = rest.find("/bin/sh -c ") {
            text = &rest[at..];
        }
    }
    text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    let shown = if let Some(rest) = text.strip_prefix("/bin/sh -c #(nop) ") {
        rest.trim().to_string()
    } else if let Some(rest) = text.strip_prefix("/bin/sh -c ") {
        format!("RUN {}", rest.trim())
    } else if let Some(rest) = text.strip_prefix("RUN /bin/sh -c ") {
        format!("RUN {}", rest.trim())
    } else {
        text.to_string()
    };
    super::report::short_step(&short_digests(&shown))
}

/// Buildah's `COPY dir:<64 hex digits> in /app`: the digest cut to 12 digits, as engines show ids.
fn short_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['d', 'f']).filter(|_| !rest.is_empty()) {
        let tail = &rest[at..];
        let prefix = ["dir:", "file:"].into_iter().find(|p| tail.starts_with(p));
        match prefix {
            Some(p) if tail[p.len()..].len() >= 64 && tail[p.len()..p.len() + 64].chars().all(|c| c.is_ascii_hexdigit()) => {
                out.push_str(&rest[..at + p.len() + 12]);
                rest = &tail[p.len() + 64..];
            }
            _ => {
                out.push_str(&rest[..at + 1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first word of a cleaned history line, upper case (`RUN`, `COPY`, `ADD`, `WORKDIR`…).
fn keyword(instruction: &str) -> String {
    instruction.split_whitespace().next().unwrap_or_default().to_ascii_uppercase()
}

/// Match the image's last layers to the Dockerfile's instructions that write layers (`RUN`,
/// `COPY`, `ADD`, and `WORKDIR`, which some builders store as a layer): from the end, by keyword.
/// `instructions` are `(keyword, line)` of the shipped image's instructions, in order.
pub fn attribute(waste: &mut ImageWaste, instructions: &[(String, usize)]) {
    let writers: Vec<&(String, usize)> = instructions.iter().filter(|(k, _)| matches!(k.as_str(), "RUN" | "COPY" | "ADD" | "WORKDIR")).collect();
    let mut i = writers.len();
    let mut j = waste.layers.len();
    while i > 0 && j > 0 {
        let wanted = &writers[i - 1].0;
        let found = keyword(&waste.layers[j - 1].instruction);
        if &found == wanted {
            waste.layers[j - 1].line = Some(writers[i - 1].1);
            i -= 1;
            j -= 1;
        } else if wanted == "WORKDIR" {
            i -= 1;
        } else if found == "WORKDIR" {
            j -= 1;
        } else {
            break;
        }
    }
}

/// The layers of an image archive (`docker save`, `podman save --format docker-archive`, or the
/// OCI layout Docker 25 writes) read as the engine streams it: each member that is a tar is read as
/// a layer's listing, the JSON members are kept, and `manifest.json` puts the layers in order and
/// names the config whose history says what wrote each.
pub fn read_archive<R: Read>(reader: R) -> io::Result<Vec<Layer>> {
    let members = tarfs::read_members(reader)?;
    let json = |name: &str| members.json.get(name).and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    let manifest = json("manifest.json").ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the image archive has no manifest.json"))?;
    let first = manifest.get(0).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "manifest.json lists no image"))?;
    let config = first.get("Config").and_then(|c| c.as_str()).and_then(json);
    let names: Vec<&str> = first.get("Layers").and_then(|l| l.as_array()).map(|l| l.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    let history: Vec<String> = config
        .as_ref()
        .and_then(|c| c.get("history"))
        .and_then(|h| h.as_array())
        .map(|h| {
            h.iter()
                .filter(|e| !e.get("empty_layer").and_then(|v| v.as_bool()).unwrap_or(false))
                .map(|e| e.get("created_by").and_then(|v| v.as_str()).unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut layers = Vec::with_capacity(names.len());
    // The history may have fewer entries than layers (an image imported without it): match from the end.
    let offset = names.len().saturating_sub(history.len());
    for (at, name) in names.iter().enumerate() {
        let entries = members.layers.get(*name).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("the image archive has no layer {name}")))?;
        let created_by = at.checked_sub(offset).and_then(|h| history.get(h + history.len().saturating_sub(names.len()))).cloned().unwrap_or_default();
        layers.push(Layer { created_by, entries });
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> Entry {
        Entry { path: path.into(), kind: Kind::File, size }
    }
    fn dir(path: &str) -> Entry {
        Entry { path: path.into(), kind: Kind::Dir, size: 0 }
    }
    fn layer(created_by: &str, entries: Vec<Entry>) -> Layer {
        Layer { created_by: created_by.into(), entries }
    }

    #[test]
    fn no_waste_is_one() {
        let waste = analyze(&[layer("base", vec![dir("etc"), file("etc/a", 10)]), layer("/bin/sh -c #(nop) COPY file:x in /app", vec![dir("app"), file("app/b", 5)])]);
        assert_eq!(waste.efficiency, 1.0);
        assert_eq!(waste.wasted_bytes, 0);
        assert_eq!(waste.total_bytes, 15);
        assert!(waste.paths.is_empty());
    }

    #[test]
    fn chown_after_copy_stores_twice() {
        let waste = analyze(&[
            layer("base", vec![file("etc/a", 100)]),
            layer("/bin/sh -c #(nop) COPY dir:x in /app", vec![dir("app"), file("app/x", 50), file("app/y", 30)]),
            layer("/bin/sh -c chown -R app /app", vec![dir("app"), file("app/x", 50), file("app/y", 30)]),
        ]);
        assert_eq!(waste.wasted_bytes, 80);
        assert_eq!(waste.total_bytes, 260);
        assert!((waste.efficiency - 180.0 / 260.0).abs() < 1e-9);
        // The COPY's copies are the hidden ones, hidden by the chown's layer.
        assert_eq!(waste.layers[1].wasted_bytes, 80);
        assert_eq!(waste.layers[1].instruction, "COPY dir:x in /app");
        assert_eq!(waste.layers[1].hidden_by[0].layer, 2);
        assert_eq!(waste.layers[2].instruction, "RUN chown -R app /app");
        assert_eq!(waste.paths[0].path, "app/x");
    }

    #[test]
    fn deletes_count_each_file_of_a_deleted_folder() {
        let waste = analyze(&[
            layer("base", vec![]),
            layer("/bin/sh -c download", vec![dir("tmp"), dir("tmp/src"), file("tmp/src/a", 40), file("tmp/src/b", 60), file("tmp/x.tgz", 20)]),
            layer("/bin/sh -c rm -rf /tmp/src /tmp/x.tgz", vec![dir("tmp"), file("tmp/.wh.src", 0), file("tmp/.wh.x.tgz", 0)]),
        ]);
        assert_eq!(waste.wasted_bytes, 120);
        assert_eq!(waste.efficiency, 0.0);
        assert_eq!(waste.layers[1].wasted_bytes, 120);
        assert_eq!(waste.layers[1].hidden_by[0].layer, 2);
        let deleted = waste.paths.iter().find(|p| p.path == "tmp/src/a").unwrap();
        assert!(deleted.copies[1].deleted);
    }

    #[test]
    fn opaque_folders_hide_what_was_there() {
        let waste = analyze(&[
            layer("base", vec![dir("d"), file("d/old", 7)]),
            layer("x", vec![dir("d"), file("d/.wh..wh..opq", 0), file("d/new", 3)]),
        ]);
        assert_eq!(waste.wasted_bytes, 7);
    }

    #[test]
    fn history_lines() {
        assert_eq!(clean_history("/bin/sh -c #(nop) WORKDIR /app"), "WORKDIR /app");
        assert_eq!(clean_history("|1 V=2 /bin/sh -c make install"), "RUN make install");
        assert_eq!(clean_history("RUN /bin/sh -c apt-get update # buildkit"), "RUN apt-get update");
        assert_eq!(clean_history("COPY . /app # buildkit"), "COPY . /app");
        let digest = "978cdea51172d4b71cf3c2bf74ecd331ac2f7f1118590b44cbae213239e52cac";
        assert_eq!(clean_history(&format!("/bin/sh -c #(nop) COPY dir:{digest} in /app ")), "COPY dir:978cdea51172 in /app");
    }

    #[test]
    fn layers_are_matched_to_instructions_from_the_end() {
        let mut waste = analyze(&[layer("base", vec![]), layer("/bin/sh -c #(nop) COPY dir:x in /app", vec![]), layer("/bin/sh -c chown -R app /app", vec![])]);
        let instructions = [("FROM".to_string(), 1), ("WORKDIR".to_string(), 2), ("COPY".to_string(), 3), ("RUN".to_string(), 4), ("CMD".to_string(), 5)];
        attribute(&mut waste, &instructions);
        assert_eq!(waste.layers.iter().map(|l| l.line).collect::<Vec<_>>(), [None, Some(3), Some(4)]);
    }
}
