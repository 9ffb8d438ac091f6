//! Typed XML without a tree: a serde `Deserializer` over quick-xml's events, with names and
//! text borrowed from the body.
//!
//! It reads the same shape as [`super::xml::to_value`] followed by deserializing the `Value`:
//! an element with child elements is a map (text between them is layout), any other element is
//! its text, and an element repeated among its siblings is a list. Lists are where a stream
//! needs care, because whether `<Job>` is one item or the first of many is only known after it.
//! Fields read with `lenient::list` say they accept a list (through [`LIST`]); for them a short
//! look ahead, over the first item only in the common case, decides between the shapes the
//! lenient rule knows: repeated elements, one element, a wrapper around named items
//! (`<BackupJobs><BackupJob>…`), and an empty element.
//!
//! This is the fast path for typed answers, and it only ever succeeds on a body the tree path
//! would read to the same value and accept. Whenever a body is anything else (a syntax error, an
//! API error's `Code`, no `RequestId`, an element repeated apart from its siblings, a field of
//! the wrong shape, a document too deep), it gives up with [`Bail`] and the caller takes the
//! tree path, which produces the error with its full message. Giving up therefore costs
//! nothing in strictness and carries no message: serde's error text is never formatted here.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::xml::MAX_DEPTH;

/// The name `lenient::list` passes to `deserialize_newtype_struct` to say that the field
/// accepts a list. Other deserializers treat it as any newtype and read the value as it is.
pub(crate) const LIST: &str = "$rkvstore::list";

/// The fast path gave up; the body must go the tree path.
#[derive(Debug)]
pub(crate) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read on the fast path")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

/// Reads `body` as `T` when it is a plain success answer: a root element other than `Error`,
/// no top-level `Code` or `Error`, a top-level `RequestId` with text, well-formed to the end.
pub(crate) fn from_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Bail> {
    let mut de = Xml {
        reader: Reader::from_reader(body),
        body,
        peeked: None,
        depth: 0,
        seen: Vec::new(),
        name: b"",
        pos: 0,
        watch_request_id: false,
        request_id_ok: false,
    };
    de.reader.config_mut().expand_empty_elements = true;
    // Before the root: declarations, comments and blank text only.
    loop {
        let (event, pos) = de.next()?;
        match event {
            Event::Start(start) => {
                let name = de.name_at(pos, start.name().as_ref().len())?;
                if name == b"Error" {
                    return Err(Bail);
                }
                de.depth = 1;
                de.name = name;
                de.pos = pos;
                break;
            }
            Event::Text(text) => outside_root(&text.unescape().map_err(|_| Bail)?)?,
            Event::CData(data) => {
                std::str::from_utf8(&data).map_err(|_| Bail)?;
            }
            Event::End(_) | Event::Eof => return Err(Bail),
            _ => {}
        }
    }
    let value = T::deserialize(Element { de: &mut de })?;
    if !de.request_id_ok || de.depth != 0 {
        return Err(Bail);
    }
    // After the root: the same, to the end.
    loop {
        match de.next()?.0 {
            Event::Eof => return Ok(value),
            Event::Text(text) => outside_root(&text.unescape().map_err(|_| Bail)?)?,
            Event::CData(data) => {
                std::str::from_utf8(&data).map_err(|_| Bail)?;
            }
            Event::Start(_) | Event::End(_) => return Err(Bail),
            _ => {}
        }
    }
}

struct Xml<'de> {
    reader: Reader<&'de [u8]>,
    body: &'de [u8],
    /// An event read ahead, with the offset it starts at.
    peeked: Option<(Event<'de>, usize)>,
    /// Elements open.
    depth: usize,
    /// The names seen in each map read as a generic map, back to back, to refuse a name that
    /// comes back later (the tree makes it a list; a generic map would keep only the last).
    seen: Vec<&'de [u8]>,
    /// The element whose value is read next, and the offset of its start tag.
    name: &'de [u8],
    pos: usize,
    /// The element being read is the root's `RequestId`.
    watch_request_id: bool,
    /// The root's `RequestId` was text that is not blank.
    request_id_ok: bool,
}

impl<'de> Xml<'de> {
    fn next(&mut self) -> Result<(Event<'de>, usize), Bail> {
        if let Some(peeked) = self.peeked.take() {
            return Ok(peeked);
        }
        let pos = self.reader.buffer_position() as usize;
        let event = self.reader.read_event().map_err(|_| Bail)?;
        Ok((event, pos))
    }

