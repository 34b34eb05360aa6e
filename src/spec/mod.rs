//! SLO spec formats, defaults and validation. No network I/O.
//!
//! Every format is read into one model ([`model::Service`], [`model::Slo`]):
//! Sloth `prometheus/v1` and its Kubernetes CRD, verdict's native
//! `verdict/v1`, OpenSLO `openslo/v1` (and Sloth's `openslo/v1alpha`
//! subset), and Pyrra `ServiceLevelObjective`s. Loading reports *every*
//! problem with file, line, column and field path.

pub mod check;
pub mod decode;
pub mod duration;
pub mod error;
pub mod model;
pub mod openslo;
pub mod promql;
pub mod pyrra;
pub mod sloth;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use decode::{Decoder, Field};
pub use duration::PromDuration;
pub use error::{FieldPath, SpecError, SpecErrors};
pub use model::{Indicator, Service, Sli, Slo, SpecFormat, VerdictSpec};
use yaml::{Loc, Value};

/// Everything loaded from a set of paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecSet {
    /// Services in load order (files sorted by path, documents in order).
    pub services: Vec<Service>,
    /// The files that were read.
    pub files: Vec<PathBuf>,
    /// Documents that were recognised but hold no SLOs (e.g. Sloth
    /// `AlertWindows`, OpenSLO `DataSource`), with what they are.
    pub skipped: Vec<(model::Source, String)>,
}

impl SpecSet {
    /// All SLOs of all services.
    pub fn slos(&self) -> impl Iterator<Item = &Slo> {
        self.services.iter().flat_map(|s| s.slos.iter())
    }
}

/// Lists the spec files under the given paths: files as given, directories
/// walked recursively for `*.yaml` / `*.yml`, sorted for a stable order.
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SpecErrors> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in walkdir::WalkDir::new(p).follow_links(true) {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let path = e.path();
                        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
                        if ext == "yaml" || ext == "yml" {
                            found.push(path.to_path_buf());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(io_error(p, &e.to_string())),
                }
            }
            found.sort();
            files.extend(found);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            errors.push(io_error(p, "no such file or directory"));
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(SpecErrors(errors))
    }
}

fn io_error(path: &Path, message: &str) -> SpecError {
    SpecError {
        file: path.to_path_buf(),
        loc: Loc { line: 0, column: 0 },
        path: String::new(),
        message: format!("cannot read: {message}"),
    }
}

/// Loads and validates every spec under `paths`. Returns all errors at once.
pub fn load_paths(paths: &[PathBuf]) -> Result<SpecSet, SpecErrors> {
    let files = find_files(paths)?;
    let mut sources = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for f in &files {
        match std::fs::read_to_string(f) {
            Ok(text) => sources.push((f.clone(), text)),
            Err(e) => errors.push(io_error(f, &e.to_string())),
        }
    }
    match load_sources(&sources) {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(SpecErrors(errors)),
        Err(SpecErrors(more)) => {
            errors.extend(more);
            Err(SpecErrors(errors))
        }
    }
}

/// Loads specs from in-memory `(path, text)` pairs (the path is only used
/// in messages). This is what `load_paths` does after reading the files.
pub fn load_sources(sources: &[(PathBuf, String)]) -> Result<SpecSet, SpecErrors> {
    let mut set = SpecSet::default();
    let mut errors = Vec::new();
    let mut openslo = openslo::OpenSloObjects::new();
    for (path, text) in sources {
        set.files.push(path.clone());
        let docs = match yaml::parse_documents(text) {
            Ok(d) => d,
            Err(e) => {
                errors.push(SpecError {
                    file: path.clone(),
                    loc: e.loc,
                    path: String::new(),
                    message: format!("invalid YAML: {}", e.message),
                });
                continue;
            }
        };
        let mut d = Decoder::with_source(path, text);
        for doc in &docs {
            match &doc.value {
                // OpenSLO style: a YAML list of objects.
                Value::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let f = Field::new(item, FieldPath::root().index(i));
                        decode_object(&mut d, &f, &mut set, &mut openslo);
                    }
                }
                _ => decode_object(
                    &mut d,
                    &Field::new(doc, FieldPath::root()),
                    &mut set,
                    &mut openslo,
                ),
            }
        }
        errors.extend(d.errors);
    }
    // OpenSLO objects reference each other across files: resolve at the end.
    set.services.extend(openslo.resolve(&mut errors));
    check_unique_ids(&set, &mut errors);
    // Report in file order, whatever order the fields were checked in.
    errors.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(SpecErrors(errors))
    }
}

