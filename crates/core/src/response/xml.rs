//! XML responses, turned into the JSON shape the typed models read.
//!
//! The API's XML is a direct rendering of its JSON: an element per field, text for scalars, and
//! a list as the same element repeated (or as a wrapper around named items). Turning it into a
//! [`serde_json::Value`] lets one set of lenient models read both formats: a repeated element
//! becomes an array, a leaf becomes a string, and the lenient deserializers do the rest.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::{ParseError, ParseErrorKind};
use crate::Format;

/// Deeper documents are refused rather than followed: the API never nests more than a handful
/// of levels, and a hostile body must not drive memory or time.
pub(crate) const MAX_DEPTH: usize = 64;

struct Frame {
    name: String,
    map: Map<String, Value>,
    text: String,
    has_children: bool,
}

/// Parses `body` into (root element name, content).
pub(crate) fn to_value(body: &[u8]) -> Result<(String, Value), ParseError> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let err = |kind: ParseErrorKind, message: String, offset: u64| ParseError {
        format: Format::Xml,
        kind,
        message,
        offset: Some(offset),
        error_status: None,
    };
    loop {
        let offset = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            err(
                ParseErrorKind::Syntax,
                e.to_string(),
                reader.error_position(),
            )
        })?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(err(
                        ParseErrorKind::Syntax,
                        "a second root element after the document ended".into(),
                        offset,
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        ParseErrorKind::TooDeep,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                        offset,
                    ));
                }
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                stack.push(Frame {
                    name,
                    map: Map::new(),
                    text: String::new(),
                    has_children: false,
                });
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| err(ParseErrorKind::Syntax, e.to_string(), offset))?;
                match stack.last_mut() {
                    Some(frame) => frame.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => {
                        return Err(err(
                            ParseErrorKind::Syntax,
                            "text outside the root element".into(),
                            offset,
                        ))
                    }
                }
            }
            Event::CData(data) => {
                let data = std::str::from_utf8(&data).map_err(|_| {
                    err(ParseErrorKind::Syntax, "CDATA is not UTF-8".into(), offset)
                })?;
                if let Some(frame) = stack.last_mut() {
                    frame.text.push_str(data);
                }
            }
            Event::End(_) => {
                let Some(frame) = stack.pop() else {
                    return Err(err(
                        ParseErrorKind::Syntax,
                        "unmatched end tag".into(),
                        offset,
                    ));
                };
                // Whitespace between child elements is layout, not content.
                let value = if frame.has_children {
                    Value::Object(frame.map)
                } else {
                    Value::String(frame.text)
                };
                match stack.last_mut() {
                    Some(parent) => {
                        parent.has_children = true;
                        insert(&mut parent.map, frame.name, value);
                    }
                    None => root = Some((frame.name, value)),
                }
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(err(
                        ParseErrorKind::Truncated,
                        format!("the document ends inside <{}>", open.name),
                        offset,
                    ));
                }
                return root
                    .ok_or_else(|| err(ParseErrorKind::Empty, "no root element".into(), offset));
            }
            // Declarations, comments, processing instructions and DOCTYPE carry no data.
            _ => {}
        }
    }
}

/// An open element: its name, its children so far, its text so far.
type Open = (String, Vec<(String, Node)>, String);

/// An element's content, its children in document order.
enum Node {
    Text(String),
    Children(Vec<(String, Node)>),
}

/// The root element's content of `body` as compact JSON, in document order: the same rule as
/// [`to_value`] (text leaves, a repeated element a list, placed where it first appears), but
/// keeping the order the answer gave. `None` when `body` is not a document [`to_value`] reads.
/// Only generic answers (`Document`) use it, so typed parsing does not pay for the order.
pub(crate) fn to_ordered_json(body: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Open> = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                stack.push((name, Vec::new(), String::new()));
            }
            Event::Text(text) => {
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(&text.unescape().ok()?);
                }
            }
            Event::CData(data) => {
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(std::str::from_utf8(&data).ok()?);
                }
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop()?;
                let node = if children.is_empty() {
                    Node::Text(text)
                } else {
                    Node::Children(children)
                };
                match stack.last_mut() {
                    Some(parent) => parent.1.push((name, node)),
                    None => {
                        let mut out = String::new();
                        write_node(&mut out, &node);
                        return Some(out);
                    }
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn write_node(out: &mut String, node: &Node) {
    match node {
        Node::Text(text) => out.push_str(&Value::String(text.clone()).to_string()),
        Node::Children(children) => {
            // Each name once, where it first appears, with every occurrence; grouped through a
            // map so that a hostile answer with many siblings costs linear time.
            let mut groups: Vec<(&str, Vec<&Node>)> = Vec::new();
            let mut index: std::collections::HashMap<&str, usize> = Default::default();
            for (name, node) in children {
                match index.get(name.as_str()) {
                    Some(&i) => groups[i].1.push(node),
                    None => {
                        index.insert(name, groups.len());
                        groups.push((name, vec![node]));
                    }
                }
            }
            out.push('{');
            for (i, (name, same)) in groups.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*name).to_owned()).to_string());
                out.push(':');
                if let [only] = same[..] {
                    write_node(out, only);
                } else {
                    out.push('[');
                    for (j, item) in same.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_node(out, item);
                    }
                    out.push(']');
                }
            }
            out.push('}');
        }
    }
}

/// Adds `value` under `name`; a name seen before turns into an array of every occurrence.
fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let (root, v) = to_value(
            br#"<?xml version="1.0"?><R><A>1</A><L><x>1</x></L><L><x>2</x></L><E/><C><![CDATA[a<b]]></C><T>a &amp; &#x4e2d;</T></R>"#,
        )
        .unwrap();
        assert_eq!(root, "R");
        assert_eq!(
            v,
            json!({"A": "1", "L": [{"x": "1"}, {"x": "2"}], "E": "", "C": "a<b", "T": "a & 中"})
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = to_value(b"<R><A>1</A>").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Truncated);
        assert!(e.to_string().contains("ends inside <R>"), "{e}");
        let e = to_value(b"<R><A>1</B></R>").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax);
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            to_value(deep.as_bytes()).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        assert_eq!(to_value(b"  ").unwrap_err().kind, ParseErrorKind::Empty);
        assert!(to_value(b"<R>&bogus;</R>").is_err());
    }
}
