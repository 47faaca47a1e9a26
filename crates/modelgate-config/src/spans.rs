//! Where things are in the YAML source. The typed parse keeps no locations,
//! so on an error the text is parsed a second time into an untyped tree of
//! spanned keys and items, which names the field at an error's location and
//! finds the line of a field that failed validation.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// An untyped YAML node that remembers where its keys and items are.
#[derive(Debug)]
pub(crate) enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    /// A scalar's text (`None` for null).
    Scalar(Option<String>),
}

/// A mapping key as text (non-scalar keys become empty).
#[derive(Debug)]
pub(crate) struct Key(String);

/// One step of a path into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// The spanned tree of `text`. Any YAML is a tree, so an error here is in
/// the YAML itself (syntax, duplicate keys), not in the settings.
pub(crate) fn parse(text: &str) -> Result<Spanned<Node>, serde_saphyr::Error> {
    serde_saphyr::from_str(text)
}

/// The path of the node at `loc`. With `key`, only a mapping key of that
/// text matches (an unknown field's location is its key's, which a parent
/// mapping shares); otherwise the outermost key or item at `loc` does, so a
/// type error names the field holding the wrong value.
pub(crate) fn path_at<'a>(
    root: &'a Spanned<Node>,
    loc: Location,
    key: Option<&str>,
) -> Option<(Vec<Seg>, &'a Node)> {
    let mut path = Vec::new();
    find(&root.value, loc, key, &mut path).map(|node| (path, node))
}

fn same(a: Location, b: Location) -> bool {
    a.line() == b.line() && a.column() == b.column()
}

/// A map entry (with its key) or a sequence item.
type Child<'a> = (Seg, Option<&'a Spanned<Key>>, &'a Spanned<Node>);

fn find<'a>(
    node: &'a Node,
    loc: Location,
    key: Option<&str>,
    path: &mut Vec<Seg>,
) -> Option<&'a Node> {
    let children: Vec<Child<'a>> = match node {
        Node::Map(entries) => entries
            .iter()
            .map(|(k, v)| (Seg::Key(k.value.0.clone()), Some(k), v))
            .collect(),
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Seg::Index(i), None, v))
            .collect(),
        Node::Scalar(_) => return None,
    };
    for (seg, k, v) in children {
        let hit = match (key, k) {
            (Some(name), Some(k)) => k.value.0 == name && same(k.referenced, loc),
            (Some(_), None) => false,
            (None, k) => k.is_some_and(|k| same(k.referenced, loc)) || same(v.referenced, loc),
        };
        path.push(seg);
        if hit {
            return Some(&v.value);
        }
        if let Some(found) = find(&v.value, loc, key, path) {
            return Some(found);
        }
        path.pop();
    }
    None
}

/// The location of the deepest key or item along `path` that exists.
pub(crate) fn locate(root: &Spanned<Node>, path: &[Seg]) -> Option<Location> {
    let mut node = &root.value;
    let mut found = None;
    for seg in path {
        let next = match (node, seg) {
            (Node::Map(entries), Seg::Key(name)) => entries
                .iter()
                .find(|(k, _)| &k.value.0 == name)
                .map(|(k, v)| (k.referenced, v)),
            (Node::Seq(items), Seg::Index(i)) => items.get(*i).map(|v| (v.referenced, v)),
            _ => None,
        };
        let Some((loc, child)) = next else { break };
        found = Some(loc);
        node = &child.value;
    }
    found
}

