//! Typed reading of a located YAML tree, collecting every error.
//!
//! Unlike serde, which stops at the first problem, a [`Decoder`] records an
//! error and carries on, so `verdict check` reports everything wrong with a
//! file in one run. Every error names the field path and the location.

use std::collections::BTreeMap;
use std::path::Path;

use super::duration::PromDuration;
use super::error::{FieldPath, SpecError};
use super::yaml::{Loc, Node, Value};

/// Collects errors for one file.
pub struct Decoder<'f> {
    pub file: &'f Path,
    pub errors: Vec<SpecError>,
    /// The file's text, when available, to point inside scalar values.
    pub source: Option<&'f str>,
}

impl<'f> Decoder<'f> {
    pub fn new(file: &'f Path) -> Self {
        Decoder {
            file,
            errors: Vec::new(),
            source: None,
        }
    }

    /// A decoder that can also locate positions inside scalar values.
    pub fn with_source(file: &'f Path, source: &'f str) -> Self {
        Decoder {
            source: Some(source),
            ..Decoder::new(file)
        }
    }

    /// The file location of character `pos` of the string value of `node`,
    /// when the value's text can be found verbatim in the source (plain,
    /// quoted without escapes before `pos`, or block scalars).
    pub fn locate_in_value(&self, node: &Node, pos: usize) -> Option<Loc> {
        let source = self.source?;
        let Value::Str(text) = &node.value else {
            return None;
        };
        let mut k = 0usize;
        let mut off = pos;
        for (i, line) in text.split('\n').enumerate() {
            let n = line.chars().count();
            if off <= n {
                k = i;
                break;
            }
            off -= n + 1;
            k = i + 1;
        }
        let want: String = text.split('\n').nth(k)?.to_string();
        let file_line = source.lines().nth(node.loc.line as usize - 1 + k)?;
        let mut col = node.loc.column as usize; // 1-based
        let rest: String = file_line.chars().skip(col - 1).collect();
        let rest = if k == 0 && (rest.starts_with('"') || rest.starts_with('\'')) {
            col += 1;
            rest.chars().skip(1).collect()
        } else {
            rest
        };
        if !rest.starts_with(want.as_str()) {
            return None;
        }
        Some(Loc {
            line: node.loc.line + k as u32,
            column: (col + off) as u32,
        })
    }

    pub fn error(&mut self, loc: Loc, path: &FieldPath, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.to_path_buf(),
            loc,
            path: path.as_str().to_string(),
            message: message.into(),
        });
    }

    /// An error at a field's value.
    pub fn at(&mut self, field: &Field<'_>, message: impl Into<String>) {
        self.error(field.node.loc, &field.path, message);
    }
}

/// A node together with the path that led to it.
#[derive(Clone)]
pub struct Field<'n> {
    pub node: &'n Node,
    pub path: FieldPath,
}

impl<'n> Field<'n> {
    pub fn new(node: &'n Node, path: FieldPath) -> Self {
        Field { node, path }
    }
    pub fn loc(&self) -> Loc {
        self.node.loc
    }
}

/// Reads the fields of one mapping; reports unknown and missing fields.
pub struct Fields<'n> {
    node: &'n Node,
    path: FieldPath,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    known: Vec<String>,
    camel: bool,
}