    /// The name of the start tag at `pos`, borrowed from the body.
    fn name_at(&self, pos: usize, len: usize) -> Result<&'de [u8], Bail> {
        let body: &'de [u8] = self.body;
        match body.get(pos..) {
            Some([b'<', rest @ ..]) => rest.get(..len).ok_or(Bail),
            _ => Err(Bail),
        }
    }

    /// Takes a start tag: the element is open from now on.
    fn open(&mut self, pos: usize, len: usize) -> Result<&'de [u8], Bail> {
        if self.depth >= MAX_DEPTH {
            return Err(Bail);
        }
        let name = self.name_at(pos, len)?;
        self.depth += 1;
        self.name = name;
        self.pos = pos;
        Ok(name)
    }

    /// Reads the open element's content up to its first child (left unread) or its end:
    /// `Some(text)` for an element without children, `None` for one with them.
    fn content(&mut self) -> Result<Option<Cow<'de, str>>, Bail> {
        let mut text: Option<Cow<'de, str>> = None;
        loop {
            let (event, pos) = self.next()?;
            match event {
                Event::Text(t) => {
                    let piece = text_of(t.into_inner())?;
                    match &mut text {
                        None => text = Some(piece),
                        Some(t) => t.to_mut().push_str(&piece),
                    }
                }
                Event::CData(d) => append(&mut text, utf8(d.into_inner())?),
                Event::Start(_) => {
                    self.peeked = Some((event, pos));
                    return Ok(None);
                }
                Event::End(_) => {
                    self.depth -= 1;
                    let text = text.unwrap_or(Cow::Borrowed(""));
                    if self.watch_request_id && self.depth == 1 {
                        self.request_id_ok = !text.trim().is_empty();
                    }
                    return Ok(Some(text));
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
    }

    /// Reads the open element to its end, checking what it holds as the tree path would.
    fn skip(&mut self) -> Result<(), Bail> {
        let level = self.depth;
        let mut has_child = false;
        let mut has_text = false;
        while self.depth >= level {
            let (event, pos) = self.next()?;
            match event {
                Event::Start(start) => {
                    has_child |= self.depth == level;
                    self.open(pos, start.name().as_ref().len())?;
                }
                Event::End(_) => self.depth -= 1,
                Event::Text(t) => {
                    let text = t.unescape().map_err(|_| Bail)?;
                    has_text |= self.depth == level && !text.trim().is_empty();
                }
                Event::CData(d) => {
                    let text = utf8(d.into_inner())?;
                    has_text |= self.depth == level && !text.trim().is_empty();
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
        if self.watch_request_id && level == 2 {
            // Ignored or not, the root's RequestId must be what the tree sees: text.
            self.request_id_ok = has_text && !has_child;
        }
        Ok(())
    }

    /// The next sibling start tag if it is named `name` (taken), else `None` (left unread).
    /// Text and comments between siblings are layout and skipped.
    fn next_sibling_named(&mut self, name: &[u8]) -> Result<Option<usize>, Bail> {
        loop {
            let (event, pos) = self.next()?;
            match event {
                Event::Text(t) => {
                    t.unescape().map_err(|_| Bail)?;
                }
                Event::CData(d) => {
                    utf8(d.into_inner())?;
                }
                Event::Start(ref start) if start.name().as_ref() == name => {
                    let len = name.len();
                    self.open(pos, len)?;
                    return Ok(Some(pos));
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                _ => {
                    self.peeked = Some((event, pos));
                    return Ok(None);
                }
            }
        }
    }

    /// What the list whose first element starts at `pos` is, looking ahead with a second
    /// reader: over the first element only unless it holds a single kind of child.
    fn list_shape(&self, pos: usize, name: &[u8]) -> Result<ListShape, Bail> {
        let mut r = Reader::from_reader(self.body.get(pos..).ok_or(Bail)?);
        r.config_mut().expand_empty_elements = true;
        let mut depth = 0usize;
        let mut child: Option<Vec<u8>> = None;
        let mut children = 0usize;
        let mut nested = false;
        let mut blank = true;
        loop {
            match r.read_event().map_err(|_| Bail)? {
                Event::Start(start) => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Bail);
                    }
                    if depth == 2 {
                        let n = start.name();
                        match &child {
                            None => child = Some(n.as_ref().to_vec()),
                            // Two kinds of child: the element is an item, whatever follows.
                            Some(c) if c.as_slice() != n.as_ref() => return Ok(ListShape::Items),
                            Some(_) => {}
                        }
                        children += 1;
                    } else if depth == 3 {
                        nested = true;
                    }
                }
                Event::End(_) => {
                    depth = depth.checked_sub(1).ok_or(Bail)?;
                    if depth == 0 {
                        break;
                    }
                }
                Event::Text(t) if depth == 2 && children == 1 => {
                    blank &= t.unescape().map_err(|_| Bail)?.trim().is_empty();
                }
                Event::CData(d) if depth == 2 && children == 1 => {
                    blank &= utf8(d.into_inner())?.trim().is_empty();
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
        let repeated = loop {
            match r.read_event() {
                Ok(
                    Event::Text(_)
                    | Event::CData(_)
                    | Event::Comment(_)
                    | Event::PI(_)
                    | Event::Decl(_)
                    | Event::DocType(_),
                ) => {}
                Ok(Event::Start(start)) => break start.name().as_ref() == name,
                _ => break false,
            }
        };
        Ok(match child {
            _ if repeated => ListShape::Items,
            None => ListShape::Text,
            Some(_) if children > 1 || nested => ListShape::Wrapper,
            Some(_) if blank => ListShape::Empty,
            Some(_) => ListShape::Items,
        })
    }
}

/// How a list arrived (see `lenient::list`).
enum ListShape {
    /// The element and its like-named siblings are the items.
    Items,
    /// Text: empty for no items.
    Text,
    /// The element wraps the items, its children all of one name.
    Wrapper,
    /// The element wraps one child without content: no items.
    Empty,
}

/// Text outside the root element must be blank.
fn outside_root(text: &str) -> Result<(), Bail> {
    if text.trim().is_empty() {
        Ok(())
    } else {
        Err(Bail)
    }
}

/// The text of a text event: borrowed unless it holds a reference to unescape.
#[inline]
fn text_of(raw: Cow<'_, [u8]>) -> Result<Cow<'_, str>, Bail> {
    match raw {
        Cow::Borrowed(b) => {
            let s = std::str::from_utf8(b).map_err(|_| Bail)?;
            if b.contains(&b'&') {
                quick_xml::escape::unescape(s).map_err(|_| Bail)
            } else {
                Ok(Cow::Borrowed(s))
            }
        }
        Cow::Owned(b) => {
            let s = String::from_utf8(b).map_err(|_| Bail)?;
            match quick_xml::escape::unescape(&s).map_err(|_| Bail)? {
                Cow::Borrowed(_) => Ok(Cow::Owned(s)),
                Cow::Owned(u) => Ok(Cow::Owned(u)),
            }
        }
    }
}

fn utf8(bytes: Cow<'_, [u8]>) -> Result<Cow<'_, str>, Bail> {
    match bytes {
        Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed).map_err(|_| Bail),
        Cow::Owned(b) => String::from_utf8(b).map(Cow::Owned).map_err(|_| Bail),
    }
}

fn append<'de>(text: &mut Option<Cow<'de, str>>, more: Cow<'de, str>) {
    match text {
        None => *text = Some(more),
        Some(t) => t.to_mut().push_str(&more),
    }
}

/// The value of the open element whose start tag was just read.
struct Element<'a, 'de> {
    de: &'a mut Xml<'de>,
}

impl<'de> Element<'_, 'de> {
    fn any<V: Visitor<'de>>(self, visitor: V, generic: bool) -> Result<V::Value, Bail> {
        match self.de.content()? {
            Some(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Some(Cow::Owned(s)) => visitor.visit_string(s),
            None => {
                let start = self.de.seen.len();
                let value = visitor.visit_map(Children {
                    de: &mut *self.de,
                    generic,
                    start,
                });
                self.de.seen.truncate(start);
                value
            }
        }
    }
}

impl<'de> de::Deserializer<'de> for Element<'_, 'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.any(visitor, true)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        // A struct refuses a field that comes twice by itself.
        self.any(visitor, false)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Bail> {
        if name != LIST {
            return visitor.visit_newtype_struct(self);
        }
        let de = self.de;
        let (pos, element) = (de.pos, de.name);
        match de.list_shape(pos, element)? {
            ListShape::Items => visitor.visit_seq(Items {
                de,
                name: element,
                first: true,
            }),
            ListShape::Text => Element { de }.any(visitor, true),
            ListShape::Wrapper => visitor.visit_seq(Wrapped { de, done: false }),
            ListShape::Empty => {
                de.skip()?;
                visitor.visit_seq(
                    de::value::SeqDeserializer::<std::iter::Empty<()>, Bail>::new(
                        std::iter::empty(),
                    ),
                )
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        match self.de.content()? {
            Some(text) => visitor.visit_enum(text.into_owned().into_deserializer()),
            None => Err(Bail),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        let name = self.de.name;
        self.de.skip()?;
        // Siblings of the same name go with it, so that an unknown list is skipped whole.
        while self.de.next_sibling_named(name)?.is_some() {
            if self.de.watch_request_id {
                // Repeated, the root's RequestId is a list to the tree.
                return Err(Bail);
            }
            self.de.skip()?;
        }
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// The children of an open element, as a map from their names to their values.
struct Children<'a, 'de> {
    de: &'a mut Xml<'de>,
    /// Read by a generic map (not a struct): a name seen before is refused.
    generic: bool,
    /// Where this map's names start in `Xml::seen`.
    start: usize,
}

/// A generic map with more names than this is left to the tree path, which groups them in a
/// map; the check below is linear in the names seen so far.
const MAX_GENERIC_NAMES: usize = 128;

impl<'de> MapAccess<'de> for Children<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        loop {
            let (event, pos) = self.de.next()?;
            match event {
                Event::Start(start) => {
                    let name = self.de.open(pos, start.name().as_ref().len())?;
                    let top = self.de.depth == 2;
                    self.de.watch_request_id = top && name == b"RequestId";
                    if top && (name == b"Code" || name == b"Error") {
                        // An API error, or something shaped like one: the tree path decides.
                        return Err(Bail);
                    }
                    if self.generic {
                        let seen = self.de.seen.get(self.start..).unwrap_or_default();
                        if seen.len() >= MAX_GENERIC_NAMES || seen.contains(&name) {
                            return Err(Bail);
                        }
                        self.de.seen.push(name);
                    }
                    if !self.generic {
                        // A struct's field names match as bytes, with no UTF-8 check.
                        return seed
                            .deserialize(de::value::BorrowedBytesDeserializer::new(name))
                            .map(Some);
                    }
                    let key = std::str::from_utf8(name).map_err(|_| Bail)?;
                    return seed
                        .deserialize(de::value::BorrowedStrDeserializer::new(key))
                        .map(Some);
                }
                Event::End(_) => {
                    self.de.depth -= 1;
                    self.de.watch_request_id = false;
                    return Ok(None);
                }
                Event::Text(t) => {
                    t.unescape().map_err(|_| Bail)?;
                }
                Event::CData(d) => {
                    utf8(d.into_inner())?;
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        seed.deserialize(Element { de: &mut *self.de })
    }
}

/// A list given as the element and its like-named siblings.
struct Items<'a, 'de> {
    de: &'a mut Xml<'de>,
    name: &'de [u8],
    /// The first item's start tag is already read.
    first: bool,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if !std::mem::take(&mut self.first) && self.de.next_sibling_named(self.name)?.is_none() {
            return Ok(None);
        }
        self.de.watch_request_id = false;
        seed.deserialize(Element { de: &mut *self.de }).map(Some)
    }
}

/// A list given as the children of a wrapper element, all of one name.
struct Wrapped<'a, 'de> {
    de: &'a mut Xml<'de>,
    done: bool,
}

impl<'de> SeqAccess<'de> for Wrapped<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if self.done {
            return Ok(None);
        }
        loop {
            let (event, pos) = self.de.next()?;
            match event {
                Event::Start(start) => {
                    self.de.open(pos, start.name().as_ref().len())?;
                    self.de.watch_request_id = false;
                    return seed.deserialize(Element { de: &mut *self.de }).map(Some);
                }
                Event::End(_) => {
                    self.de.depth -= 1;
                    self.done = true;
                    return Ok(None);
                }
                Event::Text(t) => {
                    t.unescape().map_err(|_| Bail)?;
                }
                Event::CData(d) => {
                    utf8(d.into_inner())?;
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::response::{xml_paths_agree, Document};
    use crate::{
        DescribeBackupTasksResponse, DescribeBackupsResponse, DescribeInstanceAttributeResponse,
        DescribeInstancesResponse, DescribeRegionsResponse,
    };

    fn fast<T: crate::Shape + PartialEq + std::fmt::Debug>(body: &str) -> bool {
        xml_paths_agree::<T>(body.as_bytes())
    }

    const JOB: &str = "<JobMode>Manual</JobMode><BackupJobID>7</BackupJobID>\
                       <Process>1</Process>";

    #[test]
    fn plain_answers_take_the_event_path() {
        type Tasks = DescribeBackupTasksResponse;
        let r = |inner: &str| format!("<R><RequestId>Q</RequestId>{inner}</R>");
        // Repeated items, one item, a wrapper of many, of one, empty lists in every form.
        for inner in [
            format!("<BackupJobs>{JOB}</BackupJobs><BackupJobs>{JOB}</BackupJobs>"),
            format!("<BackupJobs>{JOB}</BackupJobs>"),
            format!(
                "<BackupJobs><BackupJob>{JOB}</BackupJob><BackupJob>{JOB}</BackupJob></BackupJobs>"
            ),
            format!("<BackupJobs><BackupJob>{JOB}</BackupJob></BackupJobs>"),
            "<BackupJobs/>".into(),
            "<BackupJobs>  </BackupJobs>".into(),
            "<BackupJobs><BackupJob/></BackupJobs>".into(),
            "<BackupJobs><BackupJob> </BackupJob></BackupJobs>".into(),
            String::new(),
            format!("<InstanceId>a &amp; <![CDATA[b]]></InstanceId><BackupJobs>{JOB}</BackupJobs>"),
            format!(
                "\n  <BackupJobs>\n {JOB}\n </BackupJobs>\n <Unknown><x>1</x></Unknown><Unknown/>"
            ),
        ] {
            assert!(fast::<Tasks>(&r(&inner)), "{inner}");
        }
        assert!(fast::<Tasks>(&format!(
            "<?xml version='1.0'?>\n<!-- c --><R>{JOB}<RequestId>Q</RequestId></R>\n"
        )));
        for body in [
            include_str!("../../tests/fixtures/describe-backup-tasks.xml"),
            include_str!("../../tests/fixtures/describe-backups.xml"),
            include_str!("../../tests/fixtures/describe-instance-attribute.xml"),
        ] {
            assert!(fast::<Tasks>(body) || !body.contains("BackupJobs"));
            fast::<DescribeBackupsResponse>(body);
            fast::<DescribeInstanceAttributeResponse>(body);
            fast::<DescribeInstancesResponse>(body);
            fast::<Document>(body);
        }
        assert!(fast::<DescribeBackupsResponse>(include_str!(
            "../../tests/fixtures/describe-backups.xml"
        )));
        assert!(fast::<DescribeInstanceAttributeResponse>(include_str!(
            "../../tests/fixtures/describe-instance-attribute.xml"
        )));
    }

    #[test]
    fn anything_else_takes_the_tree_path() {
        type Tasks = DescribeBackupTasksResponse;
        for body in [
            "<R><Code>Throttling</Code><RequestId>Q</RequestId></R>".to_owned(),
            "<R><Error><Code>X</Code></Error><RequestId>Q</RequestId></R>".into(),
            "<Error><RequestId>Q</RequestId></Error>".into(),
            "<R><RequestId> </RequestId></R>".into(),
            "<R><RequestId><a>1</a></RequestId></R>".into(),
            "<R><RequestId>Q</RequestId><RequestId>Q</RequestId></R>".into(),
            format!("<R><RequestId>Q</RequestId><BackupJobs>{JOB}</BackupJobs><X/><BackupJobs>{JOB}</BackupJobs></R>"),
            "<R><RequestId>Q</RequestId></R><R/>".into(),
            "<R><RequestId>Q</RequestId></R>tail".into(),
            "<R><RequestId>Q</RequestId>".into(),
            "<R><RequestId>Q &bogus;</RequestId></R>".into(),
            "<R><RequestId>Q</RequestId><X>&bogus;</X></R>".into(),
            format!("<R><RequestId>Q</RequestId>{}</R>", "<a>".repeat(70)),
            "<R><RequestId>Q</RequestId><BackupJobs>text</BackupJobs></R>".into(),
        ] {
            assert!(!fast::<Tasks>(&body), "{body}");
        }
        // Generic documents with a name repeated apart: the tree groups it.
        assert!(!fast::<Document>(
            "<R><RequestId>Q</RequestId><A>1</A><B/><A>2</A></R>"
        ));
        assert!(fast::<Document>(
            "<R><RequestId>Q</RequestId><A>1</A><B/></R>"
        ));
        assert!(fast::<DescribeRegionsResponse>(
            "<R><RequestId>Q</RequestId><RegionIds><KVStoreRegion><RegionId>a</RegionId>\
             </KVStoreRegion></RegionIds></R>"
        ));
    }
}