/// `path` as text: `endpoints.local.models.fetch`, `api_keys[1]`. An
/// endpoint is named by its `name` when it has a plain one, else by index.
pub(crate) fn render_path(root: Option<&Spanned<Node>>, path: &[Seg]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Seg::Index(n) => {
                let name = (i == 1 && path[0] == Seg::Key("endpoints".into()))
                    .then(|| root.and_then(|r| endpoint_name(r, *n)))
                    .flatten();
                match name {
                    Some(name) => {
                        out.push('.');
                        out.push_str(&name);
                    }
                    None => out.push_str(&format!("[{n}]")),
                }
            }
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

fn endpoint_name(root: &Spanned<Node>, index: usize) -> Option<String> {
    let Node::Map(entries) = &root.value else {
        return None;
    };
    let (_, eps) = entries.iter().find(|(k, _)| k.value.0 == "endpoints")?;
    let Node::Seq(items) = &eps.value else {
        return None;
    };
    let Node::Map(fields) = &items.get(index)?.value else {
        return None;
    };
    let (_, name) = fields.iter().find(|(k, _)| k.value.0 == "name")?;
    match &name.value {
        Node::Scalar(Some(n))
            if !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            Some(n.clone())
        }
        _ => None,
    }
}

/// Splits a validation field path such as `headers.X-Org` or `api_keys[1]`
/// into segments. Only the first `.` separates: header names and model ids
/// may themselves contain dots (`model_map.gpt-4.1`).
pub(crate) fn split_field(field: &str) -> Vec<Seg> {
    let end = field.find(['.', '[']).unwrap_or(field.len());
    let (head, rest) = field.split_at(end);
    let mut segs = vec![Seg::Key(head.to_owned())];
    if let Some(key) = rest.strip_prefix('.') {
        segs.push(Seg::Key(key.to_owned()));
    } else if let Some(index) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
        && let Ok(i) = index.parse()
    {
        segs.push(Seg::Index(i));
    }
    segs
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A key is whatever scalar is written; only its text matters here.
        match Node::deserialize(d)? {
            Node::Scalar(text) => Ok(Key(text.unwrap_or_default())),
            Node::Map(_) | Node::Seq(_) => Ok(Key(String::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
timeouts:
  connect: 5s
endpoints:
  - name: local
    headers:
      X-Org: o
    api_keys:
      - k1
      - k2
  - {name: 'b/c', base_url: x}
";

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn locates_keys_and_items() {
        let root = parse(TEXT).expect("yaml");
        let at = |path: &[Seg]| locate(&root, path).map(|l| (l.line(), l.column()));
        assert_eq!(at(&[key("timeouts"), key("connect")]), Some((2, 3)));
        assert_eq!(
            at(&[key("endpoints"), Seg::Index(0), key("name")]),
            Some((4, 5))
        );
        let hdr = [
            key("endpoints"),
            Seg::Index(0),
            key("headers"),
            key("X-Org"),
        ];
        assert_eq!(at(&hdr), Some((6, 7)));
        let k2 = [
            key("endpoints"),
            Seg::Index(0),
            key("api_keys"),
            Seg::Index(1),
        ];
        assert_eq!(at(&k2), Some((9, 9)));
        // A missing last step falls back to the deepest one found.
        let missing = [key("endpoints"), Seg::Index(1), key("nope")];
        assert_eq!(at(&missing).map(|(l, _)| l), Some(10));
    }

    #[test]
    fn renders_paths_with_endpoint_names() {
        let root = parse(TEXT).expect("yaml");
        let mut path = vec![key("endpoints"), Seg::Index(0)];
        path.extend(split_field("headers.X-Org"));
        assert_eq!(
            render_path(Some(&root), &path),
            "endpoints.local.headers.X-Org"
        );
        let mut path = vec![key("endpoints"), Seg::Index(1)];
        path.extend(split_field("api_keys[3]"));
        // `b/c` is not a usable name, so the index is shown.
        assert_eq!(render_path(Some(&root), &path), "endpoints[1].api_keys[3]");
        assert_eq!(
            split_field("model_map.gpt-4.1"),
            vec![key("model_map"), key("gpt-4.1")]
        );
    }

    #[test]
    fn finds_the_field_at_a_location() {
        let root = parse(TEXT).expect("yaml");
        let loc = locate(&root, &[key("timeouts"), key("connect")]).expect("loc");
        let (path, _) = path_at(&root, loc, Some("connect")).expect("found");
        assert_eq!(path, vec![key("timeouts"), key("connect")]);
        assert!(path_at(&root, loc, Some("other")).is_none());
    }
}