/// `error_ratio_query` → `errorRatioQuery`.
pub fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl<'n> Fields<'n> {
    /// Starts reading a mapping; records an error and returns `None` if the
    /// node is not one. With `camel`, keys are looked up in camelCase
    /// (Kubernetes CRD spelling) while callers keep using snake_case names.
    pub fn of(d: &mut Decoder, field: &Field<'n>, camel: bool) -> Option<Fields<'n>> {
        match &field.node.value {
            Value::Map(entries) => Some(Fields {
                node: field.node,
                path: field.path.clone(),
                entries,
                used: vec![false; entries.len()],
                known: Vec::new(),
                camel,
            }),
            other => {
                d.at(field, format!("expected a mapping, found {}", other.kind()));
                None
            }
        }
    }

    pub fn path(&self) -> &FieldPath {
        &self.path
    }
    pub fn loc(&self) -> Loc {
        self.node.loc
    }

    fn spelled(&self, key: &str) -> String {
        if self.camel {
            snake_to_camel(key)
        } else {
            key.to_string()
        }
    }

    /// Takes an optional field. A `null` value counts as absent.
    pub fn opt(&mut self, key: &str) -> Option<Field<'n>> {
        let name = self.spelled(key);
        let found = self
            .entries
            .iter()
            .position(|(k, _)| matches!(&k.value, Value::Str(s) if *s == name));
        self.known.push(name.clone());
        let i = found?;
        self.used[i] = true;
        let node = &self.entries[i].1;
        if node.value == Value::Null {
            return None;
        }
        Some(Field::new(node, self.path.key(&name)))
    }

    /// Takes a required field, reporting it at the mapping when missing.
    pub fn req(&mut self, d: &mut Decoder, key: &str) -> Option<Field<'n>> {
        let f = self.opt(key);
        if f.is_none() {
            let name = self.spelled(key);
            d.error(
                self.node.loc,
                &self.path,
                format!("missing required field `{name}`"),
            );
        }
        f
    }

    /// Whether the mapping has this key at all (without taking it).
    pub fn has(&self, key: &str) -> bool {
        let name = self.spelled(key);
        self.entries
            .iter()
            .any(|(k, _)| matches!(&k.value, Value::Str(s) if *s == name))
    }

    /// Marks a key as known and consumed without reading it.
    pub fn ignore(&mut self, key: &str) {
        let _ = self.opt(key);
    }

    /// Reports every field that no reader asked for.
    pub fn finish(self, d: &mut Decoder) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let name = match &k.value {
                Value::Str(s) => s.clone(),
                other => format!("<{}>", other.kind()),
            };
            let path = self.path.key(&name);
            let mut msg = format!("unknown field `{name}`");
            if let Some(best) = closest(&name, &self.known) {
                msg.push_str(&format!(", did you mean `{best}`?"));
            } else if !self.known.is_empty() {
                let mut known = self.known.clone();
                known.dedup();
                msg.push_str(&format!(", expected one of: {}", known.join(", ")));
            }
            d.error(k.loc, &path, msg);
        }
    }

    // Typed shorthands.

    pub fn req_str(&mut self, d: &mut Decoder, key: &str) -> Option<(String, Field<'n>)> {
        let f = self.req(d, key)?;
        string(d, &f).map(|s| (s, f))
    }
    pub fn opt_str(&mut self, d: &mut Decoder, key: &str) -> Option<(String, Field<'n>)> {
        let f = self.opt(key)?;
        string(d, &f).map(|s| (s, f))
    }
    pub fn opt_bool(&mut self, d: &mut Decoder, key: &str) -> Option<bool> {
        let f = self.opt(key)?;
        boolean(d, &f)
    }
    pub fn labels(&mut self, d: &mut Decoder, key: &str) -> BTreeMap<String, String> {
        match self.opt(key) {
            Some(f) => string_map(d, &f),
            None => BTreeMap::new(),
        }
    }
    pub fn opt_duration(
        &mut self,
        d: &mut Decoder,
        key: &str,
    ) -> Option<(PromDuration, Field<'n>)> {
        let f = self.opt(key)?;
        duration(d, &f).map(|v| (v, f))
    }
}

/// Edit distance based suggestion for a misspelled key.
fn closest(name: &str, known: &[String]) -> Option<String> {
    let lower = name.to_lowercase();
    known
        .iter()
        .map(|k| (levenshtein(&lower, &k.to_lowercase()), k))
        .filter(|(dist, k)| *dist <= 2.max(k.len() / 4) && *dist > 0 || k.to_lowercase() == lower)
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, k)| k.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn wrong_type(d: &mut Decoder, f: &Field<'_>, expected: &str) {
    d.at(
        f,
        format!("expected {expected}, found {}", f.node.value.kind()),
    );
}

/// A string. Numbers and booleans are not silently converted.
pub fn string(d: &mut Decoder, f: &Field<'_>) -> Option<String> {
    match &f.node.value {
        Value::Str(s) => Some(s.clone()),
        _ => {
            wrong_type(d, f, "a string");
            None
        }
    }
}

/// A string, also accepting a plain scalar number (label values like `2`).
pub fn scalar_string(d: &mut Decoder, f: &Field<'_>) -> Option<String> {
    match &f.node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(x) => Some(x.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => {
            wrong_type(d, f, "a string");
            None
        }
    }
}

pub fn boolean(d: &mut Decoder, f: &Field<'_>) -> Option<bool> {
    match &f.node.value {
        Value::Bool(b) => Some(*b),
        _ => {
            wrong_type(d, f, "true or false");
            None
        }
    }
}

/// A number; with `allow_string`, a quoted number like Pyrra's `target: "99.9"`.
pub fn number(d: &mut Decoder, f: &Field<'_>, allow_string: bool) -> Option<f64> {
    match &f.node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) if x.is_finite() => Some(*x),
        Value::Float(_) => {
            d.at(f, "expected a finite number");
            None
        }
        Value::Str(s) if allow_string => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                d.at(f, format!("expected a number, found {s:?}"));
                None
            }
        },
        _ => {
            wrong_type(d, f, "a number");
            None
        }
    }
}