/// Dispatches one YAML object on `version` or `apiVersion`/`kind`.
fn decode_object(
    d: &mut Decoder,
    f: &Field<'_>,
    set: &mut SpecSet,
    openslo: &mut openslo::OpenSloObjects,
) {
    if !matches!(f.node.value, Value::Map(_)) {
        d.at(
            f,
            format!(
                "expected a spec document (a mapping), found {}",
                f.node.value.kind()
            ),
        );
        return;
    }
    let version = f.node.get("version").and_then(|n| n.as_str());
    let api = f.node.get("apiVersion").and_then(|n| n.as_str());
    let kind = f.node.get("kind").and_then(|n| n.as_str()).unwrap_or("");
    let service = match (version, api) {
        (Some("prometheus/v1"), None) => sloth::decode_versioned(d, f, sloth::Flavour::Sloth),
        (Some("verdict/v1"), None) => sloth::decode_versioned(d, f, sloth::Flavour::Native),
        (Some(v), None) => {
            let at = f.node.get("version").map(|n| n.loc).unwrap_or(f.node.loc);
            d.error(
                at,
                &f.path.key("version"),
                format!("unknown spec version {v:?}, expected \"prometheus/v1\" (Sloth) or \"verdict/v1\""),
            );
            None
        }
        (_, Some("sloth.slok.dev/v1")) => match kind {
            "PrometheusServiceLevel" => sloth::decode_k8s(d, f),
            "AlertWindows" => {
                set.skipped.push((
                    model::Source::new(d.file, f.node.loc),
                    "Sloth AlertWindows (used by `verdict generate rules --windows`)".into(),
                ));
                None
            }
            other => {
                unknown_kind(d, f, other, "sloth.slok.dev/v1", "PrometheusServiceLevel");
                None
            }
        },
        (_, Some(a)) if a.starts_with("openslo/") => {
            openslo.collect(d, f);
            None
        }
        (_, Some("pyrra.dev/v1alpha1")) => match kind {
            "ServiceLevelObjective" => pyrra::decode_pyrra(d, f),
            other => {
                unknown_kind(d, f, other, "pyrra.dev/v1alpha1", "ServiceLevelObjective");
                None
            }
        },
        (_, Some(a)) => {
            let at = f
                .node
                .get("apiVersion")
                .map(|n| n.loc)
                .unwrap_or(f.node.loc);
            d.error(
                at,
                &f.path.key("apiVersion"),
                format!("unsupported apiVersion {a:?}: verdict reads sloth.slok.dev/v1, openslo/v1, openslo/v1alpha and pyrra.dev/v1alpha1"),
            );
            None
        }
        (None, None) => {
            d.at(
                f,
                "not an SLO spec: expected `version: prometheus/v1` (Sloth), `version: verdict/v1`, or an `apiVersion` of OpenSLO, Pyrra or Sloth's CRD",
            );
            None
        }
    };
    if let Some(s) = service {
        set.services.push(s);
    }
}

fn unknown_kind(d: &mut Decoder, f: &Field<'_>, kind: &str, api: &str, expected: &str) {
    let at = f.node.get("kind").map(|n| n.loc).unwrap_or(f.node.loc);
    d.error(
        at,
        &f.path.key("kind"),
        format!("unsupported kind {kind:?} for {api}, expected {expected}"),
    );
}

fn check_unique_ids(set: &SpecSet, errors: &mut Vec<SpecError>) {
    let mut seen: BTreeMap<&str, &model::Source> = BTreeMap::new();
    for slo in set.slos() {
        if let Some(first) = seen.get(slo.id.as_str()) {
            errors.push(SpecError {
                file: slo.source.file.clone(),
                loc: slo.source.loc(),
                path: slo.source.path.clone(),
                message: format!(
                    "duplicate SLO id `{}` (service `{}`, SLO `{}`): already defined at {}:{}:{}",
                    slo.id,
                    slo.service,
                    slo.name,
                    first.file.display(),
                    first.line,
                    first.column
                ),
            });
        } else {
            seen.insert(&slo.id, &slo.source);
        }
    }
}