/// A non-negative integer.
pub fn unsigned(d: &mut Decoder, f: &Field<'_>) -> Option<u64> {
    match &f.node.value {
        Value::Int(i) if *i >= 0 => Some(*i as u64),
        Value::Int(_) => {
            d.at(f, "expected a non-negative integer");
            None
        }
        _ => {
            wrong_type(d, f, "an integer");
            None
        }
    }
}

pub fn duration(d: &mut Decoder, f: &Field<'_>) -> Option<PromDuration> {
    match &f.node.value {
        Value::Str(s) => match PromDuration::parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                d.at(f, e.to_string());
                None
            }
        },
        Value::Int(0) => Some(PromDuration::default()),
        Value::Int(_) | Value::Float(_) => {
            d.at(
                f,
                "a duration needs a unit, e.g. 30s, 5m, 1h (a bare number is ambiguous)",
            );
            None
        }
        _ => {
            wrong_type(d, f, "a duration such as 5m");
            None
        }
    }
}

/// The items of a list.
pub fn seq<'n>(d: &mut Decoder, f: &Field<'n>) -> Option<Vec<Field<'n>>> {
    match &f.node.value {
        Value::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| Field::new(n, f.path.index(i)))
                .collect(),
        ),
        _ => {
            wrong_type(d, f, "a list");
            None
        }
    }
}

/// A list of strings.
pub fn string_list(d: &mut Decoder, f: &Field<'_>) -> Vec<String> {
    seq(d, f)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| string(d, item))
        .collect()
}

/// A mapping of label or annotation names to string values; label names are
/// checked against Prometheus's rules.
pub fn string_map(d: &mut Decoder, f: &Field<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Value::Map(entries) = &f.node.value else {
        wrong_type(d, f, "a mapping of names to strings");
        return out;
    };
    for (k, v) in entries {
        let Value::Str(name) = &k.value else {
            d.error(k.loc, &f.path, "label names must be strings");
            continue;
        };
        let field = Field::new(v, f.path.key(name));
        if let Some(value) = scalar_string(d, &field) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// Checks a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse_documents;

    fn with_root<R>(text: &str, f: impl FnOnce(&mut Decoder, Field<'_>) -> R) -> (R, Vec<String>) {
        let docs = parse_documents(text).unwrap();
        let path = Path::new("f.yaml");
        let mut d = Decoder::new(path);
        let r = f(&mut d, Field::new(&docs[0], FieldPath::root()));
        (r, d.errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn unknown_fields_are_reported_with_a_suggestion() {
        let (_, errs) = with_root("name: a\nobjectve: 99\n", |d, root| {
            let mut m = Fields::of(d, &root, false).unwrap();
            m.opt("name");
            m.opt("objective");
            m.finish(d);
        });
        assert_eq!(
            errs,
            vec!["f.yaml:2:1: objectve: unknown field `objectve`, did you mean `objective`?"]
        );
    }

    #[test]
    fn missing_required_fields_point_at_the_mapping() {
        let (_, errs) = with_root("outer:\n  a: 1\n", |d, root| {
            let mut m = Fields::of(d, &root, false).unwrap();
            let outer = m.req(d, "outer").unwrap();
            let mut inner = Fields::of(d, &outer, false).unwrap();
            inner.opt("a");
            inner.req(d, "b");
            inner.finish(d);
            m.finish(d);
        });
        assert_eq!(errs, vec!["f.yaml:2:3: outer: missing required field `b`"]);
    }

    #[test]
    fn camel_case_lookup_for_kubernetes_spelling() {
        let (v, errs) = with_root("errorRatioQuery: x\n", |d, root| {
            let mut m = Fields::of(d, &root, true).unwrap();
            let v = m
                .req_str(d, "error_ratio_query")
                .map(|(s, f)| (s, f.path.to_string()));
            m.finish(d);
            v
        });
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(v, Some(("x".to_string(), "errorRatioQuery".to_string())));
    }

    #[test]
    fn wrong_types_name_what_was_found() {
        let (_, errs) = with_root("a: [1]\nb: yes\n", |d, root| {
            let mut m = Fields::of(d, &root, false).unwrap();
            m.req_str(d, "a");
            let b = m.req(d, "b").unwrap();
            number(d, &b, false);
            m.finish(d);
        });
        assert_eq!(
            errs,
            vec![
                "f.yaml:1:4: a: expected a string, found a list",
                "f.yaml:2:4: b: expected a number, found a boolean"
            ]
        );
    }

    #[test]
    fn label_names_follow_prometheus_rules() {
        assert!(is_label_name("team"));
        assert!(is_label_name("_x9"));
        assert!(!is_label_name("9x"));
        assert!(!is_label_name("a-b"));
        assert!(!is_label_name(""));
    }
}
